"""What Slack pushes over Socket Mode: slash commands, Events API callbacks and interactions, as real payloads.

``send_slash_command``, ``send_event``/``send_app_mention``/``send_app_home_opened``, ``send_interactive``/``send_block_action``/
``send_view_submission`` and ``retry_envelope`` each return the ``envelope_id``; ``wait_ack(envelope_id)``
gives the client's ``Ack`` (``payload``, ``latency``).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any

from tests.fakes.slack.records import JsonDict
from tests.fakes.slack.socket_mode import SocketMode

VERIFICATION_TOKEN = "fake-verification-token"


class Envelopes(SocketMode):
    """Builders of Slack's envelopes (a part of ``FakeSlackServer``, which holds the team, bot and app
    identities, ``new_ts``, ``new_trigger_id`` and ``response_url``)."""

    def _user_object(self, user_id: str) -> JsonDict:
        with self._cond:
            name = self._users.get(user_id, {}).get("name", user_id.lower())
        return {"id": user_id, "username": name, "name": name, "team_id": self.team_id}

    def send_slash_command(
        self,
        command: str = "/audience",
        text: str = "",
        *,
        user_id: str = "U_USER",
        channel_id: str = "C_TEST",
        channel_name: str | None = None,
        response_url: str | None = None,
        trigger_id: str | None = None,
        retry_attempt: int = 0,
        timeout: float = 5.0,
    ) -> str:
        """Push a ``slash_commands`` envelope (payload fields are strings, like Slack's form post). Without
        ``response_url`` a fresh ``fake.response_url(...)`` bound to the channel/user is used; without
        ``trigger_id`` a fresh one (valid ``trigger_ttl`` s). Returns the envelope_id."""
        if response_url is None:
            response_url = self.response_url(
                f"commands-{uuid.uuid4().hex[:12]}", channel_id=channel_id, user_id=user_id
            )
        payload = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "team_domain": self.team_domain,
            "channel_id": channel_id,
            "channel_name": channel_name or channel_id.lower(),
            "user_id": user_id,
            "user_name": self._user_object(user_id)["name"],
            "command": command,
            "text": text,
            "api_app_id": self.app_id,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id or self.new_trigger_id(),
        }
        extra = {"retry_attempt": retry_attempt, "retry_reason": "timeout"} if retry_attempt else {}
        return self._send_envelope("slash_commands", payload, accepts_response_payload=True, timeout=timeout, **extra)

    def send_event(
        self,
        event: Mapping[str, Any],
        event_id: str | None = None,
        retry_attempt: int = 0,
        retry_reason: str | None = None,
        *,
        event_time: int | None = None,
        timeout: float = 5.0,
    ) -> str:
        """Push an ``events_api`` envelope wrapping ``event`` in an ``event_callback`` payload. Reuse the
        ``event_id`` with ``retry_attempt>=1`` (``retry_reason`` defaults to ``"timeout"``) to simulate
        Slack's redelivery. ``event_ts`` is added when missing. Returns the envelope_id."""
        event = dict(event)
        event.setdefault("event_ts", event.get("ts") or self.new_ts())
        payload = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "context_team_id": self.team_id,
            "context_enterprise_id": None,
            "api_app_id": self.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": event_time or int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": self.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{uuid.uuid4().hex}",
        }
        if retry_reason is None:
            retry_reason = "timeout" if retry_attempt else ""
        return self._send_envelope(
            "events_api",
            payload,
            accepts_response_payload=False,
            timeout=timeout,
            retry_attempt=retry_attempt,
            retry_reason=retry_reason,
        )

    def send_app_mention(
        self,
        text: str,
        *,
        user_id: str = "U_USER",
        channel_id: str = "C_TEST",
        thread_ts: str | None = None,
        ts: str | None = None,
        event_id: str | None = None,
        timeout: float = 5.0,
    ) -> str:
        """``send_event`` with an ``app_mention`` event (put ``<@U_BOT>`` in ``text`` yourself)."""
        event: JsonDict = {
            "type": "app_mention",
            "user": user_id,
            "text": text,
            "ts": ts or self.new_ts(),
            "channel": channel_id,
            "team": self.team_id,
            "client_msg_id": str(uuid.uuid4()),
        }
        if thread_ts is not None:
            event["thread_ts"] = thread_ts
        return self.send_event(event, event_id, timeout=timeout)

    def send_app_home_opened(
        self, *, user_id: str = "U_USER", tab: str = "home", channel_id: str | None = None, timeout: float = 5.0
    ) -> str:
        """``send_event`` with an ``app_home_opened`` event (the user opened the app's Home or Messages
        tab; ``channel`` is the user's DM with the app, ``view`` the published Home view if any)."""
        with self._cond:
            view = self._views.get(f"VH_{user_id}")
        event: JsonDict = {
            "type": "app_home_opened",
            "user": user_id,
            "channel": channel_id or f"D_{user_id}",
            "tab": tab,
            "event_ts": self.new_ts(),
        }
        if view is not None and tab == "home":
            event["view"] = dict(view)
        return self.send_event(event, timeout=timeout)

    def retry_envelope(self, envelope_id: str, retry_reason: str = "timeout", *, timeout: float = 5.0) -> str:
        """Redeliver an earlier envelope as Slack does: same payload, new envelope_id,
        ``retry_attempt`` + 1 and ``retry_reason``. Returns the new envelope_id."""
        with self._cond:
            old = self._envelopes[envelope_id].body
        extra = {
            k: v for k, v in old.items() if k not in ("envelope_id", "payload", "type", "accepts_response_payload")
        }
        extra["retry_attempt"] = int(old.get("retry_attempt") or 0) + 1
        extra["retry_reason"] = retry_reason
        return self._send_envelope(
            old["type"],
            old["payload"],
            accepts_response_payload=old.get("accepts_response_payload", False),
            timeout=timeout,
            **extra,
        )

    def send_interactive(self, payload: Mapping[str, Any], *, timeout: float = 5.0) -> str:
        """Push an ``interactive`` envelope (block_actions, view_submission, shortcut, ...). Missing
        ``token``/``api_app_id``/``team``/``trigger_id`` are filled in; a ``block_actions`` payload without
        ``response_url`` gets one bound to its channel. Returns the envelope_id."""
        payload = dict(payload)
        kind = payload.get("type")
        payload.setdefault("token", VERIFICATION_TOKEN)
        payload.setdefault("api_app_id", self.app_id)
        payload.setdefault("team", {"id": self.team_id, "domain": self.team_domain})
        payload.setdefault("enterprise", None)
        payload.setdefault("is_enterprise_install", False)
        if kind in ("block_actions", "view_submission", "shortcut", "message_action"):
            payload.setdefault("trigger_id", self.new_trigger_id())
        if kind == "block_actions" and "response_url" not in payload:
            channel = (payload.get("channel") or {}).get("id") or (payload.get("container") or {}).get("channel_id")
            if channel:
                user = (payload.get("user") or {}).get("id")
                payload["response_url"] = self.response_url(
                    f"actions-{uuid.uuid4().hex[:12]}", channel_id=channel, user_id=user
                )
        accepts = kind in ("view_submission", "block_suggestion")
        return self._send_envelope("interactive", payload, accepts_response_payload=accepts, timeout=timeout)

    def send_block_action(
        self,
        action_id: str,
        value: str | None = None,
        *,
        block_id: str = "actions",
        action_type: str = "button",
        user_id: str = "U_USER",
        channel_id: str = "C_TEST",
        message_ts: str | None = None,
        message: Mapping[str, Any] | None = None,
        action: Mapping[str, Any] | None = None,
        timeout: float = 5.0,
    ) -> str:
        """A realistic ``block_actions`` payload for a click on a message button (override parts of the action
        with ``action``, e.g. ``{"selected_option": ...}``). Returns the envelope_id."""
        message_ts = message_ts or (message or {}).get("ts") or self.new_ts()
        act: JsonDict = {"type": action_type, "action_id": action_id, "block_id": block_id, "action_ts": self.new_ts()}
        if value is not None:
            act["value"] = value
        if action_type == "button":
            act["text"] = {"type": "plain_text", "text": value or action_id, "emoji": True}
        act.update(action or {})
        payload = {
            "type": "block_actions",
            "user": self._user_object(user_id),
            "container": {"type": "message", "message_ts": message_ts, "channel_id": channel_id, "is_ephemeral": False},
            "channel": {"id": channel_id, "name": channel_id.lower()},
            "message": dict(message)
            if message is not None
            else {"type": "message", "ts": message_ts, "user": self.bot_user_id, "bot_id": self.bot_id, "text": ""},
            "state": {"values": {}},
            "actions": [act],
        }
        return self.send_interactive(payload, timeout=timeout)

    def send_view_submission(
        self,
        callback_id: str,
        values: Mapping[str, Any] | None = None,
        *,
        user_id: str = "U_USER",
        private_metadata: str = "",
        view_id: str | None = None,
        blocks: list[JsonDict] | None = None,
        timeout: float = 5.0,
    ) -> str:
        """A ``view_submission`` payload; ``values`` is ``view.state.values``
        (``{block_id: {action_id: {"type": "plain_text_input", "value": "..."}}}``). Returns the envelope_id."""
        view_id = view_id or f"V{uuid.uuid4().hex[:10].upper()}"
        payload = {
            "type": "view_submission",
            "user": self._user_object(user_id),
            "view": {
                "id": view_id,
                "team_id": self.team_id,
                "type": "modal",
                "blocks": blocks or [],
                "private_metadata": private_metadata,
                "callback_id": callback_id,
                "state": {"values": dict(values or {})},
                "hash": uuid.uuid4().hex[:16],
                "title": {"type": "plain_text", "text": "Modal"},
                "clear_on_close": False,
                "notify_on_close": False,
                "close": None,
                "submit": None,
                "previous_view_id": None,
                "root_view_id": view_id,
                "app_id": self.app_id,
                "external_id": "",
                "app_installed_team_id": self.team_id,
                "bot_id": self.bot_id,
            },
            "response_urls": [],
        }
        return self.send_interactive(payload, timeout=timeout)
