"""Messages for refusals and failures. Each says what happened and what to do."""

from __future__ import annotations

from bot.views.text import context, fallback, scrub, section

INVITE_HINT = (
    "I'm not a member of this channel, so I can't start a thread or attach files here. "
    "Invite me with `/invite @Audience` and ask again."
)


def _message(text: str, *extra: str) -> dict:
    blocks = [section(text)]
    if extra:
        blocks.append(context(*extra))
    return {"text": fallback(text), "blocks": blocks}


def not_allowed() -> dict:
    return _message(
        ":no_entry: Sorry, you can't use Audience Discovery here.",
        "Ask a workspace admin to add you (or this channel) to the bot's ALLOWED_USERS / ALLOWED_CHANNELS.",
    )


def guest_refused() -> dict:
    return _message(":no_entry: Sorry, Audience Discovery is not available to guest accounts.")


def cannot_verify() -> dict:
    return _message(":warning: I couldn't check your Slack account just now, so I didn't run the question. Try again.")


def admins_only(command: str = "/audience ingest") -> dict:
    return _message(f":no_entry: `{command}` is for the bot's admins (ADMIN_USERS).")


def busy(limit: int) -> dict:
    plural = "question" if limit == 1 else "questions"
    return _message(
        f":hourglass_flowing_sand: You already have {limit} {plural} in progress. "
        "Ask again as soon as one of them is answered."
    )


def not_in_channel() -> dict:
    return _message(":wave: " + INVITE_HINT)


def no_data(text: str) -> dict:
    return _message(":card_index_dividers: " + scrub(text))


def unexpected(request_id: str) -> dict:
    return _message(
        ":warning: Sorry, something went wrong while answering. It has been logged; please try again.",
        f"request id `{request_id}`",
    )


def shutting_down() -> dict:
    return _message(":construction: I'm restarting; please ask again in a minute.")


def card_expired() -> dict:
    return _message("This answer is too old; ask the question again to get a fresh one.")


def ingest_requested(text: str) -> dict:
    return _message(":inbox_tray: " + text)  # our own text (may hold a <#channel> link)


def ingest_refused(text: str) -> dict:
    return _message(":hourglass: " + text)  # our own text (may hold a <#channel> link)
