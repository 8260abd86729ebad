"""One router per resource: specs, threads, runs, health, openai (chat completions)."""

from . import health, openai, runs, specs, threads

__all__ = ["health", "openai", "runs", "specs", "threads"]
