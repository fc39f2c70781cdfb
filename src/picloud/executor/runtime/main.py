"""A worker's life: preload, seal, wait to be bound to an app, then serve one invocation at a time.

Started as `python -I -S -c <bootstrap> READ_FD WRITE_FD`. Importing this module preloads
everything a script run needs (the SDK, asyncio, msgspec), so a spare worker that is bound to an
app answers its first request without importing anything.
"""

from __future__ import annotations

import faulthandler
import sys

from picloud.executor.runtime.channel import Channel
from picloud.executor.runtime.console import Console
from picloud.executor.runtime.invocations import InvocationRunner
from picloud.executor.runtime.protocol import Bind, Boot, Invoke, Ready
from picloud.executor.runtime.seal import limit_memory, seal
from picloud.sdk.context import AppInfo


def main() -> None:
    channel = Channel(int(sys.argv[1]), int(sys.argv[2]))
    # A segfault prints the Python stack to the console pipe; the host adds it to the error.
    faulthandler.enable()
    boot = channel.receive()
    if not isinstance(boot, Boot):
        return
    seal(boot)
    console = Console()
    console.install()
    channel.send(Ready())
    bind = channel.receive()
    if not isinstance(bind, Bind):
        return
    limit_memory(bind.memory_bytes)
    runner = InvocationRunner(
        channel, console, AppInfo(bind.app_id, bind.app_slug), bind.memory_bytes
    )
    while isinstance(invoke := channel.receive(), Invoke):
        channel.send(runner.run(invoke))
