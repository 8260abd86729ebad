"""The store's schema revisions, oldest first (Alembic skips this file)."""

__all__: list[str] = []
