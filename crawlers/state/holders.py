"""Lease holder ids that name their process, so a lease whose process died on this machine is freed at once.

A holder id is `host:pid:space.start.random`: the host name, the process id, a tag of the process space
(this boot of the machine and its PID namespace, so a container's PIDs are never read as the host's), the
process's start time in clock ticks since boot (/proc/PID/stat, so a PID reused by a newer process does
not pass for the holder) and a random part (one process takes many leases). `holder_gone` is True only
when it knows: the holder ran in this same process space and that process no longer exists (or is a
zombie, or is another process with the same PID). A holder from another machine or container, or an id
not made here, is never called gone: its lease lapses after its ttl as before.
"""

from __future__ import annotations

import hashlib
import os
import socket
import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import Path

_PROC = Path("/proc")
_UNKNOWN = "0"


@dataclass(frozen=True)
class HolderProcess:
    """What a holder id says about its process."""

    host: str
    pid: int
    space: str
    start: str


def new_holder() -> str:
    """A holder id for one lease taken by this process."""
    pid = os.getpid()
    return f"{_host()}:{pid}:{_space()}.{_start_time(pid) or _UNKNOWN}.{uuid.uuid4().hex[:12]}"


def parse_holder(holder: str) -> HolderProcess | None:
    """The process a holder id made by `new_holder` names; None for any other id."""
    host, _, rest = holder.partition(":")
    pid, _, tag = rest.partition(":")
    parts = tag.split(".")
    if not pid.isdigit() or len(parts) != 3:
        return None
    return HolderProcess(host=host, pid=int(pid), space=parts[0], start=parts[1])


def holder_gone(holder: str) -> bool:
    """True when the holder's process ran in this process space and is gone; False when alive or unknown."""
    process = parse_holder(holder)
    if process is None or process.host != _host() or process.space != _space() or process.space == _UNKNOWN:
        return False
    if process.pid == os.getpid():
        return False
    if not _exists(process.pid):
        return True
    started = _start_time(process.pid)
    if started is None:  # gone between the two looks, or a zombie waiting to be reaped
        return True
    return process.start != _UNKNOWN and started != process.start


def _host() -> str:
    return socket.gethostname()[:100].replace(":", "_")


@cache
def _space() -> str:
    """This boot of this machine and this PID namespace, as 8 hex digits; "0" where /proc cannot say."""
    try:
        boot = (_PROC / "sys/kernel/random/boot_id").read_text().strip()
        namespace = os.readlink(_PROC / "self/ns/pid")
    except OSError:
        return _UNKNOWN
    return hashlib.sha1(f"{boot} {namespace}".encode()).hexdigest()[:8]


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _start_time(pid: int) -> str | None:
    """The process's start time (clock ticks after boot); None when it is gone or a zombie."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()  # the name in parentheses may hold spaces and parentheses
    if len(fields) < 20 or fields[0] in ("Z", "X"):
        return None
    return fields[19]
