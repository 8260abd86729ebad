"""Alembic environment and revisions of the store's schema (run by :mod:`muster.service.store.migrate`)."""

__all__: list[str] = []
