"""``muster db``, ``muster keys`` and ``muster config``: exit codes, output, and what they store."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
import yaml

from muster.cli import main
from muster.service.cli import mask_url
from muster.service.store import SqlStore
from muster.service.store.migrate import head_revision


@pytest.fixture
def sqlite_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    for name in ("MUSTER_CONFIG", "DATABASE_URL", "MUSTER_API_KEYS"):
        monkeypatch.delenv(name, raising=False)
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("MUSTER_DATABASE__URL", url)
    return url


def _verify(url: str, secret: str) -> object:
    async def check() -> object:
        async with SqlStore(url) as store:
            return await store.verify_api_key(secret)

    return asyncio.run(check())


def test_keys_create_list_revoke(sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "create", "ci"]) == 0
    out, err = capsys.readouterr()
    secret = out.strip()
    assert secret.startswith("mk_") and "\n" not in secret  # the secret alone on stdout
    assert "not shown again" in err
    key = _verify(sqlite_url, secret)
    assert key is not None

    assert main(["keys", "list"]) == 0
    listing = capsys.readouterr().out
    assert key.id in listing and secret[:8] in listing and secret not in listing  # type: ignore[attr-defined]
    assert main(["keys", "list", "--json"]) == 0
    (row,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert row["name"] == "ci" and row["revoked_at"] is None

    assert main(["keys", "revoke", key.id]) == 0  # type: ignore[attr-defined]
    assert "revoked key" in capsys.readouterr().out
    assert _verify(sqlite_url, secret) is None
    assert main(["keys", "revoke", "no-such-id"]) == 2
    assert "api key 'no-such-id' does not exist" in capsys.readouterr().err


def test_db_upgrade_on_sqlite_with_a_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("MUSTER_DATABASE__URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    config = tmp_path / "app.yaml"
    config.write_text(f"database:\n  url: sqlite:///{tmp_path / 'up.db'}\n")
    assert main(["db", "upgrade", "--config", str(config)]) == 0
    assert f"is at revision {head_revision()}" in capsys.readouterr().out
    assert (tmp_path / "up.db").exists()


@pytest.mark.postgres
def test_db_upgrade_on_postgres_creates_the_schema(
    pg_url: str, pg_schema: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MUSTER_DATABASE__URL", pg_url)
    monkeypatch.setenv("MUSTER_DATABASE__SCHEMA", pg_schema)
    assert main(["db", "upgrade"]) == 0
    assert f"(schema {pg_schema}) is at revision {head_revision()}" in capsys.readouterr().out
    with psycopg.connect(pg_url) as conn:
        count = conn.execute(
            "select count(*) from information_schema.tables where table_schema = %s"
            " and table_name not like 'pgqueuer%%'",
            (pg_schema,),
        ).fetchone()
        jobs = conn.execute(
            "select count(*) from information_schema.tables where table_schema = %s"
            " and table_name = 'pgqueuer'",
            (pg_schema,),
        ).fetchone()
    assert count == (10,)  # nine tables and alembic_version
    assert jobs == (1,)  # and PgQueuer's, for the workers
    assert main(["keys", "create", "ops"]) == 0


@pytest.mark.postgres
def test_keys_refuse_a_postgres_schema_that_was_not_upgraded(
    pg_url: str, pg_schema: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MUSTER_DATABASE__URL", pg_url)
    monkeypatch.setenv("MUSTER_DATABASE__SCHEMA", pg_schema)
    assert main(["keys", "list"]) == 1
    assert "run `muster db upgrade`" in capsys.readouterr().err


def test_an_unreachable_database_exits_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MUSTER_DATABASE__URL", "postgresql://postgres@127.0.0.1:1/test")
    assert main(["keys", "list"]) == 1
    err = capsys.readouterr().err
    assert "database is unavailable" in err and "Traceback" not in err


def test_config_check_prints_the_effective_config_with_secrets_masked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("MUSTER_DATABASE__URL", "DATABASE_URL", "REDIS_URL", "MUSTER_API_KEYS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MUSTER_AGENTS__MAX_CONCURRENT", "7")  # the environment wins over the file
    config = tmp_path / "app.yaml"
    config.write_text(
        "agents:\n  max_concurrent: 20\n"
        "database:\n  url: postgresql://muster:hunter2@db:5432/prod\n  schema: muster\n"
        "redis:\n  url: redis://:s3cret@cache:6379/0\n"
        "security:\n  api_keys: [a-configured-secret-key]\n"
    )
    assert main(["config", "check", str(config)]) == 0
    out = capsys.readouterr().out
    for secret in ("hunter2", "s3cret", "a-configured-secret-key"):
        assert secret not in out
    data = yaml.safe_load(out)
    assert data["agents"]["max_concurrent"] == 7
    assert data["database"] == {
        "url": "postgresql://muster:***@db:5432/prod",
        "schema": "muster",
        "retention_days": 30.0,
        "pool_size": 10,
        "max_overflow": 0,
        "prune_interval_seconds": 3600.0,
    }
    assert data["redis"]["url"] == "redis://:***@cache:6379/0"
    assert data["security"]["api_keys"] == ["**********"]
    assert main(["config", "check", str(config), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == data


@pytest.mark.parametrize(
    ("content", "name", "expected"),
    [
        (
            "server:\n  port: 99999\n",
            "app.yaml",
            "app.yaml: server.port: Input should be less than or equal to 65535",
        ),
        ("agents:\n  max_concurent: 3\n", "app.yaml", "agents.max_concurent: Extra inputs are not permitted"),
        ('{"logging": {"format": "xml"}}', "app.json", "logging.format: Input should be 'json' or 'text'"),
        ("server: [\n", "app.yaml", "app.yaml: not valid YAML"),
        ("{", "app.json", "app.json: not valid JSON"),
        ("- a\n- b\n", "app.yaml", "the configuration must be a mapping"),
    ],
)
def test_config_check_names_the_bad_field_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, name: str, expected: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    assert main(["config", "check", str(path)]) == 2
    captured = capsys.readouterr()
    assert expected in captured.err and captured.out == ""
    assert "Traceback" not in captured.err


def test_config_check_of_a_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check", str(tmp_path / "nope.yaml")]) == 2
    assert "nope.yaml: no such file" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("sqlite:////var/lib/muster.db", "sqlite:////var/lib/muster.db"),
        ("postgresql://u:p@h:5432/db", "postgresql://u:***@h:5432/db"),
        ("postgresql://h/db?user=u&password=p", "postgresql://h/db?***"),
        ("redis://localhost:6379/0", "redis://localhost:6379/0"),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_the_run_command_loads_none_of_the_service_dependencies() -> None:
    code = (
        "import sys\n"
        "from muster.cli import build_parser\n"
        "build_parser().parse_args(['run', 'x.yaml', '--task', 't'])\n"
        "print(sorted(m for m in ('sqlalchemy', 'pydantic_settings', 'alembic', 'muster.service.store') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_console_script_dispatches_service_commands(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("muster")
    config = tmp_path / "app.json"
    config.write_text('{"server": {"port": 8123}}')
    proc = subprocess.run(
        [str(exe), "config", "check", str(config), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["server"]["port"] == 8123
