"""Start a real `picloud serve` process for end-to-end tests.

Used through the `live_server` / `start_server` fixtures in conftest.py. The server runs on a free
port with its own data directory; the first owner comes from environment variables.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ADMIN_USERNAME = "owner"
ADMIN_PASSWORD = "correct horse battery staple"
PICLOUD = str(Path(sys.executable).with_name("picloud"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    port: int
    data_dir: Path
    process: subprocess.Popen
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

    def client(self, **kwargs) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)

    def login(self) -> str:
        with self.client() as client:
            answer = client.post(
                "/api/v1/admin/auth/login",
                json={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD},
            )
            answer.raise_for_status()
            return answer.json()["token"]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start_server(
    data_dir: Path, extra_env: Mapping[str, str] | None = None, *, port: int | None = None
) -> LiveServer:
    port = port or free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PICLOUD_") or k == "PICLOUD_SANDBOX"
    }
    env.update(
        PICLOUD_BIND=f"127.0.0.1:{port}",
        PICLOUD_DATA_DIR=str(data_dir),
        PICLOUD_ADMIN_USERNAME=ADMIN_USERNAME,
        PICLOUD_ADMIN_PASSWORD=ADMIN_PASSWORD,
        PICLOUD_LOG_FLUSH_MS="20",
    )
    env.update(extra_env or {})
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir.parent / f"server-{port}.log"
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        [PICLOUD, "serve"], env=env, stdout=log_file, stderr=subprocess.STDOUT
    )
    server = LiveServer(f"http://127.0.0.1:{port}", port, data_dir, process, log_path, env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"picloud serve exited with {process.returncode}:\n{server.log()}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    server.stop(signal.SIGKILL)
    raise RuntimeError(f"picloud serve did not become healthy:\n{server.log()}")
