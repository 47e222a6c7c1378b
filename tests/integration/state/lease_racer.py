"""A separate process for the lease tests: takes lease commands on stdin and answers each on stdout.

    python lease_racer.py STATE_URL HOLDER
    acquire SOURCE TTL  ->  won | lost
    renew SOURCE TTL    ->  won | lost
    release SOURCE      ->  won | lost
It prints `ready` once the store is open, so the test can start every racer before the first round.
"""

from __future__ import annotations

import sys

from crawlers.state.store import StateStore


def main(url: str, holder: str) -> None:
    with StateStore.open(url, upgrade=False) as store:
        print("ready", flush=True)
        for line in sys.stdin:
            verb, source_id, *rest = line.split()
            if verb == "acquire":
                ok = store.leases.try_acquire(source_id, holder, ttl=float(rest[0]))
            elif verb == "renew":
                ok = store.leases.renew(source_id, holder, ttl=float(rest[0]))
            elif verb == "release":
                ok = store.leases.release(source_id, holder)
            else:
                raise SystemExit(f"unknown command {verb!r}")
            print("won" if ok else "lost", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
