"""Reading secrets out of loaded configs without ever writing them back."""

from __future__ import annotations

from pydantic import SecretStr

__all__ = ["MASKED_SECRET", "reveal"]

MASKED_SECRET = "**********"
"""What pydantic prints for a SecretStr; AutoGen specs contain it in place of the key."""


def reveal(secret: SecretStr | str | None) -> str | None:
    """The secret's value, or ``None`` if absent or only a mask (so the env var applies)."""
    if secret is None:
        return None
    value = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
    if not value or value == MASKED_SECRET:
        return None
    return value
