"""Starting the executor: strict refuses without a usable sandbox, weak warns and still works."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

from executor.harness import executor_settings, needs_bubblewrap, started_executor
from picloud.core.limits import Limits
from picloud.executor.pool import WorkerPoolExecutor
from picloud.executor.sandbox import SandboxUnavailable


def test_strict_refuses_to_start_without_bubblewrap(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap on it
    executor = WorkerPoolExecutor(executor_settings(tmp_path / "data"))
    with pytest.raises(SandboxUnavailable) as raised:
        asyncio.run(executor.start())
    message = str(raised.value)
    assert "\n" not in message
    assert "bubblewrap (bwrap) is not installed" in message
    assert "install bubblewrap and libseccomp" in message
    assert "PICLOUD_SANDBOX=weak" in message


def test_strict_refuses_to_start_when_bubblewrap_cannot_run(tmp_path: Path, monkeypatch):
    fake = tmp_path / "bin" / "bwrap"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(fake.parent))
    executor = WorkerPoolExecutor(executor_settings(tmp_path / "data"))
    with pytest.raises(SandboxUnavailable) as raised:
        asyncio.run(executor.start())
    message = str(raised.value)
    assert "\n" not in message
    assert (
        "a sandboxed worker failed to start: worker exited with status 1 "
        "(bwrap: No permissions to create new namespace)"
    ) in message
    assert "PICLOUD_SANDBOX=weak" in message


@needs_bubblewrap
def test_strict_refuses_a_data_directory_scripts_could_see(tmp_path: Path):
    inside_stdlib = Path(sysconfig.get_path("stdlib")) / "picloud-data"
    executor = WorkerPoolExecutor(executor_settings(inside_stdlib))
    with pytest.raises(SandboxUnavailable, match="would be visible to scripts"):
        asyncio.run(executor.start())


def test_weak_mode_warns_and_runs_scripts(tmp_path: Path, caplog, monkeypatch):
    monkeypatch.setenv("PICLOUD_TEST_SECRET", "weak-but-scrubbed")
    with (
        caplog.at_level(logging.WARNING, logger="picloud.executor.pool"),
        started_executor(executor_settings(tmp_path, sandbox="weak")) as harness,
    ):
        assert harness.executor.describe() == {"sandbox": "weak"}
        assert "PICLOUD_SANDBOX=weak" in caplog.text
        hello = harness.invoke("import os\n\ndef handle(req):\n    return dict(os.environ)\n")
        assert hello.outcome == "ok"
        assert "weak-but-scrubbed" not in hello.body.decode()
        broken = harness.invoke("def handle(req):\n    raise KeyError('k')\n")
        assert (broken.outcome, broken.status) == ("error", 500)
        slow = harness.invoke(
            "def handle(req):\n    while True:\n        pass\n", limits=Limits(timeout_ms=200)
        )
        assert (slow.outcome, slow.error) == ("timeout", "timed out after 200 ms")
        hog = harness.invoke("def handle(req):\n    return bytearray(1 << 30)\n")
        assert (hog.outcome, hog.status) == ("memory", 507)
        crash = harness.invoke("import os\n\ndef handle(req):\n    os._exit(7)\n")
        assert (crash.outcome, crash.error) == ("crashed", "worker exited with status 7")


SERVER = """
import asyncio, json, sys, time
from picloud.executor.pool import WorkerPoolExecutor
from executor.harness import executor_settings

async def main():
    settings = executor_settings(sys.argv[1], sandbox=sys.argv[2], spare_workers=2)
    executor = WorkerPoolExecutor(settings)
    await executor.start()
    while executor.stats()["spares"] < 2:
        await asyncio.sleep(0.05)
    print(json.dumps([w["pid"] for w in executor.stats()["workers"]]), flush=True)
    await asyncio.sleep(600)

asyncio.run(main())
"""


@pytest.mark.parametrize("sandbox", [pytest.param("strict", marks=needs_bubblewrap), "weak"])
def test_workers_die_with_the_server(tmp_path: Path, sandbox: str):
    tests = str(Path(__file__).resolve().parent.parent)
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(tmp_path), sandbox],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": tests},
    )
    try:
        pids = json.loads(server.stdout.readline())
        assert len(pids) == 2 and all(Path(f"/proc/{pid}").exists() for pid in pids)
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait()
    deadline = time.monotonic() + 30
    while any(Path(f"/proc/{pid}").exists() for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in pids if Path(f"/proc/{pid}").exists()]


@needs_bubblewrap
def test_spare_workers_zero_still_checks_the_sandbox_at_start(tmp_path: Path):
    with started_executor(executor_settings(tmp_path, spare_workers=0)) as harness:
        stats = harness.executor.stats()
        assert (stats["spares"], stats["workers"]) == (0, [])
