"""How long `edufed` takes to answer `--help`: the best of N fresh processes per command, with the load average.

    .venv/bin/python -m bench.bench_cli_start [--runs 5]

Start-up time is what a user waits for on every command; the parser is built from argparse alone and each
command's modules load when it runs (search_api/cli/), so help never waits for the harvest engine or the web app.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

COMMANDS = (["--help"], ["harvest", "--help"], ["sources", "add", "--help"])


def best_of(argv: list[str], runs: int) -> float:
    """The shortest wall time of `runs` fresh `edufed` processes, in seconds."""
    edufed = shutil.which("edufed", path=str(Path(sys.executable).parent)) or "edufed"
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([edufed, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="processes per command (default 5)")
    args = parser.parse_args()
    for argv in COMMANDS:
        seconds = best_of(argv, args.runs)
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"edufed {' '.join(argv):<20} best of {args.runs}: {seconds:.3f} s  (load average {load})")


if __name__ == "__main__":
    main()
