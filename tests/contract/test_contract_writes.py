"""Contract: writing, replacing, withdrawing and reading back records, and persistence across reopening."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from contract_corpus import BackendFactory, make_record

from indexer.backends.base import IndexBackend, SearchQuery
from indexer.record import Record


def _uids(backend: IndexBackend, q: str) -> set[str]:
    return {h.record.uid for h in backend.search(SearchQuery(q=q, size=100)).hits}


def test_upsert_counts_new_records_as_written(backend: IndexBackend, corpus: list[Record]) -> None:
    result = backend.upsert(corpus)
    assert (result.written, result.unchanged) == (len(corpus), 0)
    assert backend.count() == len(corpus)


def test_upsert_of_unchanged_records_counts_them_unchanged_even_with_new_fetch_time(
    backend: IndexBackend, corpus: list[Record]
) -> None:
    backend.upsert(corpus)
    refetched = [r.model_copy(update={"fetched_at": r.fetched_at + timedelta(days=1)}) for r in corpus]
    result = backend.upsert(refetched)
    assert (result.written, result.unchanged) == (0, len(corpus))
    assert backend.get(corpus[0].uid) == corpus[0]


def test_changed_record_is_rewritten_and_found_by_its_new_text_only(
    backend: IndexBackend, corpus: list[Record]
) -> None:
    backend.upsert(corpus)
    old = corpus[0]
    changed = make_record(old.source_id, "围棋入门", themes=["闲暇生活"])
    assert changed.uid == old.uid
    result = backend.upsert([changed])
    assert (result.written, result.unchanged) == (1, 0)
    assert backend.count() == len(corpus)
    assert old.uid in _uids(backend, "围棋")
    assert old.uid not in _uids(backend, "楷书")
    stored = backend.get(old.uid)
    assert stored is not None and stored.title == "围棋入门"


def test_record_without_content_hash_is_stored_with_one(backend: IndexBackend) -> None:
    record = make_record("nh1", "无哈希记录").model_copy(update={"content_hash": ""})
    assert backend.upsert([record]).written == 1
    stored = backend.get(record.uid)
    assert stored is not None and stored.content_hash == record.compute_hash()
    assert backend.upsert([record]).unchanged == 1


def test_last_copy_of_a_uid_in_one_batch_wins(backend: IndexBackend) -> None:
    first, second = make_record("d1", "第一版标题"), make_record("d1", "第二版标题")
    backend.upsert([first, second])
    assert backend.count() == 1
    stored = backend.get(first.uid)
    assert stored is not None and stored.title == "第二版标题"


def test_get_returns_the_full_record_with_raw(loaded: IndexBackend, corpus: list[Record]) -> None:
    for record in corpus:
        assert loaded.get(record.uid) == record
    stored = loaded.get(corpus[0].uid)
    assert stored is not None and stored.raw == {
        "id": "sf1",
        "name": corpus[0].title,
        "extra": [1, 2, {"k": "值"}],
    }


def test_get_of_unknown_uid_is_none(loaded: IndexBackend) -> None:
    assert loaded.get("nobody:0") is None


def test_withdraw_removes_records_from_get_count_and_search(loaded: IndexBackend, uid: dict[str, str]) -> None:
    total = loaded.count()
    assert loaded.withdraw([uid["sf1"], uid["sf2"], "nobody:0"]) == 2
    assert loaded.count() == total - 2
    assert loaded.get(uid["sf1"]) is None
    found = _uids(loaded, "书法")
    assert uid["sf1"] not in found and uid["sf2"] not in found and uid["sf4"] in found
    browse = loaded.search(SearchQuery(size=100))
    assert browse.total == total - 2
    assert sum(browse.facets["platform"].values()) == total - 2


def test_withdraw_source_removes_only_that_source(loaded: IndexBackend, corpus: list[Record]) -> None:
    lndx = [r for r in corpus if r.source == "lndx"]
    assert loaded.withdraw_source("lndx") == len(lndx)
    assert loaded.count("lndx") == 0
    assert loaded.count() == len(corpus) - len(lndx)
    assert "lndx" not in loaded.search(SearchQuery()).facets["platform"]
    assert loaded.withdraw_source("lndx") == 0


def test_withdrawn_record_can_come_back(loaded: IndexBackend, corpus: list[Record]) -> None:
    loaded.withdraw([corpus[0].uid])
    assert loaded.upsert([corpus[0]]).written == 1
    assert corpus[0].uid in _uids(loaded, "楷书")


def test_count_and_content_hashes_per_source(loaded: IndexBackend, corpus: list[Record]) -> None:
    for source in {r.source for r in corpus}:
        mine = [r for r in corpus if r.source == source]
        assert loaded.count(source) == len(mine)
        assert loaded.content_hashes(source) == {r.uid: r.content_hash for r in mine}
    assert loaded.content_hashes("nobody") == {}


def test_iter_records_yields_every_record_once(loaded: IndexBackend, corpus: list[Record]) -> None:
    assert sorted(loaded.iter_records(), key=lambda r: r.uid) == sorted(corpus, key=lambda r: r.uid)
    smartedu = list(loaded.iter_records("smartedu"))
    assert {r.uid for r in smartedu} == {r.uid for r in corpus if r.source == "smartedu"}


def test_index_survives_close_and_reopen(backend_factory: BackendFactory, tmp_path: Path, corpus: list[Record]) -> None:
    first = backend_factory(tmp_path)
    first.upsert(corpus)
    first.withdraw([corpus[1].uid])
    first.close()
    second = backend_factory(tmp_path)
    try:
        assert second.count() == len(corpus) - 1
        assert second.get(corpus[0].uid) == corpus[0]
        assert corpus[0].uid in _uids(second, "书法")
        assert second.search(SearchQuery(themes=("养生保健",))).total == sum("养生保健" in r.themes for r in corpus)
        assert second.upsert(corpus).written == 1
    finally:
        second.close()


def test_searches_in_several_threads_while_a_harvest_writes(backend: IndexBackend, corpus: list[Record]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    backend.upsert(corpus[:10])
    batches = [[make_record(f"t{b}-{i}", f"太极拳第{b}批第{i}课") for i in range(20)] for b in range(10)]

    def searching(_: int) -> int:
        seen = 0
        for _round in range(15):
            result = backend.search(SearchQuery(q="太极拳", size=5))
            assert result.total >= len(result.hits)
            seen = max(seen, result.total)
        return seen

    with ThreadPoolExecutor(max_workers=4) as pool:
        readers = [pool.submit(searching, n) for n in range(4)]
        for batch in batches:
            assert backend.upsert(batch).written == len(batch)
        assert all(r.result() >= 0 for r in readers)
    assert backend.count() == 10 + 200
    assert backend.search(SearchQuery(q="太极拳")).total == 200 + sum("太极拳" in r.title for r in corpus[:10])


def test_a_search_repeated_after_a_write_or_a_withdrawal_sees_it(backend: IndexBackend, corpus: list[Record]) -> None:
    backend.upsert(corpus)
    before = _uids(backend, "围棋")
    assert _uids(backend, "围棋") == before  # asked again, nothing changed
    added = make_record("wq-new", "围棋中级：布局与定式", themes=["闲暇生活"])
    backend.upsert([added])
    assert _uids(backend, "围棋") == before | {added.uid}
    backend.withdraw([added.uid])
    assert _uids(backend, "围棋") == before
