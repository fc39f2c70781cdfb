"""Hostile requests to the data plane of a real server: generated odd requests never get a server
error or anything of the host's files, oversized heads and bodies are refused, and slow clients
are cut off without holding the concurrency gate or a worker."""

from __future__ import annotations

import doctest
import json
import socket
import string
import time
from pathlib import Path
from urllib.parse import quote, unquote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from live_server import LiveServer
from reliability import raw_http
from reliability.live_platform import admin, deploy, eventually, metric
from reliability.raw_http import exchange, raw_request

pytestmark = pytest.mark.slow

ECHO = """
def handle(req):
    return {"path": req.path, "host": req.host, "query": dict(req.query), "size": len(req.body),
            "agent": req.headers.get("user-agent")}
"""
#: What no answer may ever contain: a host file, or a Python traceback.
LEAKS = (b"root:x:0:0", b"Traceback (most recent call last)")

odd_bytes = st.binary(max_size=64)
odd_text = st.text(max_size=64).map(lambda s: s.encode("utf-8", "surrogatepass"))
hosts = st.one_of(
    st.just(b"localhost"),
    odd_bytes,
    odd_text,
    st.sampled_from(
        [
            b"localhost",
            b"LOCALHOST.",
            b"localhost:99999",
            b"localhost:-1",
            b"127.0.0.1:0",
            b"[::1]",
            b"*.localhost",
            b"{tenant}.localhost",
            b"xn--",
            b"xn--zz.localhost",
            b"\xff\xfe",
            b"a" * 4_000,
            b"a." * 200,
            b"",
        ]
    ),
)
paths = st.one_of(
    st.sampled_from([b"/echo", b"/echo?name=%ff%fe&x=\xff", b"/files/a%2Fb/../c", b"/files/%00"]),
    st.sampled_from(
        [
            b"/echo",
            b"/echo/../echo",
            b"/../../../../etc/passwd",
            b"/echo/%2e%2e/%2e%2e/etc/passwd",
            b"/echo%2F..%2F..%2Fetc%2Fpasswd",
            b"/admin/static/../../../../etc/passwd",
            b"/admin/static/..%2f..%2f..%2f..%2fetc%2fpasswd",
            b"/admin/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
            b"//echo",
            b"/echo?name=%ff%fe",
            b"/echo?%00=%00",
            b"/hello?name=\xff",
            b"/\xc3\x28",
            b"/%",
            b"/%zz",
            b"*",
            b"http://localhost/echo",
            b"/" + b"x" * 8_000,
        ]
    ),
    st.binary(max_size=64).map(lambda b: b"/" + b),
    st.text(max_size=32).map(lambda t: b"/echo/" + t.encode("utf-8", "surrogatepass")),
)
methods = st.sampled_from([b"GET", b"POST", b"HEAD", b"DELETE", b"OPTIONS", b"FOO", b"G\xffT"])
header_names = st.one_of(
    st.sampled_from(
        [b"User-Agent", b"Cookie", b"Content-Type", b"Authorization", b"X-Forwarded-For", b"Expect"]
    ),
    st.text(string.ascii_letters + "-_.!#", min_size=1, max_size=16).map(str.encode),
    st.binary(min_size=1, max_size=8),
)
one_line = odd_bytes.filter(lambda value: b"\r" not in value and b"\n" not in value)
FUZZ_SETTINGS = dict(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
headers = st.lists(st.tuples(header_names, st.one_of(one_line, odd_bytes)), max_size=4)


@pytest.fixture(scope="module")
def server(live_server: LiveServer) -> LiveServer:
    with admin(live_server) as api:
        deploy(api, ECHO, "/echo", method=None)
        deploy(api, ECHO, "/files/*", name="files", method=None)
    return live_server


def test_the_raw_request_helper_examples_hold() -> None:
    assert doctest.testmod(raw_http).failed == 0


def test_generated_malformed_requests_never_get_a_server_error(server: LiveServer) -> None:
    @given(method=methods, target=paths, host=hosts, extra=headers, body=st.binary(max_size=256))
    @settings(**FUZZ_SETTINGS)
    def request(method, target, host, extra, body) -> None:
        sent = raw_request(method, target, [(b"Host", host), *extra], body)
        answer = exchange(server.port, sent, head=method == b"HEAD")
        # No answer at all is fine only for bytes that are not HTTP (a 400 is the usual answer).
        assert answer.status is None or answer.status < 500, (sent, answer)
        assert not any(leak in answer.body for leak in LEAKS), (sent, answer)

    request()
    assert httpx.get(f"{server.url}/healthz").text == "ok"


def test_generated_odd_but_valid_requests_reach_the_script_intact(server: LiveServer) -> None:
    local_hosts = st.sampled_from([b"localhost", b"LocalHost", b"localhost.", b"localhost:1"])
    field_value = st.binary(max_size=64).map(
        lambda b: bytes(c for c in b if c >= 0x20 and c != 0x7F).strip()
    )

    @given(
        host=local_hosts,
        segment=st.binary(max_size=48),
        query=st.binary(max_size=48),
        agent=field_value,
        body=st.binary(max_size=512),
    )
    @settings(**FUZZ_SETTINGS)
    def request(host, segment, query, agent, body) -> None:
        target = f"/files/x{quote(segment, safe='')}?q={quote(query, safe='')}".encode()
        sent = raw_request(b"POST", target, [(b"Host", host), (b"User-Agent", agent)], body)
        answer = exchange(server.port, sent)
        assert answer.status == 200, (sent, answer)
        seen = json.loads(answer.body)
        # uvicorn decodes the path once, as UTF-8 with replacement; the route saw the same text.
        assert seen["path"] == "/files/x" + unquote(quote(segment, safe=""))
        assert seen["size"] == len(body)
        assert seen["agent"] == agent.decode("latin-1")

    request()


@pytest.mark.parametrize(
    "target",
    [
        b"/admin/static/../../../../etc/passwd",
        b"/admin/static/..%2f..%2f..%2f..%2fetc%2fpasswd",
        b"/admin/static/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        b"/files/..%2f..%2f..%2f..%2fetc%2fpasswd",
    ],
)
def test_path_traversal_never_reaches_host_files(server: LiveServer, target: bytes) -> None:
    answer = exchange(server.port, raw_request(b"GET", target, [(b"Host", b"localhost")]))
    assert b"root:" not in answer.body
    if answer.status == 200:  # only the script may answer, and it sees the path as text
        assert target.startswith(b"/files/")


def test_encoded_slashes_and_invalid_utf8_reach_the_script_as_text(server: LiveServer) -> None:
    slash = exchange(
        server.port, raw_request(b"GET", b"/files/a%2Fb?name=%ff", [(b"Host", b"localhost")])
    )
    assert slash.status == 200
    seen = httpx.Response(200, content=slash.body).json()
    assert seen["path"] == "/files/a/b"  # decoded once, as the route saw it
    assert seen["query"] == {"name": "\ufffd"}
    agent = exchange(
        server.port,
        raw_request(b"GET", b"/echo", [(b"Host", b"localhost"), (b"User-Agent", b"\xff\xfe")]),
    )
    assert agent.status == 200


def test_oversized_heads_are_refused_with_431(server: LiveServer) -> None:
    for head in (
        [(b"Host", b"a" * 100_000)],
        [(b"Host", b"localhost"), (b"X-Big", b"b" * 100_000)],
        [(b"Host", b"localhost")] + [(f"X-{n}".encode(), b"c" * 1_000) for n in range(200)],
    ):
        answer = exchange(server.port, raw_request(b"GET", b"/echo", head))
        assert answer.status == 431
    long_url = exchange(
        server.port, raw_request(b"GET", b"/echo?" + b"q" * 100_000, [(b"Host", b"localhost")])
    )
    assert long_url.status == 431
    assert httpx.get(f"{server.url}/echo").status_code == 200


def test_bodies_over_the_limit_are_refused_with_413_declared_or_chunked(
    server: LiveServer,
) -> None:
    big = b"z" * (1_048_576 + 1)  # one byte over the default max_request_bytes
    declared = exchange(server.port, raw_request(b"POST", b"/echo", [(b"Host", b"localhost")], big))
    assert declared.status == 413
    chunked = httpx.post(
        f"{server.url}/echo", content=iter([big[:600_000], big[600_000:]]), timeout=30
    )
    assert chunked.status_code == 413
    just_right = httpx.post(f"{server.url}/echo", content=big[:-1], timeout=30)
    assert just_right.json()["size"] == 1_048_576


# -- slow clients ---------------------------------------------------------------------------------


def closed_by_server(sock: socket.socket) -> bytes:
    """Whatever the server sent before it closed the connection (waits up to 30 s)."""
    sock.settimeout(30)
    received = b""
    while chunk := sock.recv(65_536):
        received += chunk
    return received


def test_slow_clients_are_cut_off_without_holding_the_gate(
    tmp_path: Path, start_live_server
) -> None:
    server = start_live_server(tmp_path / "data", {"PICLOUD_MAX_CONCURRENT_EXECUTIONS": "2"})
    with admin(server) as api:
        deploy(api, ECHO, "/echo", method=None)

    def connect(first_bytes: bytes) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.sendall(first_bytes)
        return sock

    silent = connect(b"")
    slow_head = connect(b"GET /echo HTTP/1.1\r\nHost: local")
    # More slow bodies than the gate has room for: none of them may hold it.
    slow_bodies = [
        connect(b"POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\nab")
        for _ in range(4)
    ]
    time.sleep(0.5)
    assert metric(server, "picloud_executions_in_flight") == 0
    assert httpx.get(f"{server.url}/echo").status_code == 200
    for sock in (silent, slow_head):
        received = closed_by_server(sock)
        assert received == b"" or received.startswith(b"HTTP/1.1 408")
    for sock in slow_bodies:
        assert closed_by_server(sock).startswith(b"HTTP/1.1 408")
    eventually(lambda: httpx.get(f"{server.url}/echo").status_code == 200, within=5)
