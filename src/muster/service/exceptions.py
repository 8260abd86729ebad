"""Errors of the service layer; each maps to one HTTP status in the API's problem+json.

Hierarchy::

    MusterError                        (muster.core.exceptions)
    └── ServiceError                   base; ``status`` is the HTTP status it maps to
        ├── NotFoundError              (404) a spec, thread, run or key that does not exist
        ├── ConflictError              (409) the thread is busy (strategy "reject"), or a state
        │                              transition that is not allowed (cancel a finished run)
        ├── InvalidRequestError        (422) a body or parameter that does not fit, naming the field
        │   └── InvalidSpecError       a spec that does not load as a team or agent
        ├── AuthenticationError        (401) missing or unknown API key
        ├── OverloadedError            (429) queue past its limit or memory critical; ``retry_after``
        ├── PayloadTooLargeError       (413) body over ``security.max_body_bytes``
        └── StoreUnavailableError      (503) the database cannot be reached
            └── SchemaOutOfDateError   the database's schema is not this version's (``muster db upgrade``)
"""

from __future__ import annotations

from muster.core.exceptions import MusterError

__all__ = [
    "AuthenticationError",
    "ConflictError",
    "InvalidRequestError",
    "InvalidSpecError",
    "NotFoundError",
    "OverloadedError",
    "PayloadTooLargeError",
    "SchemaOutOfDateError",
    "ServiceError",
    "StoreUnavailableError",
]


class ServiceError(MusterError):
    """Base of the service's errors.

    Attributes:
        status: The HTTP status the API answers with.
        title: The problem+json ``title``.
        detail: What went wrong, for the client.
        field: The offending field of the request, when there is one.
    """

    status = 500
    title = "Service error"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        self.detail = detail
        self.field = field
        super().__init__(f"{field}: {detail}" if field else detail)


class NotFoundError(ServiceError):
    status = 404
    title = "Not found"

    def __init__(self, kind: str, ident: str) -> None:
        self.kind = kind
        self.ident = ident
        super().__init__(f"{kind} {ident!r} does not exist")


class ConflictError(ServiceError):
    status = 409
    title = "Conflict"


class InvalidRequestError(ServiceError):
    status = 422
    title = "Invalid request"


class InvalidSpecError(InvalidRequestError):
    title = "Invalid spec"


class AuthenticationError(ServiceError):
    status = 401
    title = "Unauthorized"


class OverloadedError(ServiceError):
    status = 429
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: float) -> None:
        self.retry_after = retry_after
        super().__init__(detail)


class PayloadTooLargeError(ServiceError):
    status = 413
    title = "Payload too large"


class StoreUnavailableError(ServiceError):
    status = 503
    title = "Database unavailable"


class SchemaOutOfDateError(StoreUnavailableError):
    """The database's schema revision is not the one this version of muster needs.

    Attributes:
        current: The database's Alembic revision (``None``: no muster tables yet).
        head: The revision this version needs.
    """

    def __init__(self, current: str | None, head: str) -> None:
        self.current = current
        self.head = head
        found = f"revision {current}" if current else "no muster schema"
        super().__init__(
            f"the database has {found}, this muster needs revision {head}: run `muster db upgrade`"
        )
