"""Attack scripts that must fail, run through the real executor with real sandboxed workers.

Each test is one claim of docs/security.md. An attack script reports what it managed to do;
the test asserts on what a user of the platform would see: the outcome, the status, and that
no secret, file, process or other app was reached.
"""

from __future__ import annotations

import ast
import json
import os
import socket
import sys
import uuid
from pathlib import Path

import pytest

from executor.harness import (
    ExecutorHarness,
    executor_settings,
    invocation,
    needs_bubblewrap,
    started_executor,
)
from picloud.core.limits import Limits

pytestmark = needs_bubblewrap

SERVER_SECRET = f"server-secret-{uuid.uuid4().hex}"
DATABASE_SECRET = f"database-secret-{uuid.uuid4().hex}"

#: Prepended to every attack: try(), which records an attempt's result or the error it raised.
TRY = '''
import ctypes, json, os, signal, socket, subprocess, sys

def attempt(action, *args):
    try:
        return {"ok": repr(action(*args))[:300]}
    except BaseException as exc:
        return {"error": type(exc).__name__}

libc = ctypes.CDLL(None, use_errno=True)

def c_call(name, *args):
    """A raw libc call: the kernel's answer, or the errno name when refused."""
    result = getattr(libc, name)(*args)
    if result == -1:
        raise OSError(ctypes.get_errno(), name)
    return result
'''


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data")
    (path / "picloud.db").write_text(DATABASE_SECRET)
    return path


@pytest.fixture(scope="module")
def harness(data_dir: Path):
    os.environ["PICLOUD_TEST_SECRET"] = SERVER_SECRET
    try:
        with started_executor(executor_settings(data_dir, spare_workers=2)) as started:
            yield started
    finally:
        del os.environ["PICLOUD_TEST_SECRET"]


def attack(harness: ExecutorHarness, body: str, **fields) -> dict:
    """Run an attack whose handler body returns a dict of attempt results."""
    source = TRY + "\ndef handle(req):\n" + "\n".join(f"    {line}" for line in body.splitlines())
    result = harness.invoke(source, **fields)
    assert (result.outcome, result.status) == ("ok", 200), result.error
    return json.loads(result.body)


def fresh_app() -> str:
    return f"app-{uuid.uuid4().hex[:8]}"


def test_host_files_are_not_there(harness: ExecutorHarness, data_dir: Path):
    found = attack(
        harness,
        f"""return {{
    "shadow": attempt(lambda: open("/etc/shadow").read()),
    "passwd": attempt(lambda: open("/etc/passwd").read()),
    "database": attempt(lambda: open({str(data_dir / "picloud.db")!r}).read()),
    "data_dir": attempt(os.listdir, {str(data_dir)!r}),
    "home": attempt(os.listdir, "/root"),
    "root": attempt(os.listdir, "/"),
}}""",
    )
    assert found["shadow"] == found["passwd"] == {"error": "FileNotFoundError"}
    assert found["database"] == found["data_dir"] == {"error": "FileNotFoundError"}
    assert DATABASE_SECRET not in json.dumps(found)
    # What is there: the read-only views of the interpreter and libraries, /tmp, /proc, /dev.
    interpreter_top = Path(sys.executable).resolve().parts[1]
    expected = {"usr", "lib", "lib64", "opt", "tmp", "proc", "dev", interpreter_top}
    assert set(ast.literal_eval(found["root"]["ok"])) <= expected


def test_the_server_environment_is_not_visible(harness: ExecutorHarness):
    found = attack(
        harness,
        """return {
    "environ": attempt(lambda: dict(os.environ)),
    "self": attempt(lambda: open("/proc/self/environ", "rb").read()),
    "pid1": attempt(lambda: open("/proc/1/environ", "rb").read()),
}""",
    )
    assert SERVER_SECRET not in json.dumps(found)
    assert ast.literal_eval(found["environ"]["ok"]) == {
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "PWD": "/tmp",
    }


def test_nothing_outside_tmp_is_writable(harness: ExecutorHarness):
    found = attack(
        harness,
        """import picloud.sdk, json as stdlib_json
targets = ["/evil", "/opt/evil", picloud.sdk.__file__, stdlib_json.__file__, "/usr/lib/evil"]
results = {path: attempt(lambda p=path: open(p, "a").write("pwned")) for path in targets}
results["/tmp"] = attempt(lambda: open("/tmp/mine", "w").write("fine"))
return results""",
    )
    assert found.pop("/tmp") == {"ok": "4"}
    assert all("error" in outcome for outcome in found.values()), found


def test_an_app_cannot_see_another_apps_tmp(harness: ExecutorHarness):
    writer, reader = fresh_app(), fresh_app()
    attack(harness, 'open("/tmp/secret.txt", "w").write("of app a")\nreturn {}', app=writer)
    found = attack(
        harness,
        """return {
    "listing": attempt(os.listdir, "/tmp"),
    "read": attempt(lambda: open("/tmp/secret.txt").read()),
}""",
        app=reader,
    )
    assert found == {"listing": {"ok": "[]"}, "read": {"error": "FileNotFoundError"}}


def test_no_network_and_no_name_resolution(harness: ExecutorHarness):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        port = listener.getsockname()[1]
        found = attack(
            harness,
            f"""return {{
    "tcp": attempt(socket.create_connection, ("127.0.0.1", {port}), 1),
    "internet": attempt(socket.create_connection, ("1.1.1.1", 53), 1),
    "udp": attempt(socket.socket, socket.AF_INET, socket.SOCK_DGRAM),
    "unix": attempt(socket.socket, socket.AF_UNIX),
    "netlink": attempt(socket.socket, socket.AF_NETLINK, socket.SOCK_RAW),
    "inet_pair": attempt(socket.socketpair, socket.AF_INET),
    "resolve": attempt(socket.getaddrinfo, "example.com", 80),
}}""",
        )
        with pytest.raises(BlockingIOError):
            listener.accept()  # nothing reached the host
    assert found["resolve"] == {"error": "gaierror"}
    del found["resolve"]
    assert set(map(json.dumps, found.values())) == {'{"error": "PermissionError"}'}, found


def test_no_processes_can_be_started(harness: ExecutorHarness):
    found = attack(
        harness,
        """return {
    "fork": attempt(os.fork),
    "subprocess": attempt(subprocess.run, [sys.executable, "-c", "1"]),
    "system": attempt(os.system, "true"),
    "spawn": attempt(os.posix_spawn, sys.executable, [sys.executable], {}),
    "exec": attempt(os.execv, sys.executable, [sys.executable]),
    "raw_fork": attempt(c_call, "fork"),
    "new_user_namespace": attempt(c_call, "unshare", 0x10000000),
    "mount": attempt(c_call, "mount", b"none", b"/tmp", b"tmpfs", 0, None),
}""",
    )
    # os.system reports failure rather than raising: 127, "the shell could not be run".
    assert found.pop("system") == {"ok": str(127 << 8)}
    assert all(outcome == {"error": "PermissionError"} for outcome in found.values()), found


def test_threads_work_but_are_bounded(harness: ExecutorHarness):
    found = attack(
        harness,
        """import threading
box = []
t = threading.Thread(target=lambda: box.append("ran"))
t.start(); t.join()
stop = threading.Event()
count = 0
try:
    for _ in range(10_000):
        threading.Thread(target=stop.wait).start()
        count += 1
except RuntimeError:
    pass
stop.set()
return {"thread": box, "bounded": count < 10_000}""",
    )
    assert found == {"thread": ["ran"], "bounded": True}


def test_a_script_cannot_signal_the_server_or_another_worker(harness: ExecutorHarness):
    victim_app = fresh_app()
    harness.invoke("def handle(req):\n    return 'alive'\n", app=victim_app)
    (victim,) = harness.worker_pids(victim_app)
    server = os.getpid()
    found = attack(
        harness,
        f"""return {{
    "server": attempt(os.kill, {server}, signal.SIGKILL),
    "worker": attempt(os.kill, {victim}, signal.SIGKILL),
    "everyone": attempt(os.kill, -1, signal.SIGKILL),
    "group": attempt(os.kill, 0, signal.SIGTERM),
    "pidfd": attempt(c_call, "syscall", 434, {victim}, 0),
}}""",
    )
    assert all(outcome == {"error": "PermissionError"} for outcome in found.values()), found
    assert harness.worker_pids(victim_app) == [victim]
    assert harness.invoke("def handle(req):\n    return 'alive'\n", app=victim_app).body == b"alive"


def test_other_processes_cannot_be_read_through_proc(harness: ExecutorHarness):
    other_app = fresh_app()
    harness.invoke("def handle(req):\n    return 'x'\n", app=other_app)
    (other,) = harness.worker_pids(other_app)
    server = os.getpid()
    found = attack(
        harness,
        f"""buffer = ctypes.create_string_buffer(64)
class IoVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
local = IoVec(ctypes.addressof(buffer), 64)
remote = IoVec(0x400000, 64)
return {{
    "pids": attempt(lambda: sorted(p for p in os.listdir("/proc") if p.isdigit())),
    "server_environ": attempt(lambda: open("/proc/{server}/environ", "rb").read()),
    "server_mem": attempt(lambda: open("/proc/{server}/mem", "rb").read(16)),
    "worker_environ": attempt(lambda: open("/proc/{other}/environ", "rb").read()),
    "own_mem": attempt(lambda: open("/proc/1/mem", "rb").read(16)),
    "process_vm_readv": attempt(
        c_call, "process_vm_readv", {other}, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0
    ),
    "ptrace": attempt(c_call, "ptrace", 16, {server}, None, None),
}}""",
    )
    assert found.pop("pids") == {"ok": "['1']"}  # a pid namespace of its own
    assert SERVER_SECRET not in json.dumps(found)
    assert all("error" in outcome for outcome in found.values()), found


def test_memory_exhaustion_is_507_and_harms_nobody_else(harness: ExecutorHarness):
    app = fresh_app()
    source = (
        "def handle(req):\n    hog = []\n    while True:\n        hog.append(bytearray(1 << 20))\n"
    )
    result = harness.invoke(source, app=app, limits=Limits(memory_mb=96))
    assert (result.outcome, result.status, result.body) == ("memory", 507, b"")
    assert harness.invoke("def handle(req):\n    return 'fine'\n", app=app).body == b"fine"


def test_an_endless_loop_is_504_on_time(harness: ExecutorHarness):
    result = harness.invoke(
        "def handle(req):\n    while True:\n        pass\n", limits=Limits(timeout_ms=500)
    )
    assert (result.outcome, result.status, result.body) == ("timeout", 504, b"")
    assert result.error == "timed out after 500 ms"


def test_files_and_descriptors_are_bounded(harness: ExecutorHarness):
    found = attack(
        harness,
        """import errno
files = []
def refused(action):
    try:
        action()
    except OSError as exc:
        return errno.errorcode[exc.errno]
def open_many():
    while True:
        files.append(open("/dev/null"))
def one_big_file():
    with open("/tmp/big", "wb") as f:
        for _ in range(1024):
            f.write(bytes(1 << 20))
def many_files():
    for i in range(1024):
        with open(f"/tmp/part{i}", "wb") as f:
            f.write(bytes(1 << 20))
result = {"descriptors": refused(open_many)}
files.clear()
result.update(big_file=refused(one_big_file), many_files=refused(many_files))
return result""",
        app=fresh_app(),  # a worker of its own: an empty /tmp, and it leaves that /tmp full
    )
    assert found == {"descriptors": "EMFILE", "big_file": "EFBIG", "many_files": "ENOSPC"}


def test_a_gigantic_body_is_502(harness: ExecutorHarness):
    result = harness.invoke(
        "def handle(req):\n    return b'x' * (20 * 1024 * 1024)\n",
        limits=Limits(max_response_bytes=1024 * 1024),
    )
    assert (result.outcome, result.status, result.body) == ("invalid_response", 502, b"")
    assert result.error == "response body of 20971520 bytes exceeds max_response_bytes 1048576"


def test_a_forged_gigantic_frame_is_502_without_being_read(harness: ExecutorHarness):
    source = """
import os, struct, sys, time

def handle(req):
    os.write(int(sys.argv[2]), struct.pack(">I", 2**32 - 1))
    time.sleep(10)
"""
    result = harness.invoke(source, limits=Limits(max_response_bytes=1024 * 1024))
    assert (result.outcome, result.status, result.body) == ("invalid_response", 502, b"")
    assert result.error.startswith("response of 4294967295 bytes exceeds max_response_bytes")


FORGER = """
import msgspec, os, struct, sys

def forge(frame):
    payload = msgspec.msgpack.encode(frame)
    os.write(int(sys.argv[2]), struct.pack(">I", len(payload)) + payload)

def handle(req):
    victim = req.query["victim"]
    log = {"type": "log", "level": "info", "message": "forged", "fields": {"app_id": victim}}
    forge(log)
    if req.query.get("claim"):
        forge({**log, "message": "claim", "app_id": victim})
    return "sent"
"""

VICTIM = """
import time

def handle(req, ctx):
    time.sleep(0.5)
    ctx.log.info("victim's own line")
    return "victim"
"""


def test_forged_frames_cannot_speak_for_another_app(harness: ExecutorHarness):
    attacker, victim = fresh_app(), fresh_app()
    victim_job = invocation(VICTIM, app=victim)
    attack_job = invocation(FORGER, app=attacker, query=f"victim={victim}")
    victim_result, attack_result = harness.invoke_all(victim_job, attack_job)
    # The host decides the app from the worker a frame came from, never from the frame.
    assert [line.message for line in victim_result.logs] == ["victim's own line"]
    assert attack_result.outcome == "ok"
    assert [line.message for line in attack_result.logs] == ["forged"]


def test_a_frame_claiming_an_identity_kills_the_forger(harness: ExecutorHarness):
    attacker, victim = fresh_app(), fresh_app()
    victim_job = invocation(VICTIM, app=victim)
    attack_job = invocation(FORGER, app=attacker, query=f"victim={victim}&claim=1")
    victim_result, attack_result = harness.invoke_all(victim_job, attack_job)
    assert (victim_result.outcome, victim_result.body) == ("ok", b"victim")
    assert [line.message for line in victim_result.logs] == ["victim's own line"]
    assert (attack_result.outcome, attack_result.status) == ("crashed", 502)
    assert "worker broke the channel protocol" in attack_result.error
    assert "app_id" in attack_result.error


def test_workers_run_unprivileged_on_the_host(harness: ExecutorHarness):
    app = fresh_app()
    harness.invoke("def handle(req):\n    return 'x'\n", app=app)
    (pid,) = harness.worker_pids(app)
    status = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    status = {key: value.split() for key, value in status.items()}
    expected_id = ["65534"] * 4 if os.geteuid() == 0 else [str(os.geteuid())] * 4
    assert status["Uid"] == status["Gid"] == expected_id
    assert status["CapEff"] == status["CapPrm"] == status["CapAmb"] == ["0000000000000000"]
    assert status["NoNewPrivs"] == ["1"]
    assert status["Seccomp"] == ["2"]  # a filter is loaded
