"""Model contexts: what part of a conversation an agent sends its model (AutoGen: ``autogen_core.model_context``).

Every context stores all messages added to it; they differ in the view
:meth:`~ChatCompletionContext.get_messages` returns: everything
(:class:`UnboundedChatCompletionContext`), the last ``n``
(:class:`BufferedChatCompletionContext`), the first and last few
(:class:`HeadAndTailChatCompletionContext`) or what fits a token budget
(:class:`TokenLimitedChatCompletionContext`).
"""

from typing import TYPE_CHECKING

from muster.core.internal import lazy_exports

if TYPE_CHECKING:
    from ._buffered import BufferedChatCompletionContext, BufferedChatCompletionContextConfig
    from ._chat_completion_context import ChatCompletionContext, UnboundedChatCompletionContext
    from ._head_and_tail import HeadAndTailChatCompletionContext, HeadAndTailChatCompletionContextConfig
    from ._state import ChatCompletionContextState
    from ._token_limited import TokenLimitedChatCompletionContext, TokenLimitedChatCompletionContextConfig
    from ._unbounded_config import UnboundedChatCompletionContextConfig

__all__ = [
    "BufferedChatCompletionContext",
    "BufferedChatCompletionContextConfig",
    "ChatCompletionContext",
    "ChatCompletionContextState",
    "HeadAndTailChatCompletionContext",
    "HeadAndTailChatCompletionContextConfig",
    "TokenLimitedChatCompletionContext",
    "TokenLimitedChatCompletionContextConfig",
    "UnboundedChatCompletionContext",
    "UnboundedChatCompletionContextConfig",
]

_EXPORTS = {
    "BufferedChatCompletionContext": "._buffered",
    "BufferedChatCompletionContextConfig": "._buffered",
    "ChatCompletionContext": "._chat_completion_context",
    "ChatCompletionContextState": "._state",
    "HeadAndTailChatCompletionContext": "._head_and_tail",
    "HeadAndTailChatCompletionContextConfig": "._head_and_tail",
    "TokenLimitedChatCompletionContext": "._token_limited",
    "TokenLimitedChatCompletionContextConfig": "._token_limited",
    "UnboundedChatCompletionContext": "._chat_completion_context",
    "UnboundedChatCompletionContextConfig": "._unbounded_config",
}
"""Public name -> sub-module that defines it; imported on first access (see ``muster.core.internal``)."""

if not TYPE_CHECKING:  # hidden from mypy, which sees the imports above; a typo stays an error
    __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
