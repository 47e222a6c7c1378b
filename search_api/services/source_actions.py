"""What operators (and admins) do to sources, shared by the sources API and the operator pages.

Each change is validated in full before anything is written, and written together with its audit entry
in one transaction: a request either changes the source and logs it, or changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from config.settings import Settings
from config.source_models import SourceConfig
from crawlers import SOURCE_DELETION_REASON, AddressPolicy
from crawlers.state import (
    HeldDeletion,
    RunOutcome,
    SourceExistsError,
    StateNotFoundError,
    StateStore,
    StoredSource,
)
from indexer.backends.base import IndexBackend
from indexer.pipeline import RecordBuilder
from search_api.http.auth import ADMIN, Principal, ensure_platform
from search_api.http.errors import ApiError, NotFoundError
from search_api.services.dry_run import DryRunReport, dry_run
from search_api.services.source_checks import LocalizedProblem, check_addresses, invalid, parse_config, same_url_sources

logger = logging.getLogger(__name__)

MAX_CHANGE_CHARS = 2000


def actor_of(principal: Principal) -> str:
    """How the audit log names a key (its public id, never the secret)."""
    return f"key:{principal.key_id}"


def policy_of(settings: Settings) -> AddressPolicy:
    """The SSRF address policy of these settings."""
    return AddressPolicy.from_list(settings.http.allow_private_hosts)


def visible_sources(store: StateStore, principal: Principal) -> list[StoredSource]:
    """Every source for an admin; an operator's own platform's otherwise; deleted ones left out."""
    platform = None if principal.role == ADMIN else principal.platform
    return [s for s in store.sources.find(platform=platform) if not is_deleted(store, s.id)]


def is_deleted(store: StateStore, source_id: str) -> bool:
    hold = deletion_hold(store, source_id)
    return hold is not None and hold.status == "approved"


def owned_source(store: StateStore, principal: Principal, source_id: str) -> StoredSource:
    """A source the caller may act on: 404 when none, 403 when it is another platform's."""
    try:
        source = store.sources.get(source_id)
    except StateNotFoundError as exc:
        raise NotFoundError(f"no source {source_id!r}") from exc
    ensure_platform(principal, source.platform)
    return source


def config_for(principal: Principal, data: Any) -> SourceConfig:
    """A config from a request body; an operator's platform is filled in when missing and must be theirs."""
    if isinstance(data, dict) and principal.role != ADMIN and "platform" not in data:
        data = {**data, "platform": principal.platform}
    config = parse_config(data)
    ensure_platform(principal, config.platform)
    return config


def same_url_warnings(store: StateStore, principal: Principal, config: SourceConfig) -> list[dict[str, Any]]:
    """The other sources already harvesting this config's feed, as a warning each (two sources of one feed list
    every course twice): the one check of the sources API and the operator pages. Another platform's source is
    not named to an operator."""
    visible = {s.id for s in visible_sources(store, principal)}
    others = ((s.id, s.name, s.platform, s.config) for s in store.sources.find())
    warnings = []
    for found in same_url_sources(config, others):
        shown = found.source_id in visible
        name = found.name if shown else "另一个平台的来源"
        warnings.append({
            "code": "same_url", "field": found.field, "url": found.url,
            "source_id": found.source_id if shown else None, "name": name,
            "message": f"{found.url} is already harvested by "
                       f"{found.source_id if shown else 'a source of another platform'}: every course would be "
                       "listed twice",
            "message_zh": f"这个地址已经由「{name}」采集，再登记一次，每门课程会出现两次",
        })  # fmt: skip
    return warnings


def source_dict(source: StoredSource) -> dict[str, Any]:
    """A source as the API shows it: the switches, the bookkeeping and the full config."""
    return {
        "id": source.id, "platform": source.platform, "kind": source.kind, "name": source.name,
        "enabled": source.enabled, "paused": source.paused, "schedulable": source.schedulable,
        "created_by": source.created_by, "created_at": source.created_at.isoformat(),
        "updated_at": source.updated_at.isoformat(), "config": source.config.model_dump(mode="json"),
        "links": {"self": f"/api/v1/sources/{source.id}", "runs": f"/api/v1/sources/{source.id}/runs",
                  "dry_run": f"/api/v1/sources/{source.id}/dry-run", "page": f"/operator/sources/{source.id}"},
    }  # fmt: skip


def create_source(
    store: StateStore, principal: Principal, data: Any, *, settings: Settings, actor: str | None = None
) -> StoredSource:
    """Register a new source (validated, addresses checked) and log it (as `actor`, else the key); 409 when the
    id is taken."""
    config = config_for(principal, data)
    check_addresses(config, policy_of(settings))
    actor = actor or actor_of(principal)
    try:
        with store.transaction() as tx:
            source = tx.sources.add(config, created_by=actor)
            tx.audit.record(
                actor=actor,
                action="source.create",
                target=source.id,
                details={"platform": source.platform, "kind": source.kind, "enabled": source.enabled},
            )
    except SourceExistsError as exc:
        raise ApiError(409, "source_exists", f"a source with id {config.id!r} is already registered",
                       [LocalizedProblem("id", "this id is taken", "这个编号已被使用，请换一个")]) from exc  # fmt: skip
    return source


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON merge patch: objects merge key by key, null removes a key, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def changes_between(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Top-level keys whose value changed, with both values (cut short for the audit log)."""
    changed = {}
    for key in sorted(set(before) | set(after)):
        if before.get(key) != after.get(key):
            changed[key] = {"from": _short(before.get(key)), "to": _short(after.get(key))}
    return changed


def _short(value: Any) -> Any:
    text = repr(value)
    return value if len(text) <= MAX_CHANGE_CHARS else text[:MAX_CHANGE_CHARS] + "..."


def update_source(store: StateStore, principal: Principal, source_id: str, patch: Any, *,
                  settings: Settings, replace: bool = False) -> StoredSource:  # fmt: skip
    """Apply a merge patch to a source's config (or, with `replace`, a whole new config); the id and platform
    stay; validated, address-checked and logged in full before anything is written."""
    current = owned_source(store, principal, source_id)
    ensure_not_deleted(store, source_id)
    if not isinstance(patch, dict):
        invalid([LocalizedProblem("request", "the body must be a JSON object", "请求内容应该是一个 JSON 对象")])
    for fixed in ("id", "platform"):
        if fixed in patch and patch[fixed] != getattr(current, fixed):
            invalid([LocalizedProblem(fixed, f"the {fixed} of a source cannot change", "这一项注册后不能修改")])
    before = current.config.model_dump(mode="json")
    config = parse_config(patch if replace else merge_patch(before, patch))
    check_addresses(config, policy_of(settings))
    actor = actor_of(principal)
    after = config.model_dump(mode="json")
    with store.transaction() as tx:
        source = tx.sources.replace(config)
        tx.audit.record(actor=actor, action="source.update", target=source_id,
                        details={"changed": changes_between(before, after)})  # fmt: skip
    return source


DELETION_TRIGGER = "delete"
"""The trigger of the run row a held source deletion is recorded under (holds belong to a run)."""
DELETION_REASON = SOURCE_DELETION_REASON
_HOLDS_LOOKED_AT = 50


@dataclass(frozen=True)
class Deletion:
    """What deleting a source did: removed at once (it had no live records) or held for an admin's approval."""

    source_id: str
    hold: HeldDeletion | None = None

    @property
    def status_code(self) -> int:
        """200 when the source is gone, 202 when its records wait for an admin to approve their withdrawal."""
        return 200 if self.hold is None else 202

    def to_dict(self) -> dict[str, Any]:
        if self.hold is None:
            return {"id": self.source_id, "deleted": True, "withdrawn_records": 0}  # it had none left to withdraw
        hold_id = self.hold.id
        return {
            "id": self.source_id, "deleted": False, "status": "held", "enabled": False, "hold_id": hold_id,
            "held_records": len(self.hold.uids),
            "message": f"the source is disabled; its {len(self.hold.uids)} records leave the catalogue when an "
                       f"admin approves held deletion {hold_id}",
            "links": {"holds": f"/api/v1/holds?source={self.source_id}", "source": f"/api/v1/sources/{self.source_id}"},
        }  # fmt: skip


def is_deletion_hold(hold: HeldDeletion) -> bool:
    """Whether a held deletion was made by deleting its source (not by a run's mass-deletion guard)."""
    return hold.reason.startswith(DELETION_REASON)


def deletion_hold(store: StateStore, source_id: str) -> HeldDeletion | None:
    """The newest held deletion made by deleting this source; None when nobody deleted it.

    Its status is the source's deletion state: pending (disabled, records still searchable), approved
    (records withdrawn: the source counts as deleted and is hidden from lists) or rejected (records kept,
    the source stays disabled until its operator enables it again).
    """
    for hold in store.holds.find(source_id=source_id, limit=_HOLDS_LOOKED_AT):
        if is_deletion_hold(hold):
            return hold
    return None


def ensure_not_deleted(store: StateStore, source_id: str) -> None:
    """409 while the source's deletion waits for approval, or once it was approved."""
    hold = deletion_hold(store, source_id)
    if hold is not None and hold.status == "pending":
        raise _deletion_pending(source_id, hold)
    if hold is not None and hold.status == "approved":
        message = f"{source_id} was deleted (held deletion {hold.id} approved); delete it again to unregister it"
        raise ApiError(409, "source_deleted", message)


def _deletion_pending(source_id: str, hold: HeldDeletion) -> ApiError:
    message = f"deleting {source_id} waits for an admin's approval (held deletion {hold.id})"
    return ApiError(409, "deletion_pending", message)


def live_uids(store: StateStore, backend: IndexBackend, source_id: str) -> list[str]:
    """The source's records in the catalogue: those in the index and those the state database counts as live
    (after a crash between the two writes, either may hold a record the other lacks)."""
    indexed = set(backend.content_hashes(source_id))
    remembered = {uid for uid, state in store.records.load(source_id).items() if not state.withdrawn}
    return sorted(indexed | remembered)


def ensure_deletable(settings: Settings, source_id: str, file_source_ids: Collection[str]) -> None:
    """409 when the configuration file defines the source (`file_source_ids`: the ids of settings' sources.yaml,
    loaded by the caller at its start): deleting it here would not last, since the file is seeded again at every
    start. The one rule the sources API, the operator pages and `edufed sources remove` apply before
    `delete_source`."""
    if source_id not in file_source_ids:
        return
    if settings.sources_file is None:
        where = "the bundled configuration file sources.yaml"
        how = "point sources_file in settings.yaml at a copy of it without that block"
    else:
        where = f"the configuration file {settings.sources_file.name}"
        how = "remove its block there"
    message = (f"{source_id} is defined in {where}: {how} and restart `edufed serve`, then delete the source "
               "again (it is no longer defined there) to take its records out")  # fmt: skip
    raise ApiError(
        409,
        "defined_in_config",
        message,
        [LocalizedProblem("id", f"defined in {where}", "这个来源写在配置文件里，请在配置文件中删除")],
    )


def delete_source(
    store: StateStore, backend: IndexBackend, principal: Principal, source_id: str, *, actor: str | None = None
) -> Deletion:
    """Delete a source under the mass-deletion rules: one without live records is unregistered at once; one
    with live records is disabled and its records held for an admin's approval (202 with the hold).

    The source row stays while a hold references it; once the hold is approved the source is hidden from
    lists, and deleting it again unregisters it (its history goes with it; the audit log keeps the story).
    A running harvest is waited out (409), so it cannot put records back after they were counted. Callers
    check `ensure_deletable` first (a source the configuration file defines is not deleted this way).
    """
    source = owned_source(store, principal, source_id)
    earlier = deletion_hold(store, source_id)
    if earlier is not None and earlier.status == "pending":
        raise _deletion_pending(source_id, earlier)
    if store.leases.get(source_id) is not None:
        raise ApiError(409, "run_in_progress", f"a run of {source_id} is going; delete it when the run ends")
    actor = actor or actor_of(principal)
    uids = live_uids(store, backend, source_id)
    if not uids:
        with store.transaction() as tx:
            tx.sources.remove(source_id)
            tx.audit.record(actor=actor, action="source.delete", target=source_id, details={"withdrawn": 0})
        logger.info("source %s deleted by %s; it had no records in the catalogue", source_id, actor)
        return Deletion(source_id)
    hold = _hold_records(store, source, uids, actor=actor)
    logger.info("source %s deleted by %s: disabled, %d records held (hold %d)", source_id, actor, len(uids), hold.id)
    return Deletion(source_id, hold=hold)


def _hold_records(store: StateStore, source: StoredSource, uids: list[str], *, actor: str) -> HeldDeletion:
    """Disable the source and hold its records' withdrawal, recorded as a held run, in one transaction."""
    with store.transaction() as tx:
        tx.sources.replace(source.config.model_copy(update={"enabled": False}))
        run = tx.runs.start(source.id, trigger=DELETION_TRIGGER, holder=actor)
        hold = tx.holds.create(source.id, uids, run_id=run.id, reason=f"{DELETION_REASON}{actor}")
        report = {"deletion": {"requested_by": actor, "hold_id": hold.id, "held_records": len(uids)}}
        tx.runs.finish(run.id, RunOutcome(status="held", report=report))
        details = {"hold_id": hold.id, "held_records": len(uids), "was_enabled": source.enabled}
        tx.audit.record(actor=actor, action="source.delete_requested", target=source.id, details=details)
    return hold


def preview(config: SourceConfig, *, settings: Settings, builder: RecordBuilder) -> DryRunReport:
    """A dry-run of a config whose addresses pass the SSRF check (422 otherwise)."""
    check_addresses(config, policy_of(settings))
    return dry_run(config, http=settings.http, limits=settings.operators, builder=builder)


def runs_dicts(store: StateStore, source_id: str, *, limit: int) -> list[dict[str, Any]]:
    """A source's runs newest first, with counts and the error of a failed one."""
    return [{
        "id": run.id, "trigger": run.trigger, "status": run.status, "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "duration_seconds": run.duration_seconds, "counts": vars(run.counts).copy(),
        "error": {"type": run.error_type, "message": run.error_message} if run.error_type else None,
    } for run in store.runs.find(source_id=source_id, limit=limit)]  # fmt: skip
