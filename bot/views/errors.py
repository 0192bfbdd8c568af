"""Messages for refusals and failures (each says what happened and what to do), and the thanks for feedback."""

from __future__ import annotations

from bot.access import Refusal
from bot.views.text import message, scrub

INVITE_HINT = (
    "I'm not a member of this channel, so I can't start a thread or attach files here. "
    "Invite me with `/invite @Audience` and ask again."
)


def not_allowed() -> dict:
    return message(
        ":no_entry: Sorry, you can't use Audience Discovery here.",
        "Ask a workspace admin to add you (or this channel) to the bot's ALLOWED_USERS / ALLOWED_CHANNELS.",
    )


def refused(refusal: Refusal) -> dict:
    """Why a user may not ask (the access rules' refusal)."""
    if refusal is Refusal.GUEST:
        return guest_refused()
    if refusal is Refusal.UNVERIFIED:
        return cannot_verify()
    return not_allowed()


def guest_refused() -> dict:
    return message(":no_entry: Sorry, Audience Discovery is not available to guest accounts.")


def cannot_verify() -> dict:
    return message(":warning: I couldn't check your Slack account just now, so I didn't run the question. Try again.")


def admins_only(command: str = "/audience ingest") -> dict:
    return message(f":no_entry: `{command}` is for the bot's admins (ADMIN_USERS).")


def busy(limit: int) -> dict:
    plural = "question" if limit == 1 else "questions"
    return message(
        f":hourglass_flowing_sand: You already have {limit} {plural} in progress. "
        "Ask again as soon as one of them is answered."
    )


def not_in_channel() -> dict:
    return message(":wave: " + INVITE_HINT)


def no_data(text: str) -> dict:
    return message(":card_index_dividers: " + scrub(text))


def unexpected(request_id: str) -> dict:
    return message(
        ":warning: Sorry, something went wrong while answering. It has been logged; please try again.",
        f"request id `{request_id}`",
    )


def shutting_down() -> dict:
    return message(":construction: I'm restarting; please ask again in a minute.")


def no_lookalike_seeds() -> dict:
    return message("This answer has no customers to find more like; ask for a segment first.")


def card_expired() -> dict:
    return message("This answer is too old; ask the question again to get a fresh one.")


def ingest_requested(text: str) -> dict:
    return message(":inbox_tray: " + text)  # our own text (may hold a <#channel> link)


def ingest_refused(text: str) -> dict:
    return message(":hourglass: " + text)  # our own text (may hold a <#channel> link)


def feedback_thanks(rating: int) -> dict:
    """The answer to a 👍 (rating > 0) or 👎 on a card."""
    thanks = (
        "Thanks! Noted 👍" if rating > 0 else "Thanks — noted 👎. Replying in the thread with what was wrong helps too."
    )
    return message(thanks, "Feedback is kept with the question and its recipe.")
