"""The servers the HTTP comparisons load: PiCloud in its configurations, workerd, a bare ASGI app.

Each contender runs as its own process tree on a free port with its own data directory under
`bench/.cache/run/`, and is started once and kept for every round, so rounds measure serving, not
starting. `cpu_seconds()` sums user and system time over the whole tree (server, threads,
sandboxed workers and their bwrap monitors), read from /proc.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import sqlalchemy as sa

from bench.picloud_data import ADMIN_PASSWORD, ADMIN_USERNAME, prepare_data_dir
from bench.tools import CACHE
from picloud.store.database import Database

BENCH = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
RUN = CACHE / "run"
START_TIMEOUT_SECONDS = 90
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
#: Retention would delete records during a long run and spoil the count; nothing else changes.
PICLOUD_ENV = {
    "PICLOUD_SANDBOX": "strict",
    "PICLOUD_LOG_LEVEL": "warning",
    "PICLOUD_LOG_RETENTION_COUNT": "1000000000",
    "PICLOUD_ADMIN_USERNAME": ADMIN_USERNAME,
    "PICLOUD_ADMIN_PASSWORD": ADMIN_PASSWORD,
}
#: Written into bench/.cache/run/<name>/; the embed path is relative to it.
WORKERD_CONFIG = """\
using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .hello) ],
  sockets = [ (name = "http", address = "127.0.0.1:{port}", http = (), service = "main") ],
);
const hello :Workerd.Worker = (
  modules = [ (name = "hello.js", esModule = embed "../../../workerd_hello.js") ],
  compatibilityDate = "2024-09-23",
);
"""


@dataclass
class Contender:
    """One server to load: how to prepare and start it, and what to count after a run."""

    name: str
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    #: (routes, claims) to load into a fresh PiCloud data directory before starting.
    picloud_tables: tuple[int, int] | None = None
    #: Files written into the work directory first: name -> text ({port} and {workdir} filled).
    files: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hello"

    @property
    def workdir(self) -> Path:
        return RUN / self.name

    @property
    def counts_records(self) -> bool:
        return self.picloud_tables is not None

    def start(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)
        self.workdir.mkdir(parents=True)
        self.port = _free_port()
        if self.picloud_tables is not None:
            routes_total, claims_total = self.picloud_tables
            prepare_data_dir(self.data_dir, routes_total=routes_total, claims_total=claims_total)
        values = {"port": str(self.port), "workdir": str(self.workdir)}
        for name, text in self.files.items():
            (self.workdir / name).write_text(text.format(**values))
        command = [part.format(**values) for part in self.command]
        env = {**os.environ, **{k: v.format(**values) for k, v in self.env.items()}}
        # The bench package must import; a contender's own PYTHONPATH (another source tree to
        # compare against) comes first.
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, (self.env.get("PYTHONPATH"), str(BENCH.parent)))
        )
        with (self.workdir / "server.log").open("wb") as log:
            self.process = subprocess.Popen(
                command, cwd=self.workdir, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        self._wait_until_serving()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    @property
    def data_dir(self) -> Path:
        return self.workdir / "data"

    def record_count(self) -> int:
        database = Database(f"sqlite:///{self.data_dir / 'picloud.db'}")
        try:
            with database.connect() as conn:
                return conn.scalar(sa.text("SELECT count(*) FROM execution_logs"))
        finally:
            database.dispose()

    def settled_record_count(self, quiet_seconds: float = 1.0) -> int:
        """The record count once the batched writer has caught up (it stops changing)."""
        last = self.record_count()
        while True:
            time.sleep(quiet_seconds)
            now = self.record_count()
            if now == last:
                return now
            last = now

    def cpu_seconds(self) -> float:
        assert self.process is not None
        return sum(_process_cpu_seconds(pid) for pid in _process_tree(self.process.pid))

    def _wait_until_serving(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if httpx.get(self.url, timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        log = (self.workdir / "server.log").read_text(errors="replace")[-3000:]
        raise SystemExit(f"bench: {self.name} did not start serving {self.url}:\n{log}")


def picloud_serve(name: str, *, routes: int = 10, claims: int = 10) -> Contender:
    """PiCloud exactly as users run it: `picloud serve`, SQLite, strict sandbox."""
    return Contender(
        name,
        [str(BIN / "picloud"), "serve"],
        env={
            **PICLOUD_ENV,
            "PICLOUD_BIND": "127.0.0.1:{port}",
            "PICLOUD_DATA_DIR": "{workdir}/data",
        },
        picloud_tables=(routes, claims),
    )


def picloud_under(name: str, server: str, *, processes: int = 1) -> Contender:
    """PiCloud's app under another server or process count (bench/picloud_asgi.py).

    With several processes each keeps its own gate and worker pool, so the global limits are
    split between them: gate, workers per app and a script's default concurrency.
    """
    env = {**PICLOUD_ENV, "PICLOUD_DATA_DIR": "{workdir}/data"}
    if processes > 1:
        env.update(
            PICLOUD_MAX_CONCURRENT_EXECUTIONS=str(32 // processes),
            PICLOUD_WORKERS_PER_APP=str(max(1, 4 // processes)),
            PICLOUD_DEFAULT_MAX_CONCURRENCY=str(max(1, 8 // processes)),
        )
    return Contender(
        name,
        asgi_server_command(server, "bench.picloud_asgi:app", processes),
        env=env,
        picloud_tables=(10, 10),
    )


def bare_asgi(name: str, server: str) -> Contender:
    return Contender(name, asgi_server_command(server, "bench.bare_asgi:app", 1))


def workerd(name: str, binary: Path) -> Contender:
    """workerd serving bench/workerd_hello.js on one socket, as its README's hello world."""
    return Contender(
        name, [str(binary), "serve", "config.capnp"], files={"config.capnp": WORKERD_CONFIG}
    )


def asgi_server_command(server: str, target: str, processes: int) -> list[str]:
    """uvicorn with uvloop and the httptools protocol `picloud serve` runs (its guards and one
    write per response), or granian on uvloop."""
    if server == "uvicorn":
        return [
            str(BIN / "uvicorn"), target, "--port", "{port}", "--workers", str(processes),
            "--http", "picloud.cli.http_protocol:GuardedHttpToolsProtocol",
            "--loop", "uvloop", "--no-access-log",
            "--log-level", "warning", "--lifespan", "on",
        ]  # fmt: skip
    if server == "granian":
        return [
            str(BIN / "granian"), target, "--interface", "asgi", "--port", "{port}",
            "--workers", str(processes), "--loop", "uvloop", "--no-ws",
            "--log-level", "warning",
        ]  # fmt: skip
    raise ValueError(f"unknown server {server!r}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _process_tree(root: int) -> list[int]:
    pids, queue = [], [root]
    while queue:
        pid = queue.pop()
        pids.append(pid)
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                queue += map(int, Path(f"/proc/{pid}/task/{task}/children").read_text().split())
        except FileNotFoundError:
            continue
    return pids


def _process_cpu_seconds(pid: int) -> float:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
