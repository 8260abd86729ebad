"""The compose topology as real processes on 127.0.0.1, in one temporary folder.

PostgreSQL (a throwaway cluster: the installed server's ``initdb`` and ``pg_ctl``, as the
``postgres`` user when the drill runs as root), Redis (``--save ""``, nothing on disk),
the drill's slow model, ``muster db upgrade`` (the migrations Job), three ``muster serve``
replicas, two ``muster worker`` processes with their metrics ports, nginx balancing the
replicas, and Prometheus scraping replicas and workers with the rules loaded. nginx and
Prometheus run in the foreground with every path (pid, logs, temp, storage) in the
folder; the system's services are never touched. :meth:`Topology.close` stops it all and
removes the folder.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from .postgres import ThrowawayPostgres
from .processes import Child, Children, free_port, wait_for
from .prometheus import scrape_config, shorten_rules

__all__ = ["Topology", "TopologyOptions"]

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "deploy" / "prometheus" / "rules" / "muster.rules.yml"
API_KEY = "drill-key-0123456789abcdef"


@dataclass(frozen=True)
class TopologyOptions:
    """How big the topology is and how fast its failure detection is."""

    replicas: int = 3
    workers: int = 2
    model_delay: float = 0.4
    heartbeat_seconds: float = 1.0
    stalled_after_seconds: float = 5.0
    start_timeout: float = 90.0


def _http_ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _redis_pong(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


_NGINX = """\
worker_processes 1;
{user}pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log {dir}/access.log;
  client_body_temp_path {dir}/client_body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  upstream muster_api {{
{servers}
  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://muster_api;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      # Event streams: pass each event on at once, and let them last.
      proxy_buffering off;
      proxy_cache off;
      proxy_read_timeout 300s;
      # A replica that refuses the connection: the request goes to the next (never a request
      # already sent: a POST that reached a replica killed before it answered is the client's 502).
      proxy_next_upstream error timeout;
      proxy_connect_timeout 2s;
      # Which replica answered: the drill knows which streams went through the one it kills.
      add_header X-Upstream $upstream_addr always;
    }}
  }}
}}
"""


class Topology:
    """Everything the drill runs (see the module docstring). Use :meth:`start`, then :meth:`close`."""

    def __init__(self, options: TopologyOptions) -> None:
        self.options = options
        self.root = Path(tempfile.mkdtemp(prefix="muster-drill-"))
        self.root.chmod(0o755)  # the postgres user and nginx's workers traverse it
        self.logs = self.root / "logs"
        self.logs.mkdir()
        self.children = Children(self.logs)
        self.postgres = ThrowawayPostgres(self.root)
        self.redis_port = free_port()
        self.nginx_port = free_port()
        self.prometheus_port = free_port()
        self.api_ports = [free_port() for _ in range(options.replicas)]
        self.worker_ports = [free_port() for _ in range(options.workers)]
        self.model_url = ""
        self.config = self.root / "app.yaml"
        self.replicas: dict[str, Child] = {}
        self.workers: dict[str, Child] = {}
        self.rule_changes: dict[str, tuple[str, str]] = {}
        self._model: Child | None = None

    # ------------------------------------------------------------ addresses

    @property
    def base_url(self) -> str:
        """The API, through nginx."""
        return f"http://127.0.0.1:{self.nginx_port}"

    @property
    def prometheus_url(self) -> str:
        return f"http://127.0.0.1:{self.prometheus_port}"

    def replica_port(self, name: str) -> int:
        return self.api_ports[int(name.split("-")[1]) - 1]

    def worker_port(self, name: str) -> int:
        return self.worker_ports[int(name.split("-")[1]) - 1]

    # ------------------------------------------------------------ start

    def start(self) -> None:
        """Start everything and wait until each part answers."""
        self.postgres.start()
        redis = self.children.start(
            "redis",
            [
                "redis-server",
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.root),
                "--daemonize",
                "no",
            ],
        )
        self._start_model()
        wait_for(lambda: _redis_pong(self.redis_port), timeout=30, what="Redis", child=redis)
        self._write_config()
        upgrade = subprocess.run(
            [sys.executable, "-m", "muster", "db", "upgrade", "--config", str(self.config)],
            env=self._env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if upgrade.returncode != 0:
            raise RuntimeError(f"muster db upgrade failed:\n{upgrade.stdout}{upgrade.stderr}")
        for i in range(1, self.options.replicas + 1):
            self._start_replica(f"api-{i}")
        for i in range(1, self.options.workers + 1):
            self._start_worker(f"worker-{i}")
        nginx = self._start_nginx()
        prometheus = self._start_prometheus()
        for name in self.replicas:
            self.wait_replica(name)
        for name in self.workers:
            self.wait_worker(name)
        wait_for(lambda: _http_ok(f"{self.base_url}/ready"), timeout=30, what="nginx", child=nginx)
        wait_for(
            lambda: _http_ok(f"{self.prometheus_url}/-/ready"),
            timeout=60,
            what="Prometheus",
            child=prometheus,
        )

    def _start_model(self) -> None:
        model = self.children.start(
            "model",
            [sys.executable, "-m", "deploy.drill.model_server", "--delay", str(self.options.model_delay)],
            cwd=REPO,
            stdin_pipe=True,
        )
        assert model.popen.stdout is not None
        line = model.popen.stdout.readline().decode().strip()
        if not line.startswith("PORT "):
            raise RuntimeError(f"the model server did not start: {line!r}\n{model.tail()}")
        self.model_url = f"http://127.0.0.1:{line.split()[1]}/v1"
        self._model = model

    def _write_config(self) -> None:
        o = self.options
        config = {
            "server": {"host": "127.0.0.1", "drain_seconds": 5},
            "logging": {"level": "INFO", "format": "json"},
            "cache": {"type": "redis", "ttl": 600},
            "database": {"url": self.postgres.url, "schema": "muster"},
            "redis": {"url": f"redis://127.0.0.1:{self.redis_port}/0"},
            "worker": {
                "heartbeat_seconds": o.heartbeat_seconds,
                "stalled_after_seconds": o.stalled_after_seconds,
                "poll_seconds": 0.5,
            },
            "agents": {"max_concurrent": 100, "timeout": 120, "retry_attempts": 0},
            "monitoring": {"enabled": True},
        }
        self.config.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")

    def _env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MUSTER_")}
        env.update({"PYTHONUNBUFFERED": "1", "MUSTER_API_KEYS": API_KEY, **extra})
        return env

    def _start_replica(self, name: str) -> Child:
        argv = [
            sys.executable,
            "-m",
            "muster",
            "serve",
            "--config",
            str(self.config),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.replica_port(name)),
        ]
        self.replicas[name] = self.children.start(name, argv, env=self._env())
        return self.replicas[name]

    def _start_worker(self, name: str) -> Child:
        argv = [sys.executable, "-m", "muster", "worker", "--config", str(self.config)]
        env = self._env(MUSTER_MONITORING__METRICS_PORT=str(self.worker_port(name)))
        self.workers[name] = self.children.start(name, argv, env=env)
        return self.workers[name]

    def wait_replica(self, name: str) -> None:
        url = f"http://127.0.0.1:{self.replica_port(name)}/ready"
        wait_for(
            lambda: _http_ok(url),
            timeout=self.options.start_timeout,
            what=f"{name} /ready",
            child=self.replicas[name],
        )

    def wait_worker(self, name: str) -> None:
        url = f"http://127.0.0.1:{self.worker_port(name)}/metrics"
        wait_for(
            lambda: _http_ok(url),
            timeout=self.options.start_timeout,
            what=f"{name} metrics",
            child=self.workers[name],
        )

    def restart(self, name: str) -> Child:
        """Start a killed replica or worker again, as its orchestrator would (same port)."""
        child = self._start_replica(name) if name.startswith("api-") else self._start_worker(name)
        return child

    def _start_nginx(self) -> Child:
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        folder = self.root / "nginx"
        folder.mkdir(mode=0o755)
        servers = "\n".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;" for p in self.api_ports)
        user = "user nobody nogroup;\n" if os.geteuid() == 0 else ""
        conf = folder / "nginx.conf"
        conf.write_text(_NGINX.format(user=user, dir=folder, servers=servers, port=self.nginx_port))
        argv = [
            nginx,
            "-p",
            str(folder),
            "-c",
            str(conf),
            "-e",
            str(folder / "error.log"),
            "-g",
            "daemon off;",
        ]
        return self.children.start("nginx", argv)

    def _start_prometheus(self) -> Child:
        binary = shutil.which("prometheus") or "/usr/bin/prometheus"
        folder = self.root / "prometheus"
        folder.mkdir()
        rules, self.rule_changes = shorten_rules(RULES)
        rule_file = folder / "muster.rules.yml"
        rule_file.write_text(yaml.safe_dump(rules, sort_keys=False), encoding="utf-8")
        promtool = shutil.which("promtool")
        if promtool:
            checked = subprocess.run(
                [promtool, "check", "rules", str(rule_file)], capture_output=True, text=True, timeout=60
            )
            if checked.returncode != 0:
                raise RuntimeError(
                    f"promtool check rules refused the drill's rules:\n{checked.stdout}{checked.stderr}"
                )
        config = scrape_config(
            [f"127.0.0.1:{p}" for p in self.api_ports],
            [f"127.0.0.1:{p}" for p in self.worker_ports],
            rule_file,
        )
        (folder / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        argv = [
            binary,
            f"--config.file={folder / 'prometheus.yml'}",
            f"--storage.tsdb.path={folder / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.prometheus_port}",
            "--storage.tsdb.retention.time=1h",
        ]
        return self.children.start("prometheus", argv, cwd=folder)

    # ------------------------------------------------------------ end

    def model_stats(self) -> dict[str, int]:
        """The model server's counts (requests, repeated prompts)."""
        return dict(httpx.get(self.model_url.removesuffix("/v1") + "/stats", timeout=5).json())

    def model_prompts(self) -> dict[str, list[list[dict[str, Any]]]]:
        """Per task, the distinct prompts the model was asked."""
        answer = httpx.get(self.model_url.removesuffix("/v1") + "/prompts", timeout=30)
        return dict(answer.json())

    def worker_logs(self) -> list[Path]:
        """The log files of every worker process (a restarted worker appends to its file)."""
        return sorted(self.logs.glob("worker-*.log"))

    def close(self, keep: Path | None = None) -> None:
        """Stop every process and remove the folder (its logs copied to ``keep`` first, if given)."""
        try:
            self.children.close()
        finally:
            self.postgres.stop()
            if keep is not None:
                with contextlib.suppress(OSError):
                    shutil.copytree(self.logs, keep, dirs_exist_ok=True)
            shutil.rmtree(self.root, ignore_errors=True)

    def leftovers(self) -> list[str]:
        """Processes of the drill still alive (should be none after :meth:`close`)."""
        alive = [f"{c.name} (pid {c.pid})" for c in self.children.running()]
        if (self.postgres.data / "postmaster.pid").exists():
            alive.append("postgres")
        return alive
