"""Block Kit validation: what Slack would reject in blocks, messages and views.

``block_errors``/``message_errors``/``view_errors`` list every problem (the fake answers ``invalid_blocks`` /
``invalid_arguments`` with them); ``validate_blocks``/``validate_message``/``validate_view`` raise
``BlockKitError`` for tests that check a payload directly.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_TEXT_CHARS = 40_000


class BlockKitError(AssertionError):
    """Blocks, a message or a view that Slack would reject (``errors`` lists every problem found)."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__("invalid Block Kit:\n  " + "\n  ".join(self.errors))


def block_errors(blocks: Any, *, max_blocks: int, where: str = "blocks") -> list[str]:
    if blocks is None:
        return []
    if isinstance(blocks, str):
        try:
            blocks = json.loads(blocks)
        except ValueError as exc:
            return [f"{where}: not valid JSON ({exc})"]
    if not isinstance(blocks, list | tuple):
        return [f"{where}: must be a list, got {type(blocks).__name__}"]
    errors: list[str] = []
    if len(blocks) > max_blocks:
        errors.append(f"{where}: {len(blocks)} blocks, Slack allows at most {max_blocks}")
    for i, raw in enumerate(blocks):
        if not isinstance(raw, dict | Block):
            errors.append(f"{where}[{i}]: must be an object, got {type(raw).__name__}")
            continue
        kind = raw.get("type") if isinstance(raw, dict) else raw.type
        try:
            block = Block.parse(raw)
            if block is None:
                errors.append(f"{where}[{i}]: unknown block type {kind!r}")
                continue
            block.validate_json()
            block.to_dict()  # validates nested elements / text objects too
        except Exception as exc:  # SlackObjectFormationError, TypeError for bad keys, ...
            errors.append(f"{where}[{i}] ({kind}): {type(exc).__name__}: {exc}")
    return errors


def message_errors(args: Mapping[str, Any]) -> list[str]:
    errors: list[str] = []
    text = args.get("text")
    if isinstance(text, str) and len(text) > MAX_TEXT_CHARS:
        errors.append(f"text: {len(text)} characters, Slack allows at most {MAX_TEXT_CHARS}")
    errors += block_errors(args.get("blocks"), max_blocks=MAX_MESSAGE_BLOCKS)
    attachments = args.get("attachments")
    if isinstance(attachments, list):
        for i, attachment in enumerate(attachments):
            if isinstance(attachment, dict) and "blocks" in attachment:
                errors += block_errors(
                    attachment["blocks"], max_blocks=MAX_MESSAGE_BLOCKS, where=f"attachments[{i}].blocks"
                )
    elif attachments is not None:
        errors.append("attachments: must be a list")
    return errors


def view_errors(view: Any) -> list[str]:
    if isinstance(view, str):
        try:
            view = json.loads(view)
        except ValueError as exc:
            return [f"view: not valid JSON ({exc})"]
    if not isinstance(view, dict):
        return [f"view: must be an object, got {type(view).__name__}"]
    errors: list[str] = []
    if view.get("type") not in ("modal", "home", "workflow_step"):
        errors.append(f"view.type: must be modal, home or workflow_step, got {view.get('type')!r}")
    if view.get("type") == "modal" and not view.get("title"):
        errors.append("view.title: required for modals")
    if not view.get("blocks"):
        errors.append("view.blocks: at least one block is required")
    block_problems = block_errors(view.get("blocks"), max_blocks=MAX_VIEW_BLOCKS, where="view.blocks")
    errors += block_problems
    if not block_problems:  # View() re-parses the blocks; avoid reporting the same problem twice
        try:
            View(**view).validate_json()
        except Exception as exc:
            errors.append(f"view: {type(exc).__name__}: {exc}")
    return errors


def validate_blocks(
    blocks: Iterable[Mapping[str, Any] | Block], *, max_blocks: int = MAX_MESSAGE_BLOCKS
) -> list[Block]:
    """Parse every block with ``Block.parse`` and run ``validate_json()`` (recursively via ``to_dict()``).

    Raises ``BlockKitError`` on unknown block types, invalid blocks or more than ``max_blocks`` blocks
    (Slack: 50 per message, 100 per modal/Home tab). Returns the parsed blocks.
    """
    blocks = list(blocks)
    errors = block_errors(blocks, max_blocks=max_blocks)
    if errors:
        raise BlockKitError(errors)
    return [b for b in (Block.parse(raw) for raw in blocks) if b is not None]  # type: ignore[arg-type]


def validate_message(args: Mapping[str, Any]) -> None:
    """Validate a message payload (``text`` <= 40,000 chars, <= 50 valid ``blocks``, attachment blocks)."""
    errors = message_errors(args)
    if errors:
        raise BlockKitError(errors)


def validate_view(view: Mapping[str, Any]) -> None:
    """Validate a modal/Home view (``slack_sdk`` ``View`` rules, <= 100 valid blocks)."""
    errors = view_errors(dict(view))
    if errors:
        raise BlockKitError(errors)
