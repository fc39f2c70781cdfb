"""The seccomp filter every strict-mode worker loads before it runs any script.

Built once on the host with libseccomp (through pyseccomp) and handed to workers as a compiled
BPF program, so the sandbox needs neither libseccomp nor its Python binding. The filter allows by
default and refuses, with EPERM, what a script must never do: open sockets (only local
`socketpair`, which asyncio needs, stays), execute programs, create processes (threads stay),
trace or read other processes, mount, change namespaces, or signal anyone but itself. The
worker is pid 1 of its own pid namespace (`bwrap --as-pid-1`), so "itself" is pid 1.
"""

from __future__ import annotations

import errno
import tempfile

#: The worker's pid inside its sandbox.
WORKER_PID = 1

CLONE_THREAD = 0x00010000
NAMESPACE_FLAGS = (
    0x00020000,  # CLONE_NEWNS
    0x02000000,  # CLONE_NEWCGROUP
    0x04000000,  # CLONE_NEWUTS
    0x08000000,  # CLONE_NEWIPC
    0x10000000,  # CLONE_NEWUSER
    0x20000000,  # CLONE_NEWPID
    0x40000000,  # CLONE_NEWNET
)
AF_UNIX = 1
PR_SET_DUMPABLE = 4

#: Refused outright.
DENIED = (
    # network
    "socket",
    # programs and processes
    "execve",
    "execveat",
    "fork",
    "vfork",
    # other processes' memory, handles and signals
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "process_madvise",
    "kcmp",
    "pidfd_open",
    "pidfd_getfd",
    "pidfd_send_signal",
    "tkill",
    # file systems and namespaces
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "unshare",
    "setns",
    "open_by_handle_at",
    "name_to_handle_at",
    "fsopen",
    "fsmount",
    "fsconfig",
    "fspick",
    "move_mount",
    "open_tree",
    "mount_setattr",
    "swapon",
    "swapoff",
    # the kernel itself
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "io_uring_setup",  # io_uring requests bypass seccomp
    "io_uring_enter",
    "io_uring_register",
    "keyctl",
    "add_key",
    "request_key",
    "init_module",
    "finit_module",
    "delete_module",
    "kexec_load",
    "kexec_file_load",
    "reboot",
    "acct",
    "quotactl",
    "syslog",
    "iopl",
    "ioperm",
    "personality",
)


def compile_filter() -> bytes:
    """The filter as a BPF program (raises OSError/RuntimeError when libseccomp is unusable)."""
    import pyseccomp as seccomp  # loads libseccomp; only the host needs it

    deny = seccomp.ERRNO(errno.EPERM)
    rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for name in DENIED:
        rules.add_rule(deny, name)
    # glibc falls back from clone3 (whose flags seccomp cannot see) to clone on ENOSYS.
    rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    rules.add_rule(deny, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, CLONE_THREAD, 0))
    for flag in NAMESPACE_FLAGS:
        rules.add_rule(deny, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    rules.add_rule(deny, "socketpair", seccomp.Arg(0, seccomp.NE, AF_UNIX))
    for name in ("kill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo"):
        rules.add_rule(deny, name, seccomp.Arg(0, seccomp.NE, WORKER_PID))
    rules.add_rule(deny, "prctl", seccomp.Arg(0, seccomp.EQ, PR_SET_DUMPABLE))
    with tempfile.TemporaryFile() as program:
        rules.export_bpf(program)
        program.seek(0)
        return program.read()
