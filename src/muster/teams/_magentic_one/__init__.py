"""MagenticOneGroupChat and its ledger-driven orchestrator (AutoGen: ``autogen_agentchat.teams``)."""

from ._ledger import LedgerEntry, LedgerEntryBooleanAnswer, LedgerEntryStringAnswer, parse_progress_ledger
from ._magentic_one_group_chat import MagenticOneGroupChat, MagenticOneGroupChatConfig
from ._orchestrator import MAX_LEDGER_ATTEMPTS, MagenticOneOrchestrator
from ._prompts import FINAL_ANSWER_PROMPT
from .exceptions import LedgerError

__all__ = [
    "FINAL_ANSWER_PROMPT",
    "MAX_LEDGER_ATTEMPTS",
    "LedgerEntry",
    "LedgerEntryBooleanAnswer",
    "LedgerEntryStringAnswer",
    "LedgerError",
    "MagenticOneGroupChat",
    "MagenticOneGroupChatConfig",
    "MagenticOneOrchestrator",
    "parse_progress_ledger",
]
