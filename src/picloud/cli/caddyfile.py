"""A Caddyfile for PiCloud nodes: load balancing, health checks and on-demand TLS.

Caddy asks PiCloud (`/api/v1/tls/ask?domain=...`) before it obtains a certificate, and PiCloud
answers 200 only for hosts some app claims, so nobody can make the proxy request certificates for
arbitrary names. `/metrics` stays internal: the proxy answers it with 404.
"""

from __future__ import annotations

from collections.abc import Sequence

TLS_ASK_PATH = "/api/v1/tls/ask"


def render_caddyfile(
    nodes: Sequence[str],
    *,
    http_port: int | None = None,
    email: str | None = None,
    admin: str | None = None,
) -> str:
    """The Caddyfile text for `nodes` (each `host:port`).

    With `http_port`, the site is plain HTTP on that port (tests, or TLS terminated elsewhere);
    otherwise every claimed host gets a certificate on demand. `admin` sets Caddy's admin
    endpoint (`off`, or an address when several Caddies share a machine)::

        >>> print(render_caddyfile(["10.0.0.2:8080"], http_port=8000))
        {
            auto_https off
        }
        <BLANKLINE>
        http://:8000 {
            @internal path /metrics /metrics/*
            respond @internal 404
            reverse_proxy 10.0.0.2:8080 {
                lb_policy round_robin
                lb_try_duration 5s
                health_uri /healthz
                health_interval 1s
                health_timeout 2s
                fail_duration 10s
            }
        }
        <BLANKLINE>
    """
    if not nodes:
        raise ValueError("at least one node (host:port) is needed")
    if http_port is None:
        global_lines = [
            *([f"    email {email}"] if email else []),
            "    on_demand_tls {",
            f"        ask http://{nodes[0]}{TLS_ASK_PATH}",
            "    }",
        ]
        site, tls = "https://", ["    tls {", "        on_demand", "    }"]
    else:
        global_lines = ["    auto_https off"]
        site, tls = f"http://:{http_port}", []
    if admin:
        global_lines.insert(0, f"    admin {admin}")
    lines = [
        "{",
        *global_lines,
        "}",
        "",
        f"{site} {{",
        *tls,
        "    @internal path /metrics /metrics/*",
        "    respond @internal 404",
        f"    reverse_proxy {' '.join(nodes)} {{",
        "        lb_policy round_robin",
        "        lb_try_duration 5s",
        "        health_uri /healthz",
        "        health_interval 1s",
        "        health_timeout 2s",
        "        fail_duration 10s",
        "    }",
        "}",
    ]
    return "\n".join(lines) + "\n"
