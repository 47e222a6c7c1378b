"""`fold` gives what its plain form (full-width by regex, NFKC, OpenCC t2s on every text, lowercase) gives.

`fold` is used when records are indexed as well as when queries are parsed and hits highlighted, so its
shortcuts (a translate table, no NFKC or t2s for ASCII, no t2s for a text without a character t2s could change)
must not change a single output.
"""

from __future__ import annotations

import random
import re
import subprocess
import unicodedata
from pathlib import Path

import opencc
import pytest
from pydantic import BaseModel

from bench.corpus import generate
from indexer import analysis
from indexer.analysis import fold

_T2S = opencc.OpenCC("t2s")
_S2T = opencc.OpenCC("s2t")
_FULLWIDTH = re.compile("[\uff01-\uff5e\u3000]")


def reference_fold(text: str) -> str:
    """`fold` as it was written first: every step on every text."""
    text = _FULLWIDTH.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return str(_T2S.convert(text)).lower()


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, BaseModel):
        return [s for name in type(value).model_fields for s in _strings(getattr(value, name))]
    if isinstance(value, list | tuple):
        return [s for item in value for s in _strings(item)]
    return []


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else "\u3000" if c == " " else c for c in text)


def _corpus_texts() -> list[str]:
    texts = sorted({s for record in generate(1500, seed=17) for s in _strings(record)})
    assert len(texts) > 3000
    return texts


_ODD = [
    "ﬁﬂﬀﬃ ligatures",
    "㍻㍿㎏㎡℃№™½①⑳⒈",
    "Å Ω K ﬀ",
    "e\u0301 a\u0308 n\u0303",
    "ｶﾞｷﾞ ﾊﾟｿｺﾝ",
    "\u1100\u1161\u11a8 한국어",
    "\uf900\uf901\ufa0e\ufa10\U0002f800",
    "︰︱﹐﹑ 「」『』",
    "ＡＢＣ１２３ＸＹＺ！？",
    "İstanbul ΣΑΣ ß ǅ",
    "深沈 意志消沈 回覆 答覆 英哩 找藉口 破釜沈舟 捏坏 甦醒 瞭解 衹是",
    "沈阳 覆盖 藉口 坏人",
    "乾隆 乾燥 後天 皇后 头发 理髮",
    "",
    " ",
    "\x00\x1f\t\n",
]


def _samples() -> list[str]:
    texts = _corpus_texts()
    rng = random.Random(20261207)
    traditional = [str(_S2T.convert(t)) for t in rng.sample(texts, 800)]
    wide = [_full_width(t) for t in rng.sample(texts, 300)]
    mixed = [a + " " + b for a, b in zip(rng.sample(traditional, 200), rng.sample(wide, 200), strict=True)]
    blocks = [(0x20, 0x250), (0x2000, 0x2BFF), (0x2E80, 0xA000), (0xAC00, 0xAD00), (0xF900, 0xFB00), (0xFE30, 0xFFEF)]
    blocks += [(0x1F300, 0x1F700), (0x20000, 0x20400), (0x2F800, 0x2FA20)]
    random_texts = []
    for _ in range(400):
        start, end = rng.choice(blocks)
        random_texts.append("".join(chr(rng.randrange(start, end)) for _ in range(rng.randint(1, 90))))
    return texts + traditional + wide + mixed + random_texts + _ODD


def test_fold_equals_the_reference_on_a_large_varied_sample() -> None:
    samples = _samples()
    assert len(samples) > 5000
    differing = [t for t in samples if fold(t) != reference_fold(t)]
    assert differing == []
    # the sample does exercise every path: ASCII, untouched CJK, converted, full-width, NFKC
    assert any(t.isascii() and fold(t) != t for t in samples)
    assert any(not t.isascii() and analysis._t2s_may_change().search(fold(t)) is None for t in samples)
    assert sum(fold(t) != t.lower() for t in samples) > 500


def test_every_character_folds_as_the_reference_does() -> None:
    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000]
    differing = [c for c in chars if analysis._fold(c) != reference_fold(c)]
    assert differing == []


def test_t2s_changes_no_character_of_the_basic_plane_outside_the_scanned_blocks() -> None:
    scanned = [range(start, end) for start, end in analysis._T2S_SCANNED]
    chars = [chr(c) for c in range(0x10000) if not 0xD800 <= c < 0xE000 and not any(c in r for r in scanned)]
    assert "\n" in chars
    converted = str(_T2S.convert("\n".join(chars))).split("\n")
    assert len(converted) == len(chars) + 1  # the "\n" among them
    assert set(converted) == set(chars) - {"\n"} | {""}


def test_a_lone_surrogate_still_fails_in_the_converter() -> None:
    with pytest.raises(UnicodeEncodeError):
        fold("abc\ud800" + "x" * 70)
    with pytest.raises(UnicodeEncodeError):
        reference_fold("abc\ud800" + "x" * 70)


_DICTIONARIES = ("TSPhrases", "TSCharactersExt", "TSCharacters", "CJK_Compatibility_Ideographs")


def _dictionary_entries(tmp_path: Path) -> list[tuple[str, str]]:
    """The entries of the dictionaries OpenCC's t2s.json names, dumped by the opencc_dict its package ships."""
    clib = Path(opencc.__file__).parent / "clib"
    tool = clib / "bin" / "opencc_dict"
    if not tool.exists():
        pytest.skip("this OpenCC package ships no opencc_dict to read its dictionaries with")
    entries = []
    for name in _DICTIONARIES:
        out = tmp_path / f"{name}.txt"
        source = clib / "share" / "opencc" / f"{name}.ocd2"
        env = {"LD_LIBRARY_PATH": str(clib / "lib64")}
        subprocess.run([tool, "-i", source, "-o", out, "-f", "ocd2", "-t", "text"], check=True, env=env)
        for line in out.read_text(encoding="utf-8").splitlines():
            key, values = line.split("\t")
            entries.append((key, values))
    return entries


def test_every_entry_that_changes_a_text_holds_a_character_of_the_set(tmp_path: Path) -> None:
    may_change = analysis._t2s_may_change()
    entries = _dictionary_entries(tmp_path)
    assert len(entries) > 5000
    changing = [key for key, _ in entries if str(_T2S.convert(key)) != key]
    assert len(changing) > 4000
    assert [key for key in changing if may_change.search(key) is None] == []
    # phrases whose characters do not change alone need the phrase marks
    assert "深沈" in changing and str(_T2S.convert("沈")) == "沈"
