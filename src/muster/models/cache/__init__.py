"""Caching for model clients (AutoGen: ``autogen_ext.models.cache``).

Wrap any client in :class:`ChatCompletionCache` to answer repeated requests, streamed
or not, from a :class:`~muster.core.CacheStore` (stores live in ``muster.cache_store``).
"""

from ._chat_completion_cache import CHAT_CACHE_VALUE_TYPE, ChatCompletionCache, ChatCompletionCacheConfig

__all__ = ["CHAT_CACHE_VALUE_TYPE", "ChatCompletionCache", "ChatCompletionCacheConfig"]
