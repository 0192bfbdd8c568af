"""What runs before (and around) every listener, as Bolt listener middleware, and the one error handler.

A listener's middleware list starts with a middleware that sets `context["reply"]` (a `Reply`: who
asked, where, and how to answer them privately), then takes what it needs of:

- `acknowledge`: ack at once (commands, buttons; events are acked by Bolt after the middleware).
- `once(key_of)`: each request is processed once (bot_event_dedupe); a redelivery is dropped.
- `allowed`: the access rules (bot.access); a refused user is told why, privately.

A middleware that stops the chain returns `handled()`: Bolt sends it as the ack and runs no listener.
`on_error` (registered with `app.error`) handles what any listener or middleware raises: logged with
a request id, and the user gets an apology carrying it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from slack_bolt import Ack, BoltContext, BoltResponse
from slack_sdk import WebClient

from bot.context import bot_of
from bot.slack_io import tell
from bot.views import errors
from discovery.service import new_request_id

log = logging.getLogger(__name__)

REPLY_KEY = "reply"

Middleware = Callable[..., BoltResponse | None]
KeyOf = Callable[[dict], list[str | None]]


@dataclass(frozen=True)
class Reply:
    """Who asked (`kind`: command, mention, dm, thread, click) and where to answer them privately."""

    kind: str
    user: str
    channel: str
    thread_ts: str | None = None
    response_url: str | None = None
    asked_in: str | None = None  # the channel whose access rules apply (default: `channel`)

    def tell(self, client: WebClient, message: dict) -> None:
        tell(client, self.user, self.channel, message, thread_ts=self.thread_ts, response_url=self.response_url)


def reply_of(context: BoltContext) -> Reply:
    return context[REPLY_KEY]


def handled() -> BoltResponse:
    """The response of a middleware that stops the chain: the request is acked, no listener runs."""
    return BoltResponse(status=200, body="")


def acknowledge(ack: Ack, next_: Callable[[], None]) -> None:
    """Ack before anything that may wait on the database or Slack (Slack wants it within 3 s)."""
    ack()
    next_()


def once(key_of: KeyOf) -> Middleware:
    """Process a request once: its keys (`key_of(body)`; None = nothing to deduplicate on) are claimed
    in bot_event_dedupe; a redelivery is logged and dropped."""

    def claim_once(body: dict, context: BoltContext, next_: Callable[[], None]) -> BoltResponse | None:
        keys = key_of(body)
        if not bot_of(context).store.claim(*keys):
            log.info("duplicate delivery ignored: %s", ", ".join(k for k in keys if k) or "no key")
            return handled()
        next_()
        return None

    return claim_once


def allowed(client: WebClient, context: BoltContext, next_: Callable[[], None]) -> BoltResponse | None:
    """The access rules: a refused user is told why (privately) and nothing else happens."""
    reply = reply_of(context)
    where = reply.asked_in or reply.channel
    refusal = bot_of(context).access.check(client, reply.user, where)
    if refusal is None:
        next_()
        return None
    log.info("%s refused for %s in %s (%s)", reply.kind, reply.user, where, refusal.value)
    reply.tell(client, errors.refused(refusal))
    return handled()


def on_error(error: Exception, body: dict, client: WebClient, context: BoltContext,
             response: BoltResponse | None) -> BoltResponse | None:  # fmt: skip
    """The one error handler: log with a request id, apologize to the user with it. The request counts
    as handled (acked: Slack does not redeliver it)."""
    rid = new_request_id()
    kind = body.get("command") or (body.get("event") or {}).get("type") or body.get("type")
    log.error("request %s: %s listener failed: %s", rid, kind, type(error).__name__, exc_info=error)
    reply = context.get(REPLY_KEY)
    if reply is not None:
        reply.tell(client, errors.unexpected(rid))
    return handled() if response is not None else None
