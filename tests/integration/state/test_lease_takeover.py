"""A lease whose holder process died on this machine is taken over at once; a live or foreign holder keeps it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawlers.state import holders
from crawlers.state.holders import holder_gone, new_holder, parse_holder
from crawlers.state.store import StateStore

TTL = 120.0
HOLDERS = Path(holders.__file__)
HOLDER_SCRIPT = f"""
import importlib.util, sys
spec = importlib.util.spec_from_file_location("holders", {str(HOLDERS)!r})
module = sys.modules["holders"] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(module.new_holder(), flush=True)
input()
"""
"""Another process making its holder id (crawlers/state/holders.py alone, without the packages' imports)."""


@pytest.fixture
def live_holder() -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """The holder id of another live process of this machine (it waits on its stdin), and that process."""
    process = subprocess.Popen([sys.executable, "-c", HOLDER_SCRIPT], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               text=True)  # fmt: skip
    assert process.stdout is not None
    holder = process.stdout.readline().strip()
    try:
        yield holder, process
    finally:
        process.kill()
        process.wait(timeout=30)
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()


def end(process: subprocess.Popen[str]) -> None:
    process.kill()
    process.wait(timeout=30)


def test_a_lease_of_a_process_that_died_here_is_taken_over_at_once(
    store: StateStore, live_holder: tuple[str, subprocess.Popen[str]]
) -> None:
    dead, process = live_holder
    assert store.leases.try_acquire("src", dead, ttl=TTL)
    assert not store.leases.try_acquire("src", new_holder(), ttl=TTL)  # alive: its lease holds
    end(process)
    mine = new_holder()
    assert store.leases.try_acquire("src", mine, ttl=TTL)  # long before the ttl lapses
    lease = store.leases.get("src")
    assert lease is not None and lease.holder == mine


def test_a_lease_naming_a_reused_pid_is_taken_over(
    store: StateStore, live_holder: tuple[str, subprocess.Popen[str]]
) -> None:
    holder, _ = live_holder
    found = parse_holder(holder)
    assert found is not None and found.start != "0"
    earlier = holder.replace(f".{found.start}.", f".{int(found.start) - 1}.")  # same PID, an older process
    assert holder_gone(earlier) and not holder_gone(holder)
    assert store.leases.try_acquire("src", earlier, ttl=TTL)
    assert store.leases.try_acquire("src", new_holder(), ttl=TTL)


@pytest.mark.parametrize(
    "foreign",
    ["elsewhere:1:0a1b2c3d.100.abcdef123456", "host-a:1", "scheduler-1"],
    ids=["another-machine", "an-old-holder-id", "not-a-process"],
)
def test_a_lease_whose_holder_cannot_be_checked_here_waits_for_its_ttl(store: StateStore, foreign: str) -> None:
    assert store.leases.try_acquire("src", foreign, ttl=TTL)
    assert not holder_gone(foreign)
    assert not store.leases.try_acquire("src", new_holder(), ttl=TTL)


def test_a_process_never_takes_its_own_lease_for_a_dead_one(store: StateStore) -> None:
    first, second = new_holder(), new_holder()
    assert store.leases.try_acquire("src", first, ttl=TTL)
    assert not holder_gone(first)
    assert not store.leases.try_acquire("src", second, ttl=TTL)
