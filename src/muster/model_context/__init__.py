"""Model contexts: what part of a conversation an agent sends its model (AutoGen: ``autogen_core.model_context``).

Every context stores all messages added to it; they differ in the view
:meth:`~ChatCompletionContext.get_messages` returns: everything
(:class:`UnboundedChatCompletionContext`), the last ``n``
(:class:`BufferedChatCompletionContext`), the first and last few
(:class:`HeadAndTailChatCompletionContext`) or what fits a token budget
(:class:`TokenLimitedChatCompletionContext`).
"""

from ._buffered import BufferedChatCompletionContext, BufferedChatCompletionContextConfig
from ._chat_completion_context import ChatCompletionContext, ChatCompletionContextState
from ._head_and_tail import HeadAndTailChatCompletionContext, HeadAndTailChatCompletionContextConfig
from ._token_limited import TokenLimitedChatCompletionContext, TokenLimitedChatCompletionContextConfig
from ._unbounded import UnboundedChatCompletionContext, UnboundedChatCompletionContextConfig

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
