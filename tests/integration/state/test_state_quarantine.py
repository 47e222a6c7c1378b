"""Quarantine: rejected records stored with reason and payload, browsed by source and run page by page."""

from __future__ import annotations

from crawlers.state.quarantine import MAX_PAYLOAD_CHARS, QuarantineItem
from crawlers.state.runs import RunOutcome


def _run(store, source_id):
    run = store.runs.start(source_id, trigger="schedule")
    store.runs.finish(run.id, RunOutcome(status="partial"))
    return run.id


def test_rejections_page_newest_first_by_source_and_run(store, registered, make_source):
    other = store.sources.add(make_source("other_feed"), created_by="config").id
    first_run, second_run = _run(store, registered), _run(store, registered)
    store.quarantine.add(
        registered, [QuarantineItem(f"a{i}", "标题为空", {"Id": f"a{i}"}) for i in range(3)], run_id=first_run
    )
    store.quarantine.add(
        registered,
        [QuarantineItem(f"b{i}", "URL 不是 http(s)", {"Id": f"b{i}"}) for i in range(4)],
        run_id=second_run,
    )
    store.quarantine.add(other, [QuarantineItem("c0", "bad", None)], run_id=_run(store, other))
    seen, before, pages = [], None, 0
    while True:
        page = store.quarantine.page(source_id=registered, before=before, limit=3)
        assert page.total == 7
        seen += [item.item_id for item in page.items]
        pages += 1
        before = page.next_before
        if before is None:
            break
    assert pages == 3
    assert seen == ["b3", "b2", "b1", "b0", "a2", "a1", "a0"]
    by_run = store.quarantine.page(run_id=first_run)
    assert [item.item_id for item in by_run.items] == ["a2", "a1", "a0"]
    assert by_run.total == 3 and by_run.next_before is None
    assert {item.reason for item in by_run.items} == {"标题为空"}


def test_a_quarantined_record_keeps_its_raw_payload(store, registered):
    payload = {"Id": "9a1c", "Title": None, "Teachers": [{"Name": "王老师"}], "Price": 0.0}
    run_id = _run(store, registered)
    store.quarantine.add(registered, [QuarantineItem("9a1c", "title is empty", payload)], run_id=run_id)
    stored = store.quarantine.page(source_id=registered).items[0]
    assert store.quarantine.get(stored.id) == stored
    assert (stored.payload, stored.run_id, stored.source_id) == (payload, run_id, registered)


def test_payloads_json_cannot_hold_or_too_large_are_kept_in_bounded_text(store, registered):
    huge = {"Description": "长" * (MAX_PAYLOAD_CHARS + 10)}
    items = [
        QuarantineItem(None, "not JSON", b"<item><title>\xe8\x80\x81</title>"),
        QuarantineItem("big", "too big", huge),
    ]
    store.quarantine.add(registered, items, run_id=None)
    big, raw = store.quarantine.page(source_id=registered).items
    assert raw.payload == "<item><title>老</title>"
    assert big.payload["truncated"] is True
    assert big.payload["original_chars"] > MAX_PAYLOAD_CHARS
    assert len(big.payload["text"]) == MAX_PAYLOAD_CHARS
