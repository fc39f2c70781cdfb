"""How a worker process is started: the bubblewrap sandbox (strict) or a plain process (weak).

Strict mode layers, outermost first (docs/security.md has the full threat model and the test
behind every claim):

- bubblewrap: new pid, network, ipc, uts and cgroup namespaces; a root file system holding only
  a read-only view of the interpreter, its standard library (site-packages hidden), the system
  shared libraries, and the packages the worker imports (`picloud.sdk`,
  `picloud.executor.runtime`, msgspec) under `/opt/picloud`; a private size-capped tmpfs `/tmp`;
  a fresh /proc of the worker's own pid namespace and a minimal /dev; a cleared environment; a
  new session; `--die-with-parent`. The worker is pid 1 of its namespace (`--as-pid-1`).
- the worker's own seal (`runtime/seal.py`), before any script: drop to uid/gid 65534 (when the
  server runs as root: bubblewrap runs privileged, without a user namespace, so uid 65534 in the
  sandbox is uid 65534 on the host), non-dumpable, rlimits, then the seccomp filter
  (`syscall_filter.py`).

Weak mode starts the same worker as a plain subprocess with rlimits and an empty environment:
no namespaces, no seccomp, the server's uid. It is for development machines without bubblewrap.
"""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

import picloud
from picloud.executor.runtime.protocol import Boot
from picloud.executor.syscall_filter import compile_filter

#: Where the worker's packages appear inside the sandbox.
SANDBOX_LIB = "/opt/picloud"
UNPRIVILEGED_ID = 65534  # nobody / nogroup
TMP_BYTES = 16 * 1024 * 1024
MAX_OPEN_FILES = 64
MAX_THREADS = 256
#: System library directories made visible read-only (symlinks such as /lib -> usr/lib kept).
SYSTEM_LIBRARIES = ("/usr/lib", "/usr/lib64", "/lib", "/lib64")

_INSTALL_HINT = "install bubblewrap and libseccomp (apt-get install bubblewrap libseccomp2)"


class SandboxUnavailable(RuntimeError):
    """Strict mode cannot isolate workers on this machine."""

    def __init__(self, reason: str):
        super().__init__(
            f"the script sandbox is unavailable: {reason}; {_INSTALL_HINT}, "
            "or set PICLOUD_SANDBOX=weak to run scripts without isolation (development only)"
        )
        self.reason = reason


@dataclass(frozen=True)
class LaunchPlan:
    """Everything needed to start one worker; the same for every worker of a server."""

    mode: str  # "strict" or "weak"
    wrapper: tuple[str, ...]  # bwrap and its options; empty in weak mode
    python: str
    import_paths: tuple[str, ...]
    boot: Boot
    env: dict[str, str] = field(default_factory=dict)

    def argv(self, read_fd: int, write_fd: int, info_fd: int | None) -> list[str]:
        bootstrap = (
            f"import sys; sys.path[:0] = {list(self.import_paths)!r}; "
            "from picloud.executor.runtime.main import main; main()"
        )
        info = ("--info-fd", str(info_fd)) if info_fd is not None else ()
        command = [self.python, "-I", "-S", "-B", "-c", bootstrap, str(read_fd), str(write_fd)]
        return [*self.wrapper, *info, "--", *command] if self.wrapper else command


def plan_launch(
    mode: str, *, cpu_seconds: int, data_dir: Path, private_paths: tuple[Path, ...]
) -> LaunchPlan:
    """The plan for `mode`; strict raises SandboxUnavailable when it cannot be honoured.

    `private_paths` (the data directory, the database file) must stay out of the sandbox.
    """
    if mode == "weak":
        return _weak_plan(cpu_seconds, data_dir / "worker-lib")
    return _strict_plan(cpu_seconds, private_paths)


def _weak_plan(cpu_seconds: int, lib: Path) -> LaunchPlan:
    boot = Boot(
        uid=None,
        gid=None,
        max_open_files=MAX_OPEN_FILES,
        max_threads=None,  # the server's uid: its other processes would count too
        max_file_bytes=TMP_BYTES,
        cpu_seconds=cpu_seconds,
        seccomp_filter=None,
    )
    # The same packages a strict worker sees, as symlinks: a weak worker imports nothing else
    # of the server's environment either (and starts faster for it).
    for source, target in _worker_packages():
        _symlink(source, lib / target)
    return LaunchPlan("weak", (), sys.executable, (str(lib),), boot)


def _strict_plan(cpu_seconds: int, private_paths: tuple[Path, ...]) -> LaunchPlan:
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed")
    try:
        program = compile_filter()
    except (ImportError, OSError, RuntimeError, AttributeError) as exc:
        raise SandboxUnavailable(f"libseccomp is not usable ({exc})") from None
    binds = _read_only_binds()
    _refuse_exposed(private_paths, [source for source, _ in binds])
    as_root = os.geteuid() == 0
    wrapper = [
        bwrap,
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        # As root, no user namespace: the worker then drops to a real unprivileged host uid.
        # Otherwise a user namespace maps the server's own (already unprivileged) uid.
        *(
            ("--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID")
            if as_root
            else ("--unshare-user",)
        ),
        "--die-with-parent",
        "--new-session",
        "--as-pid-1",
        "--clearenv",
        *("--setenv", "HOME", "/tmp", "--setenv", "TMPDIR", "/tmp", "--setenv", "LANG", "C.UTF-8"),
        *_parent_dirs([target for _, target in binds]),
        *_bind_args(binds),
        *("--proc", "/proc", "--dev", "/dev"),
        *("--perms", "1777", "--size", str(TMP_BYTES), "--tmpfs", "/tmp", "--chdir", "/tmp"),
    ]
    site_packages = Path(sysconfig.get_path("stdlib")) / "site-packages"
    if site_packages.is_dir():
        wrapper += ["--tmpfs", str(site_packages), "--remount-ro", str(site_packages)]
    # Nothing but /tmp stays writable, whoever owns the sandbox's own file systems.
    wrapper += ["--remount-ro", "/dev", "--remount-ro", "/"]
    boot = Boot(
        uid=UNPRIVILEGED_ID if as_root else None,
        gid=UNPRIVILEGED_ID if as_root else None,
        max_open_files=MAX_OPEN_FILES,
        max_threads=MAX_THREADS,
        max_file_bytes=TMP_BYTES,
        cpu_seconds=cpu_seconds,
        seccomp_filter=program,
    )
    python = os.path.realpath(sys.executable)
    return LaunchPlan("strict", tuple(wrapper), python, (SANDBOX_LIB,), boot)


def _read_only_binds() -> list[tuple[str, str]]:
    """(host path, sandbox path) pairs, shallowest target first."""
    python = os.path.realpath(sys.executable)
    binds = [(python, python), (sysconfig.get_path("stdlib"),) * 2]
    if sysconfig.get_config_var("Py_ENABLE_SHARED"):
        libpython = Path(sysconfig.get_config_var("LIBDIR")) / sysconfig.get_config_var(
            "INSTSONAME"
        )
        binds.append((str(libpython), str(libpython)))
    binds += [(source, f"{SANDBOX_LIB}/{target}") for source, target in _worker_packages()]
    binds += [
        (path, path)
        for path in SYSTEM_LIBRARIES
        if os.path.isdir(path) and not os.path.islink(path)
    ]
    return sorted(binds, key=lambda bind: bind[1].count("/"))


def _worker_packages() -> list[tuple[str, str]]:
    """(host path, path under the worker's import root) of everything a worker imports beyond
    the standard library."""
    package = _package_root(picloud) / "picloud"
    return [
        (str(package / "__init__.py"), "picloud/__init__.py"),
        (str(package / "sdk"), "picloud/sdk"),
        (str(package / "executor" / "__init__.py"), "picloud/executor/__init__.py"),
        (str(package / "executor" / "runtime"), "picloud/executor/runtime"),
        (str(_package_root(msgspec) / "msgspec"), "msgspec"),
    ]


def _symlink(source: str, link: Path) -> None:
    if link.is_symlink() and os.readlink(link) == source:
        return
    link.parent.mkdir(parents=True, exist_ok=True)
    temporary = link.with_name(f".{link.name}.{os.getpid()}")
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(source)
    temporary.replace(link)  # atomic, for servers sharing a data directory


def _bind_args(binds: list[tuple[str, str]]) -> Iterator[str]:
    for path in SYSTEM_LIBRARIES:
        if os.path.islink(path):
            yield from ("--symlink", os.readlink(path), path)
    for source, target in binds:
        yield from ("--ro-bind", source, target)


def _parent_dirs(targets: list[str]) -> Iterator[str]:
    """Create every parent of a bind target world-readable (bwrap would copy the host's modes,
    and /root is 0700)."""
    parents = {str(parent) for target in targets for parent in Path(target).parents}
    for parent in sorted(parents - {"/"}, key=lambda p: p.count("/")):
        yield from ("--perms", "0755", "--dir", parent)


def _refuse_exposed(private_paths: tuple[Path, ...], sources: list[str]) -> None:
    for private in private_paths:
        private = private.resolve()
        for source in map(Path, sources):
            if private == source or source in private.parents or private in source.parents:
                raise SandboxUnavailable(
                    f"{private} would be visible to scripts through {source}; "
                    "move the data directory out of the interpreter and library directories"
                )


def _package_root(module: object) -> Path:
    """The directory that holds a top-level package, i.e. what goes on sys.path for it."""
    return Path(module.__file__).resolve().parent.parent
