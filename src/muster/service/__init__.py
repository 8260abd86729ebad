"""The production service: ``muster serve`` (FastAPI) and ``muster worker`` (extra ``server``).

Layers: this package imports the framework's public API (and the turn hook); the
framework never imports it. See docs/service.md.
"""

__all__: list[str] = []
