"""The progress ledger: the orchestrator model's structured verdict after every turn."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

__all__ = ["LedgerEntry", "LedgerEntryBooleanAnswer", "LedgerEntryStringAnswer", "parse_progress_ledger"]


class LedgerEntryBooleanAnswer(BaseModel):
    """A yes/no judgement and why."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    reason: str
    answer: bool


class LedgerEntryStringAnswer(BaseModel):
    """A free-text answer and why."""

    model_config = ConfigDict(defer_build=True)

    reason: str
    answer: str


class LedgerEntry(BaseModel):
    """The five answers of a progress ledger; also the structured-output schema sent to models that support it."""

    model_config = ConfigDict(defer_build=True)

    is_request_satisfied: LedgerEntryBooleanAnswer
    is_in_loop: LedgerEntryBooleanAnswer
    is_progress_being_made: LedgerEntryBooleanAnswer
    next_speaker: LedgerEntryStringAnswer
    instruction_or_question: LedgerEntryStringAnswer


_FENCE = re.compile(r"```[ \t]*([\w+-]*)[ \t]*\n(.*?)```", re.DOTALL)


def _json_objects(text: str) -> list[Any]:
    """The JSON values in ``text``: every fenced block, or else the whole text.

    Raises:
        ValueError: a fence names a language other than JSON, or a block is not JSON.
    """
    blocks = _FENCE.findall(text)
    if not blocks:
        return [json.loads(text)]
    values = []
    for language, body in blocks:
        if language and language.lower() != "json":
            raise ValueError(f"expected a JSON block, found a {language!r} block")
        values.append(json.loads(body))
    return values


def parse_progress_ledger(text: str, participant_names: Sequence[str]) -> LedgerEntry:
    """Read a progress ledger from the model's answer.

    With a single participant the model's choice of speaker is irrelevant, so it is
    overwritten (a model often leaves it empty in that case).

    Raises:
        ValueError: the answer is not exactly one JSON object of the ledger's shape, or it
            names a next speaker who is not a participant while the request is unsatisfied.
            The message says which, so it can be fed back to the model.
    """
    try:
        values = _json_objects(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at position {exc.pos})") from exc
    if len(values) != 1:
        raise ValueError(f"expected one JSON object, found {len(values)}")
    data = values[0]
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, found {type(data).__name__}")
    if len(participant_names) == 1:
        data["next_speaker"] = {"reason": "The team has a single member.", "answer": participant_names[0]}
    try:
        ledger = LedgerEntry.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ValueError(f"the object does not have the ledger's shape ({problems})") from exc
    if not ledger.is_request_satisfied.answer and ledger.next_speaker.answer not in participant_names:
        raise ValueError(
            f"next_speaker {ledger.next_speaker.answer!r} is not one of {', '.join(participant_names)}"
        )
    return ledger
