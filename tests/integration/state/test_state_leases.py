"""Leases: one holder per source at a time, across real processes, with take-over after expiry."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path

import pytest

RACER = Path(__file__).with_name("lease_racer.py")
ROUNDS = 150
POLL_SECONDS = 0.02
DEADLINE_SECONDS = 20


class Racer:
    """One lease_racer.py process, driven line by line."""

    def __init__(self, url: str, holder: str) -> None:
        self.holder = holder
        self.process = subprocess.Popen(
            [sys.executable, str(RACER), url, holder],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parents[3],
        )
        assert self.read() == "ready"

    def send(self, command: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()

    def read(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        assert line, f"racer {self.holder} exited with {self.process.poll()}"
        return line

    def ask(self, command: str) -> str:
        self.send(command)
        return self.read()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


@contextmanager
def racers(url: str, *holders: str) -> Iterator[list[Racer]]:
    with ExitStack() as stack:
        started = []
        for holder in holders:
            racer = Racer(url, holder)
            stack.callback(racer.kill)
            started.append(racer)
        yield started


def _poll_until(condition, *, what: str) -> float:
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > DEADLINE_SECONDS:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(POLL_SECONDS)
    return time.monotonic() - start


def test_a_held_lease_refuses_others_until_released(store):
    assert store.leases.try_acquire("elder_news", "host-a:1", ttl=60)
    assert not store.leases.try_acquire("elder_news", "host-b:2", ttl=60)
    assert store.leases.get("elder_news").holder == "host-a:1"
    assert not store.leases.release("elder_news", "host-b:2")
    assert store.leases.release("elder_news", "host-a:1")
    assert store.leases.get("elder_news") is None
    assert store.leases.try_acquire("elder_news", "host-b:2", ttl=60)


def test_reacquiring_our_own_lease_extends_it_and_keeps_its_start(store):
    assert store.leases.try_acquire("elder_news", "host-a:1", ttl=5)
    first = store.leases.get("elder_news")
    assert store.leases.try_acquire("elder_news", "host-a:1", ttl=600)
    again = store.leases.get("elder_news")
    assert again.acquired_at == first.acquired_at
    assert again.expires_at - first.expires_at > timedelta(seconds=500)


def test_renew_extends_only_the_holders_lease(store):
    assert store.leases.try_acquire("elder_news", "host-a:1", ttl=30)
    before = store.leases.get("elder_news").expires_at
    assert store.leases.renew("elder_news", "host-a:1", ttl=300)
    assert store.leases.get("elder_news").expires_at > before
    assert not store.leases.renew("elder_news", "host-b:2", ttl=300)
    assert not store.leases.renew("other_source", "host-a:1", ttl=300)


def test_an_expired_lease_is_taken_over_and_its_old_holder_cannot_renew(store):
    assert store.leases.try_acquire("elder_news", "host-a:1", ttl=0.3)
    assert not store.leases.try_acquire("elder_news", "host-b:2", ttl=60)
    _poll_until(lambda: store.leases.try_acquire("elder_news", "host-b:2", ttl=60), what="lease expiry")
    assert store.leases.get("elder_news").holder == "host-b:2"
    assert not store.leases.renew("elder_news", "host-a:1", ttl=60)
    assert [lease.source_id for lease in store.leases.find()] == ["elder_news"]


def test_non_positive_ttl_is_refused(store):
    with pytest.raises(ValueError, match="ttl"):
        store.leases.try_acquire("elder_news", "host-a:1", ttl=0)


def test_two_processes_racing_for_each_lease_never_both_win(store, state_url):
    with racers(state_url, "proc-a", "proc-b") as (first, second):
        winners = []
        for round_number in range(ROUNDS):
            command = f"acquire race_{round_number} 60"
            first.send(command)
            second.send(command)
            answers = {first.holder: first.read(), second.holder: second.read()}
            assert sorted(answers.values()) == ["lost", "won"], (round_number, answers)
            winner = next(holder for holder, answer in answers.items() if answer == "won")
            assert store.leases.get(f"race_{round_number}").holder == winner
            winners.append(winner)
    # Both processes won some rounds, so they really raced rather than one always arriving first.
    assert set(winners) == {"proc-a", "proc-b"}


def test_a_killed_holders_lease_is_taken_over_after_it_expires(store, state_url):
    with racers(state_url, "proc-a", "proc-b") as (holder, successor):
        assert holder.ask("acquire elder_news 1.5") == "won"
        holder.kill()  # dies mid-run without releasing
        assert successor.ask("acquire elder_news 60") == "lost"
        waited = _poll_until(lambda: successor.ask("acquire elder_news 60") == "won", what="take-over")
        assert store.leases.get("elder_news").holder == "proc-b"
        assert waited < DEADLINE_SECONDS
        assert successor.ask("renew elder_news 60") == "won"
        assert successor.ask("release elder_news") == "won"


def test_threads_sharing_one_store_never_both_win(store):
    rounds, holders = 30, [f"thread-{i}" for i in range(6)]
    results: dict[int, list[str]] = {n: [] for n in range(rounds)}
    start = threading.Barrier(len(holders))

    def race(holder: str) -> None:
        start.wait()
        for round_number in range(rounds):
            if store.leases.try_acquire(f"thread_race_{round_number}", holder, ttl=60):
                results[round_number].append(holder)

    threads = [threading.Thread(target=race, args=(holder,)) for holder in holders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(len(winners) == 1 for winners in results.values()), results
