"""The service's commands: ``muster serve``, ``worker``, ``db``, ``keys``, ``config``, ``runs``.

``muster.cli`` builds the parser and, only when one of these commands is chosen, calls its
handler: this module imports nothing heavy at load time (settings, SQLAlchemy and the
store load inside the handlers), so ``muster run`` costs the same as before. A handler
returns the exit code: 0 done, 1 the database could not be used, 2 invalid input (a
configuration field, an unknown key id).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from .settings import ServiceSettings
    from .store.sql import SqlStore

__all__ = ["add_commands", "mask_url", "masked_config"]

_T = TypeVar("_T")
Handler = Callable[[argparse.Namespace], int]


def _run_async(coroutine: Coroutine[Any, Any, _T]) -> _T:
    # asyncio is imported here, not at the top: building the parser (`muster --help`) must
    # load nothing but argparse.
    import asyncio

    return asyncio.run(coroutine)


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the service's commands to the ``muster`` parser (``args.service_handler`` runs one)."""
    config_help = "configuration file (YAML or JSON; default: $MUSTER_CONFIG, then defaults and environment)"

    serve = sub.add_parser("serve", help="serve the HTTP API (on SQLite it also executes the runs)")
    serve.add_argument("--config", type=Path, help=config_help)
    serve.add_argument(
        "--specs", type=Path, help="a folder of specs: NAME.yaml, NAME.yml or NAME.json is spec NAME"
    )
    serve.add_argument("--host", help="address to listen on (default: server.host)")
    serve.add_argument("--port", type=int, help="port to listen on (default: server.port)")
    serve.set_defaults(service_handler=_serve)
    worker = sub.add_parser("worker", help="execute runs from PostgreSQL (PgQueuer jobs)")
    worker.add_argument("--config", type=Path, help=config_help)
    worker.set_defaults(service_handler=_worker)

    db = sub.add_parser("db", help="manage the service's database").add_subparsers(
        dest="db_command", required=True
    )
    upgrade = db.add_parser("upgrade", help="create or upgrade muster's tables (PostgreSQL schema too)")
    upgrade.add_argument("--config", type=Path, help=config_help)
    upgrade.set_defaults(service_handler=_db_upgrade)

    keys = sub.add_parser("keys", help="manage API keys").add_subparsers(dest="keys_command", required=True)
    create = keys.add_parser("create", help="create a key and print its secret (shown only this once)")
    create.add_argument("name", help="what the key is for (shown in listings)")
    create.set_defaults(service_handler=_keys_create)
    listing = keys.add_parser("list", help="list keys (never their secrets)")
    listing.add_argument("--json", action="store_true", help="one JSON object per key")
    listing.set_defaults(service_handler=_keys_list)
    revoke = keys.add_parser("revoke", help="revoke a key by id")
    revoke.add_argument("id", help="the key's id (from `muster keys list`)")
    revoke.set_defaults(service_handler=_keys_revoke)
    for parser in (create, listing, revoke):
        parser.add_argument("--config", type=Path, help=config_help)

    runs = sub.add_parser("runs", help="look at the service's stored runs").add_subparsers(
        dest="runs_command", required=True
    )
    timeline = runs.add_parser(
        "timeline", help="a stored run's turns, model calls and tool calls (the run timeline)"
    )
    timeline.add_argument("run_id", help="the run's id")
    timeline.add_argument("--html", type=Path, help="write the self-contained HTML timeline to this file")
    timeline.add_argument("--json", action="store_true", help="print the timeline as JSON")
    timeline.add_argument("--config", type=Path, help=config_help)
    timeline.set_defaults(service_handler=_runs_timeline)

    config = sub.add_parser("config", help="check a configuration").add_subparsers(
        dest="config_command", required=True
    )
    check = config.add_parser(
        "check", help="validate a file and print the effective configuration, secrets masked"
    )
    check.add_argument("file", type=Path, help="the configuration file (YAML or JSON)")
    check.add_argument(
        "--format", choices=["yaml", "json"], default="yaml", help="output format (default yaml)"
    )
    check.set_defaults(service_handler=_config_check)


def _error(message: str) -> None:
    print(f"muster: error: {message}", file=sys.stderr)


def _guarded(handler: Handler) -> Handler:
    """Turn the errors a command expects into a message and an exit code, never a traceback."""

    def run(args: argparse.Namespace) -> int:
        from pydantic import ValidationError

        from .exceptions import NotFoundError, ServiceError, StoreUnavailableError

        source = getattr(args, "file", None) or getattr(args, "config", None) or "configuration"
        try:
            return handler(args)
        except FileNotFoundError as exc:
            _error(f"{exc.filename or source}: no such file")
            return 2
        except (json.JSONDecodeError, _yaml_error()) as exc:
            kind = "JSON" if str(source).endswith(".json") else "YAML"
            _error(f"{source}: not valid {kind}: {exc}")
            return 2
        except ValidationError as exc:
            for error in exc.errors():
                field = ".".join(str(part) for part in error["loc"]) or "(root)"
                _error(f"{source}: {field}: {error['msg']}")
            return 2
        except StoreUnavailableError as exc:
            _error(str(exc))
            return 1
        except (NotFoundError, ServiceError, ValueError) as exc:
            _error(str(exc))
            return 2

    return run


def _settings(path: Path | None) -> ServiceSettings:
    from .settings import load_settings

    return load_settings(path)


async def _with_store(settings: ServiceSettings, work: Callable[[SqlStore], Coroutine[Any, Any, _T]]) -> _T:
    from .store.sql import SqlStore

    store = SqlStore.from_settings(settings, pool_size=1, max_overflow=0)
    try:
        await store.open()
        return await work(store)
    finally:
        await store.close()


def mask_url(url: str) -> str:
    """``url`` with its password (and a query that may hold one) replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None and "password" not in parts.query.lower():
        return url  # urlunsplit would drop the empty host of sqlite:////abs/path.db
    netloc = parts.netloc
    if parts.password is not None:
        userinfo, _, host = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:***@{host}"
    query = "***" if "password" in parts.query.lower() else parts.query
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def masked_config(settings: ServiceSettings) -> dict[str, Any]:
    """The effective configuration for display: secrets masked, URLs kept readable."""
    data = settings.masked()
    data["database"]["url"] = mask_url(settings.database.url.get_secret_value())
    if settings.redis.url is not None:
        data["redis"]["url"] = mask_url(settings.redis.url.get_secret_value())
    return data


@_guarded
def _serve(args: argparse.Namespace) -> int:
    from .processes import serve

    settings = _settings(args.config)
    if args.config is not None:
        os.environ["MUSTER_CONFIG"] = str(args.config)  # uvicorn worker processes read it again
    if args.specs is not None:
        settings.specs_dir = args.specs
    if args.host is not None:
        settings.server.host = args.host
    if args.port is not None:
        settings.server.port = args.port
    return serve(settings)


@_guarded
def _worker(args: argparse.Namespace) -> int:
    from .processes import work

    return work(_settings(args.config))


@_guarded
def _db_upgrade(args: argparse.Namespace) -> int:
    from .store.migrate import upgrade_database

    settings = _settings(args.config)
    url = settings.database.url.get_secret_value()
    revision = _run_async(upgrade_database(url, settings.database.schema_name))
    where = f" (schema {settings.database.schema_name})" if settings.database.schema_name else ""
    print(f"database {mask_url(url)}{where} is at revision {revision}")
    if settings.database.is_postgres:
        from .execution.jobs import ensure_job_schema

        _run_async(ensure_job_schema(settings))
        print("PgQueuer's job tables are in place")
    return 0


@_guarded
def _keys_create(args: argparse.Namespace) -> int:
    async def create(store: SqlStore) -> tuple[Any, str]:
        return await store.create_api_key(args.name)

    key, secret = _run_async(_with_store(_settings(args.config), create))
    # The secret alone on stdout (``SECRET=$(muster keys create ci)``); the rest on stderr.
    print(secret)
    print(
        f"created key {key.id} ({key.name}, prefix {key.prefix}); the secret is not shown again",
        file=sys.stderr,
    )
    return 0


@_guarded
def _keys_list(args: argparse.Namespace) -> int:
    async def listing(store: SqlStore) -> list[Any]:
        return await store.list_api_keys()

    keys = _run_async(_with_store(_settings(args.config), listing))
    if args.json:
        for key in keys:
            print(key.model_dump_json())
        return 0
    print(f"{'ID':32}  {'NAME':20}  {'PREFIX':8}  {'CREATED':20}  REVOKED")
    for key in keys:
        revoked = key.revoked_at.strftime("%Y-%m-%d %H:%M:%S") if key.revoked_at else "-"
        print(
            f"{key.id:32}  {key.name[:20]:20}  {key.prefix:8}  {key.created_at:%Y-%m-%d %H:%M:%S}  {revoked}"
        )
    return 0


@_guarded
def _keys_revoke(args: argparse.Namespace) -> int:
    async def revoke(store: SqlStore) -> Any:
        return await store.revoke_api_key(args.id)

    key = _run_async(_with_store(_settings(args.config), revoke))
    print(f"revoked key {key.id} ({key.name}, prefix {key.prefix}) at {key.revoked_at:%Y-%m-%d %H:%M:%S} UTC")
    return 0


@_guarded
def _runs_timeline(args: argparse.Namespace) -> int:
    from .timeline import run_timeline

    async def read(store: SqlStore) -> Any:
        return await run_timeline(store, args.run_id)

    timeline = _run_async(_with_store(_settings(args.config), read))
    if args.html is not None:
        from muster.ops import render_timeline

        args.html.write_text(render_timeline(timeline), encoding="utf-8")
        print(f"wrote {args.html}", file=sys.stderr)
    if args.json:
        print(timeline.model_dump_json(indent=2))
    elif args.html is None:
        print(_timeline_text(timeline))
    return 0


def _timeline_text(timeline: Any) -> str:
    """The timeline as lines of text: one per turn and call, indented under its turn."""
    lines = [f"{timeline.title}: {timeline.duration:.3f} s, {len(timeline.spans)} spans"]
    parents = {span.id: span.parent_id for span in timeline.spans}
    for span in timeline.spans:
        depth, parent = 0, span.parent_id
        while parent is not None and depth < 8:
            depth, parent = depth + 1, parents.get(parent)
        facts = [f"{span.duration * 1000:.1f} ms"]
        if span.kind == "model_call":
            facts.append(f"tokens {span.prompt_tokens or 0}/{span.completion_tokens or 0}")
            if span.cached:
                facts.append("cached")
            if span.attempts and span.attempts > 1:
                facts.append(f"{span.attempts} attempts")
        if span.status != "ok":
            facts.append(span.status + (f": {span.error}" if span.error else ""))
        kind = {"agent_turn": "turn", "model_call": "model", "tool_call": "tool"}[span.kind]
        who = f" ({span.agent})" if span.agent and span.kind != "agent_turn" else ""
        lines.append(f"{span.start:9.3f}s  {'  ' * depth}{kind:5} {span.label}{who}  " + ", ".join(facts))
    return "\n".join(lines)


@_guarded
def _config_check(args: argparse.Namespace) -> int:
    data = masked_config(_settings(args.file))
    if args.format == "json":
        print(json.dumps(data, indent=2))
    else:
        import yaml

        print(yaml.safe_dump(data, sort_keys=False), end="")
    return 0


def _yaml_error() -> type[Exception]:
    import yaml

    return yaml.YAMLError
