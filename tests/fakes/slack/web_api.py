"""The Web API methods the fake answers, each a handler ``(args, token) -> response fields``.

``auth.test``, ``apps.connections.open`` (needs an ``xapp-`` token), ``chat.postMessage``, ``chat.update``,
``chat.postEphemeral``, ``chat.delete``, ``chat.getPermalink``, ``views.open|push|update|publish``,
``users.info``, ``conversations.info|join|open``, ``reactions.add|remove``, ``files.getUploadURLExternal``,
``files.completeUploadExternal``. A handler raises ``ApiError`` for Slack's ``{"ok": false, "error": ...}``;
invalid Block Kit is answered ``invalid_blocks`` (messages) / ``invalid_arguments`` (views), as Slack does.
Handlers run with the lock held.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from tests.fakes.slack.blockkit import MAX_TEXT_CHARS, message_errors, view_errors
from tests.fakes.slack.records import JsonDict, Message, Records, UploadedFile

Handler = Callable[[JsonDict, str | None], JsonDict]


class ApiError(Exception):
    def __init__(self, error: str, **extra: Any):
        super().__init__(error)
        self.error = error
        self.extra = extra


class WebApi(Records):
    """The built-in Web API methods (a part of ``FakeSlackServer``, which holds the team, bot and app
    identities, the users, channels, pending uploads and ``new_ts``)."""

    def _builtin_methods(self) -> dict[str, Handler]:
        return {
            "auth.test": self._auth_test,
            "apps.connections.open": self._apps_connections_open,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.delete": self._chat_delete,
            "chat.getPermalink": self._chat_get_permalink,
            "views.open": self._views_open,
            "views.push": self._views_open,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "users.info": self._users_info,
            "conversations.info": self._conversations_info,
            "conversations.join": self._conversations_join,
            "conversations.open": self._conversations_open,
            "reactions.add": self._reactions,
            "reactions.remove": self._reactions,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
        }

    def _next_id(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}{self._counter:08d}"

    def _channel_object(
        self, channel_id: str, *, name: str | None = None, is_private: bool | None = None, is_im: bool | None = None
    ) -> JsonDict:
        is_im = channel_id.startswith("D") if is_im is None else is_im
        is_private = channel_id.startswith("G") if is_private is None else is_private
        name = name or channel_id.lower()
        return {
            "id": channel_id,
            "name": name,
            "name_normalized": name,
            "is_channel": not is_im and not is_private,
            "is_group": is_private and not is_im,
            "is_im": is_im,
            "is_mpim": False,
            "is_private": is_private or is_im,
            "is_archived": False,
            "is_general": False,
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "context_team_id": self.team_id,
            "created": 1_600_000_000,
            "creator": "U_USER",
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
        }

    def _require(self, args: JsonDict, key: str, error: str = "invalid_arguments") -> Any:
        value = args.get(key)
        if value in (None, ""):
            raise ApiError(error, response_metadata={"messages": [f"[ERROR] missing required field: {key}"]})
        return value

    def _check_member(self, channel: str) -> None:
        if channel in self._not_in_channel:
            raise ApiError("not_in_channel")

    def _check_message_content(self, args: JsonDict) -> None:
        if isinstance(args.get("blocks"), str):
            raise ApiError("invalid_blocks_format")
        if isinstance(args.get("attachments"), str):
            raise ApiError("invalid_attachments")
        text = args.get("text")
        if isinstance(text, str) and len(text) > MAX_TEXT_CHARS:
            raise ApiError("msg_too_long")
        if self.reject_invalid_blocks:
            problems = message_errors(args)
            if problems:
                raise ApiError(
                    "invalid_blocks",
                    errors=problems,
                    response_metadata={"messages": [f"[ERROR] {p}" for p in problems]},
                )

    def _message_object(self, args: JsonDict, ts: str) -> JsonDict:
        message: JsonDict = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "text": args.get("text") or "",
            "ts": ts,
            "bot_profile": {"id": self.bot_id, "app_id": self.app_id, "name": self.bot_name, "team_id": self.team_id},
        }
        for key in ("blocks", "attachments", "thread_ts", "metadata"):
            if args.get(key) is not None:
                message[key] = args[key]
        return message

    def _add_message(self, kind: str, channel: str, ts: str | None, args: JsonDict, *, user: str | None = None) -> None:
        self._messages.append(
            Message(
                kind=kind,
                channel=channel,
                ts=ts,
                text=args.get("text"),
                blocks=args.get("blocks"),
                attachments=args.get("attachments"),
                thread_ts=args.get("thread_ts"),
                user=user,
                args=args,
                time=time.monotonic(),
            )
        )

    def _auth_test(self, args: JsonDict, token: str | None) -> JsonDict:
        return {
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team_name,
            "user": self.bot_name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _apps_connections_open(self, args: JsonDict, token: str | None) -> JsonDict:
        ticket = uuid.uuid4().hex
        self._tickets.add(ticket)
        return {"url": f"ws://127.0.0.1:{self.port}/socket?ticket={ticket}&app_id={self.app_id}"}

    def _chat_post_message(self, args: JsonDict, token: str | None) -> JsonDict:
        channel = self._require(args, "channel", "channel_not_found")
        self._check_member(channel)
        if not (args.get("text") or args.get("blocks") or args.get("attachments")):
            raise ApiError("no_text")
        self._check_message_content(args)
        ts = self.new_ts()
        message = self._message_object(args, ts)
        self._history[channel][ts] = message
        self._add_message("chat.postMessage", channel, ts, args)
        return {"channel": channel, "ts": ts, "message": message}

    def _chat_update(self, args: JsonDict, token: str | None) -> JsonDict:
        channel = self._require(args, "channel", "channel_not_found")
        ts = self._require(args, "ts", "message_not_found")
        existing = self._history.get(channel, {}).get(ts)
        if existing is None:
            raise ApiError("message_not_found")
        self._check_message_content(args)
        for key in ("text", "blocks", "attachments", "metadata"):
            if key in args:
                existing[key] = args[key]
        existing["edited"] = {"user": self.bot_user_id, "ts": self.new_ts()}
        self._add_message("chat.update", channel, ts, args)
        return {"channel": channel, "ts": ts, "text": existing.get("text", ""), "message": dict(existing)}

    def _chat_post_ephemeral(self, args: JsonDict, token: str | None) -> JsonDict:
        channel = self._require(args, "channel", "channel_not_found")
        user = self._require(args, "user", "user_not_found")
        self._check_member(channel)
        if not (args.get("text") or args.get("blocks") or args.get("attachments")):
            raise ApiError("no_text")
        self._check_message_content(args)
        ts = self.new_ts()
        self._add_message("chat.postEphemeral", channel, ts, args, user=user)
        return {"message_ts": ts}

    def _chat_delete(self, args: JsonDict, token: str | None) -> JsonDict:
        channel = self._require(args, "channel", "channel_not_found")
        ts = self._require(args, "ts", "message_not_found")
        if self._history.get(channel, {}).pop(ts, None) is None:
            raise ApiError("message_not_found")
        return {"channel": channel, "ts": ts}

    def _chat_get_permalink(self, args: JsonDict, token: str | None) -> JsonDict:
        channel = self._require(args, "channel", "channel_not_found")
        ts = self._require(args, "message_ts", "message_not_found")
        return {
            "channel": channel,
            "permalink": f"https://{self.team_domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}",
        }

    def _store_view(self, view: Any, *, view_id: str | None = None) -> JsonDict:
        if isinstance(view, str) or not isinstance(view, dict):
            raise ApiError("invalid_arguments", response_metadata={"messages": ["[ERROR] view must be a JSON object"]})
        problems = view_errors(view)
        if problems and self.reject_invalid_blocks:
            raise ApiError(
                "invalid_arguments", errors=problems, response_metadata={"messages": [f"[ERROR] {p}" for p in problems]}
            )
        view_id = view_id or self._next_id("V")
        stored = {
            **view,
            "id": view_id,
            "team_id": self.team_id,
            "app_id": self.app_id,
            "bot_id": self.bot_id,
            "hash": uuid.uuid4().hex[:16],
            "state": {"values": {}},
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "external_id": view.get("external_id", ""),
        }
        self._views[view_id] = stored
        return stored

    def _views_open(self, args: JsonDict, token: str | None) -> JsonDict:
        trigger_id = self._require(args, "trigger_id")
        issued = self._triggers.get(trigger_id)
        if issued is not None:
            if trigger_id in self._used_triggers:
                raise ApiError("exchanged_trigger_id")
            if self.trigger_ttl is not None and time.monotonic() - issued > self.trigger_ttl:
                raise ApiError("expired_trigger_id")
        view = self._require(args, "view")
        stored = self._store_view(view)
        if issued is not None:
            self._used_triggers.add(trigger_id)
        return {"view": stored}

    def _views_update(self, args: JsonDict, token: str | None) -> JsonDict:
        view_id = args.get("view_id")
        if not view_id and args.get("external_id"):
            view_id = next((k for k, v in self._views.items() if v.get("external_id") == args["external_id"]), None)
        if not view_id or view_id not in self._views:
            raise ApiError("not_found")
        return {"view": self._store_view(self._require(args, "view"), view_id=view_id)}

    def _views_publish(self, args: JsonDict, token: str | None) -> JsonDict:
        user_id = self._require(args, "user_id")
        if user_id not in self._users:
            raise ApiError("user_not_found")
        return {"view": self._store_view(self._require(args, "view"), view_id=f"VH_{user_id}")}

    def _users_info(self, args: JsonDict, token: str | None) -> JsonDict:
        user = self._users.get(self._require(args, "user", "user_not_found"))
        if user is None:
            raise ApiError("user_not_found")
        return {"user": json.loads(json.dumps(user))}

    def _conversations_info(self, args: JsonDict, token: str | None) -> JsonDict:
        channel_id = self._require(args, "channel", "channel_not_found")
        channel = dict(self._channels.get(channel_id) or self._channel_object(channel_id))
        channel["is_member"] = channel_id not in self._not_in_channel
        return {"channel": channel}

    def _conversations_join(self, args: JsonDict, token: str | None) -> JsonDict:
        channel_id = self._require(args, "channel", "channel_not_found")
        self._not_in_channel.discard(channel_id)
        channel = dict(self._channels.get(channel_id) or self._channel_object(channel_id))
        channel["is_member"] = True
        return {"channel": channel}

    def _conversations_open(self, args: JsonDict, token: str | None) -> JsonDict:
        if args.get("channel"):
            return {"channel": {"id": args["channel"]}}
        users = self._require(args, "users", "users_list_not_supplied")
        users = users if isinstance(users, str) else ",".join(users)
        return {"channel": {"id": "D_" + users.replace(",", "_")}}

    def _reactions(self, args: JsonDict, token: str | None) -> JsonDict:
        self._require(args, "channel", "channel_not_found")
        self._require(args, "name", "invalid_name")
        self._require(args, "timestamp", "message_not_found")
        return {}

    def _files_get_upload_url(self, args: JsonDict, token: str | None) -> JsonDict:
        filename = self._require(args, "filename")
        length = self._require(args, "length")
        try:
            length = int(length)
        except (TypeError, ValueError):
            raise ApiError("invalid_arguments") from None
        file_id = self._next_id("F")
        self._pending_uploads[file_id] = {
            "filename": filename,
            "length": length,
            "alt_txt": args.get("alt_txt"),
            "snippet_type": args.get("snippet_type"),
            "content": None,
        }
        return {"upload_url": f"{self.base_url}/upload/v1/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, args: JsonDict, token: str | None) -> JsonDict:
        files = self._require(args, "files")
        if not isinstance(files, list) or not files:
            raise ApiError("invalid_arguments")
        channels = args.get("channels") or []
        if isinstance(channels, str):
            channels = [c for c in channels.split(",") if c]
        channel = args.get("channel_id") or (channels[0] if channels else None)
        for target in ([channel] if channel else []) + list(channels):
            self._check_member(target)
        for item in files:
            if not isinstance(item, dict) or item.get("id") not in self._pending_uploads:
                raise ApiError("file_not_found")
        now = time.monotonic()
        answered = []
        for item in files:
            pending = self._pending_uploads.pop(item["id"])
            content = pending["content"] if pending["content"] is not None else b""
            title = item.get("title") or pending["filename"]
            self._files.append(
                UploadedFile(
                    id=item["id"],
                    name=pending["filename"],
                    title=title,
                    content=content,
                    channel=channel,
                    channels=list(channels) or ([channel] if channel else []),
                    thread_ts=args.get("thread_ts"),
                    initial_comment=args.get("initial_comment"),
                    length=pending["length"],
                    alt_txt=pending["alt_txt"],
                    snippet_type=pending["snippet_type"],
                    time=now,
                )
            )
            answered.append(
                {
                    "id": item["id"],
                    "created": int(time.time()),
                    "timestamp": int(time.time()),
                    "name": pending["filename"],
                    "title": title,
                    "mimetype": "application/octet-stream",
                    "filetype": "binary",
                    "user": self.bot_user_id,
                    "size": len(content),
                    "is_public": channel is not None,
                    "url_private": f"{self.base_url}/files/{item['id']}",
                }
            )
        return {"files": answered}
