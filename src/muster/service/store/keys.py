"""API key secrets: generated, hashed and compared here, stored by the store.

A key's secret is ``mk_`` + ``secrets.token_urlsafe(32)`` (256 random bits). The store
keeps only its sha256 hex digest: a secret that random needs no slow hash (nobody can
guess it), and a fast one keeps the check on every request cheap. The first 8 characters
are kept in clear as the key's ``prefix`` so an operator can tell keys apart in
``muster keys list``; a lookup by prefix and a constant-time comparison of digests
(``hmac.compare_digest``) verify a presented key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING

from ..exceptions import ConflictError, InvalidRequestError

if TYPE_CHECKING:
    from ..settings import ServiceSettings
    from .base import Store

__all__ = [
    "ENV_KEY_NAME",
    "MIN_SECRET_LENGTH",
    "PREFIX_LENGTH",
    "SECRET_PREFIX",
    "check_secret",
    "digest_matches",
    "ensure_api_keys",
    "generate_secret",
    "hash_secret",
    "key_prefix",
]

SECRET_PREFIX = "mk_"
"""Marks muster keys (secret scanners can match on it)."""
PREFIX_LENGTH = 8
"""Characters of a secret kept in clear to tell keys apart."""
MIN_SECRET_LENGTH = 16
"""A shorter secret would be mostly given away by its listed prefix."""
ENV_KEY_NAME = "MUSTER_API_KEYS"
"""The name given to keys added from the configuration at start."""


def generate_secret() -> str:
    """A new random secret: ``mk_`` and 43 URL-safe characters."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """The sha256 hex digest the store keeps instead of the secret."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def key_prefix(secret: str) -> str:
    """The clear part of a secret shown in listings."""
    return secret[:PREFIX_LENGTH]


def digest_matches(secret: str, digest: str) -> bool:
    """Whether ``secret`` hashes to ``digest``, in constant time."""
    return hmac.compare_digest(hash_secret(secret).encode("ascii"), digest.encode("ascii"))


def check_secret(secret: str) -> str:
    """Return ``secret`` if it is long enough to be a key.

    Raises:
        InvalidRequestError: shorter than :data:`MIN_SECRET_LENGTH`, or blank around the edges.
    """
    if secret != secret.strip():
        raise InvalidRequestError("an API key may not start or end with whitespace", field="secret")
    if len(secret) < MIN_SECRET_LENGTH:
        raise InvalidRequestError(
            f"an API key needs at least {MIN_SECRET_LENGTH} characters, got {len(secret)}", field="secret"
        )
    return secret


async def ensure_api_keys(store: Store, settings: ServiceSettings) -> int:
    """Add the configured keys (``security.api_keys``, ``MUSTER_API_KEYS``) that are not stored yet.

    Idempotent: a key already stored, even revoked, is left alone, so restarting with the
    same environment adds nothing and never brings a revoked key back. Returns how many
    keys were added.

    Raises:
        InvalidRequestError: a configured key is too short (see :func:`check_secret`).
    """
    added = 0
    for configured in settings.security.api_keys:
        secret = check_secret(configured.get_secret_value())
        try:
            await store.create_api_key(ENV_KEY_NAME, secret)
        except ConflictError:
            continue
        added += 1
    return added
