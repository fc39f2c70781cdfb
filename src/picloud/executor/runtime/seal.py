"""Sealing a worker before any script runs: identity, limits, and the system-call filter.

The order matters. Privileges go first (a later setuid would reset the parent-death signal and
the dumpable flag); the seccomp filter goes last, once nothing left to do needs a blocked call.
Everything is set by the worker itself, so every limit is in place before the first line of
user code and no script can raise a hard limit afterwards.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import sys

from picloud.executor.runtime.protocol import Boot

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_SECCOMP = 22
PR_SET_NO_NEW_PRIVS = 38
SECCOMP_MODE_FILTER = 2
BPF_INSTRUCTION_BYTES = 8


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def seal(boot: Boot) -> None:
    if boot.gid is not None and boot.uid is not None:
        os.setgroups([])
        os.setgid(boot.gid)
        os.setuid(boot.uid)
    if sys.platform == "linux":
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # cleared by setuid; die with the sandbox
        _prctl(PR_SET_DUMPABLE, 0)  # no ptrace, no /proc/<pid>/mem, no core dumps
    _limit(resource.RLIMIT_NOFILE, boot.max_open_files)
    _limit(resource.RLIMIT_FSIZE, boot.max_file_bytes)
    _limit(resource.RLIMIT_CPU, boot.cpu_seconds)
    if boot.max_threads is not None:
        _limit(resource.RLIMIT_NPROC, boot.max_threads)
    if boot.seccomp_filter is not None:
        _load_seccomp(boot.seccomp_filter)


def limit_memory(nbytes: int) -> None:
    """Cap the address space; allocations past it raise MemoryError in the script."""
    _limit(resource.RLIMIT_AS, nbytes)


def _limit(which: int, value: int) -> None:
    _soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, value))


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int, *[ctypes.c_ulong] * 4]
    return libc


def _prctl(option: int, arg2: int, arg3: int = 0) -> None:
    if _libc().prctl(option, arg2, arg3, 0, 0) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"prctl({option}) failed: {os.strerror(errno)}")


def _load_seccomp(program: bytes) -> None:
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // BPF_INSTRUCTION_BYTES, ctypes.addressof(buffer))
    _prctl(PR_SET_NO_NEW_PRIVS, 1)
    _prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fprog))
