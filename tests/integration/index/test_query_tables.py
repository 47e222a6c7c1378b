"""An opened SQLite index reads the query tables (pinyin syllables, general word rarity) in the background, so a
learner's first pinyin word or question does not wait ~0.1-1 s for them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _loaded(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


PROBE = (
    "import indexer.analysis as analysis\n"
    "from indexer.word_rarity import _common_words\n"
    "print(analysis._syllables is not None, _common_words.cache_info().currsize)"
)


def test_a_fresh_process_has_not_read_them():
    assert _loaded(PROBE) == "False 0"  # the probe can see them missing


def test_opening_an_index_reads_them_before_any_search(tmp_path):
    opened = (
        "from pathlib import Path\n"
        "from indexer.backends.sqlite import SqliteBackend\n"
        f"SqliteBackend(Path({str(tmp_path / 'index.sqlite3')!r})).close()  # close waits for the warming\n"
    )
    assert _loaded(opened + PROBE) == "True 1"
