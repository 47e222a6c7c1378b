"""A harvest in a process of its own, for tests that kill it: `python -m tests.support.harvest_child DATA_DIR CONFIG`.

CONFIG is a json_api source config as JSON. The process opens the index and the state database in DATA_DIR,
prints `ready`, harvests the source with the state store (as the scheduler's child process does) and prints
the run's status.
"""

from __future__ import annotations

import sys
from pathlib import Path

from config.source_models import JsonApiSourceConfig
from tests.support.harvest_state import Harness


def main(argv: list[str]) -> int:
    data_dir, config_json = Path(argv[0]), argv[1]
    config = JsonApiSourceConfig.model_validate_json(config_json)
    with Harness.open(data_dir) as harness:
        print("ready", flush=True)
        report = harness.run(config)
        print(report.status, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
