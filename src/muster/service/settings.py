"""Service configuration: the seed's ``app.yaml`` shape, overridable by environment variables.

Sources, later ones winning: the defaults below, a YAML or JSON file (``muster serve
--config app.yaml``, or ``MUSTER_CONFIG``), then environment variables named
``MUSTER_<SECTION>__<FIELD>`` (``MUSTER_AGENTS__MAX_CONCURRENT=20``,
``MUSTER_DATABASE__URL=postgresql://...``). A few well-known variables are honoured as
well: ``DATABASE_URL``, ``REDIS_URL`` and ``MUSTER_API_KEYS`` (comma-separated keys added
at start). ``muster config check FILE`` validates a file and prints the effective
configuration with secrets masked.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

__all__ = [
    "AgentsSettings",
    "CacheSettings",
    "DatabaseSettings",
    "LoggingSettings",
    "MemorySettings",
    "MonitoringSettings",
    "RedisSettings",
    "SecuritySettings",
    "ServerSettings",
    "ServiceSettings",
    "TracingSettings",
    "WorkerSettings",
    "load_settings",
]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServerSettings(_Section):
    """Where and how the HTTP server listens."""

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    """uvicorn worker processes (each runs its own executor on SQLite: keep 1 there)."""
    drain_seconds: float = Field(default=30.0, ge=0)
    """On SIGTERM: stop taking runs, then finish or checkpoint-and-release within this grace."""


class LoggingSettings(_Section):
    """Log level and format (``json``: one JSON object per line, see docs/logging.md)."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    format: Literal["json", "text"] = "json"

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class CacheSettings(_Section):
    """The model response cache shared by the service's runs."""

    type: Literal["none", "memory", "redis"] = "memory"
    ttl: int = Field(default=3600, ge=0)
    """Seconds a cached model response lives (0: no expiry)."""


class MonitoringSettings(_Section):
    """Prometheus metrics: on ``/metrics`` of the API port, or on a port of their own."""

    enabled: bool = True
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    """Serve metrics on this port (on ``server.host``) instead of the API's ``/metrics`` (workers always need one)."""


class TracingSettings(_Section):
    """OpenTelemetry traces of runs (docs/tracing.md): off unless enabled, never to a default address."""

    enabled: bool = False
    """Trace runs, turns, model and tool calls, and HTTP requests; OpenTelemetry is not even imported when off."""
    endpoint: str | None = None
    """The collector's OTLP/HTTP base URL (``http://collector:4318``); unset: the standard
    ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` / ``OTEL_EXPORTER_OTLP_ENDPOINT`` (read only when enabled)."""
    protocol: Literal["http/protobuf"] = "http/protobuf"
    """The OTLP transport (the one supported)."""
    service_name: str = Field(default="muster", min_length=1)
    """The ``service.name`` resource attribute."""
    sample_ratio: float = Field(default=1.0, ge=0.0, le=1.0)
    """The share of new traces kept; a trace continued from a caller follows the caller's decision."""
    headers: dict[str, SecretStr] = Field(default_factory=dict)
    """HTTP headers sent to the collector (a hosted backend's API key); unset: ``OTEL_EXPORTER_OTLP_HEADERS``."""
    capture_content: bool = False
    """Also record tool-call arguments and results and message texts (may hold personal data)."""


class AgentsSettings(_Section):
    """Limits on runs (the seed's ``agents`` section)."""

    max_concurrent: int = Field(default=100, ge=1)
    """Runs executing at once in one process (the serving process on SQLite, each worker on PostgreSQL)."""
    timeout: float = Field(default=300.0, gt=0)
    """Seconds a run may take before it is stopped at its next turn boundary and marked failed."""
    retry_attempts: int = Field(default=3, ge=0)
    """Retries of a transient model error (429, 5xx, timeouts) within one model call."""
    max_queue: int = Field(default=1000, ge=1)
    """Pending runs beyond which new runs are refused with 429 and Retry-After."""


class MemorySettings(_Section):
    """The memory monitor of ``muster serve`` and ``muster worker`` (docs/service.md, "Memory").

    Usage is the fraction of memory in use: the container's cgroup limit when there is
    one, else the machine's. From ``warning`` the process collects garbage and empties its
    in-process caches at every check; from ``critical`` new runs are refused (429 with
    ``Retry-After``) until usage is back under ``warning``.
    """

    enabled: bool = True
    warning: float = Field(default=0.80, gt=0, le=1)
    """Usage fraction from which the level is ``warning``."""
    critical: float = Field(default=0.90, gt=0, le=1)
    """Usage fraction from which the level is ``critical`` (at least ``warning``)."""
    check_seconds: float = Field(default=15.0, gt=0)
    """How often memory is read."""

    @model_validator(mode="after")
    def _ordered(self) -> MemorySettings:
        if self.critical < self.warning:
            raise ValueError(
                f"memory.critical ({self.critical}) must be at least memory.warning ({self.warning})"
            )
        return self


class WorkerSettings(_Section):
    """Liveness of the processes executing runs, and takeover of a dead one's runs.

    On PostgreSQL a worker beats a heartbeat on every job it holds (PgQueuer's) and on its
    runs in the store: a job or run whose heartbeat is older than ``stalled_after_seconds``
    is a dead worker's, and the live workers take its runs over from their last checkpoints. Runs heartbeat in the store as well
    (``heartbeat_seconds``), so a worker that lost its run stops writing to it.
    """

    heartbeat_seconds: float = Field(default=10.0, gt=0)
    stalled_after_seconds: float = Field(default=30.0, gt=0)
    """Keep it a few heartbeats long: a busy worker must not look dead."""
    poll_seconds: float = Field(default=5.0, gt=0)
    """How often a worker looks for jobs and stalled runs without being notified."""
    queue: str = Field(default="muster", min_length=1, max_length=100)
    """The queue runs go through (PgQueuer entrypoint ``muster.run:<queue>``): workers of another queue leave them."""


class DatabaseSettings(_Section):
    """The one source of truth: SQLite (embedded default) or PostgreSQL."""

    url: SecretStr = SecretStr("sqlite:///muster.db")
    """``sqlite:///path.db`` or ``postgresql://user:pass@host:5432/db`` (the driver is chosen for you)."""
    schema_name: str | None = Field(default=None, alias="schema")
    """PostgreSQL schema for muster's tables (and PgQueuer's); default ``public``."""
    retention_days: float | None = Field(default=30.0, gt=0)
    """Events, checkpoints and recorded responses of runs finished longer ago than this are
    pruned (``None``: keep everything). Runs and thread messages are kept."""
    prune_interval_seconds: float = Field(default=3600.0, gt=0)
    """How often each API process prunes (the first time at start-up)."""
    pool_size: int = Field(default=10, ge=1, le=1000)
    """Connections each process keeps open to the database."""
    max_overflow: int = Field(default=0, ge=0, le=1000)
    """Extra connections opened under load and closed when returned. 0 by default: a
    connection opened and closed per burst costs PostgreSQL a backend process each time,
    so under load requests wait for a pooled connection instead."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @property
    def is_postgres(self) -> bool:
        """Whether the URL names PostgreSQL."""
        return self.url.get_secret_value().startswith(("postgresql", "postgres"))


class RedisSettings(_Section):
    """Optional: live event fan-out between replicas and the response cache."""

    url: SecretStr | None = None


class SecuritySettings(_Section):
    """API keys, body and connection limits, CORS."""

    require_api_key: bool = True
    """Every ``/v1`` route needs ``Authorization: Bearer <key>`` (keys from ``muster keys``)."""
    api_keys: list[SecretStr] = Field(default_factory=list)
    """Keys added (hashed) at start, e.g. from ``MUSTER_API_KEYS=key1,key2``."""
    api_key_cache_seconds: float = Field(default=5.0, ge=0, le=3600)
    """A live key is remembered this long per process (a revocation takes effect within it; 0: off)."""
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    max_sse_connections: int = Field(default=1000, ge=1)
    cors_origins: list[str] = Field(default_factory=list)
    """Allowed origins; empty (the default) leaves CORS off."""


class ServiceSettings(BaseSettings):
    """Everything ``muster serve`` and ``muster worker`` read (see the module docstring)."""

    model_config = SettingsConfigDict(
        env_prefix="MUSTER_", env_nested_delimiter="__", extra="forbid", validate_default=True
    )

    server: ServerSettings = Field(default_factory=ServerSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    monitoring: MonitoringSettings = Field(default_factory=MonitoringSettings)
    agents: AgentsSettings = Field(default_factory=AgentsSettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    memory: MemorySettings = Field(default_factory=MemorySettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    tracing: TracingSettings = Field(default_factory=TracingSettings)
    specs_dir: Path | None = None
    """A folder of specs: ``NAME.yaml``, ``NAME.yml`` or ``NAME.json`` is spec NAME."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment over the file (passed as init kwargs by load_settings): an operator
        # overrides one value of a mounted app.yaml without editing it.
        return env_settings, init_settings, file_secret_settings

    def masked(self) -> dict[str, Any]:
        """The effective configuration as plain data, secrets shown as ``'**********'``."""
        return json.loads(self.model_dump_json(by_alias=True))  # type: ignore[no-any-return]


_WELL_KNOWN = {"DATABASE_URL": ("database", "url"), "REDIS_URL": ("redis", "url")}


def load_settings(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> ServiceSettings:
    """Read the configuration file (if any) and the environment into :class:`ServiceSettings`.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        pydantic.ValidationError: a value is invalid; the error names the field.
    """
    environ = os.environ if env is None else env
    data: dict[str, Any] = {}
    path = path or environ.get("MUSTER_CONFIG")
    if path:
        text = Path(path).read_text(encoding="utf-8")
        if str(path).endswith(".json"):
            loaded = json.loads(text)
        else:
            import yaml

            loaded = yaml.safe_load(text) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"{path}: the configuration must be a mapping, got {type(loaded).__name__}")
        data = loaded
    for variable, (section, field) in _WELL_KNOWN.items():
        value = environ.get(variable)
        if value and f"MUSTER_{section.upper()}__{field.upper()}" not in environ:
            data.setdefault(section, {})[field] = value
    keys = environ.get("MUSTER_API_KEYS")
    if keys:
        data.setdefault("security", {}).setdefault("api_keys", []).extend(
            k.strip() for k in keys.split(",") if k.strip()
        )
    if env is None:
        return ServiceSettings(**data)
    # An explicit environment (tests): read MUSTER_* variables from it, not from os.environ.
    saved = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(
            {k: v for k, v in environ.items() if k.startswith("MUSTER_") and k != "MUSTER_API_KEYS"}
        )
        return ServiceSettings(**data)
    finally:
        os.environ.clear()
        os.environ.update(saved)
