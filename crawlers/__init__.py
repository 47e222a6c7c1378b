"""The harvesters: fetch course metadata from each platform politely and hand raw records to the indexer.

This module is the crawlers layer's public face: the upper layer (search_api) imports from here, from
`crawlers.state` (the harvest state database) and from `crawlers.demo` (the bundled demo platforms), never from
the modules behind them (tests/unit/test_layers.py holds it). Each name is imported when first used, so
`import crawlers` stays cheap (the CLI answers `--help` without loading the harvest engine).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crawlers.errors import HarvestError, UrlRefusedError
    from crawlers.kinds.oai_metadata import LOM_NS, OAI_DC_NS, THEMES_SOURCE
    from crawlers.logcontext import install as install_log_context
    from crawlers.netguard import AddressPolicy, allow_source_hosts
    from crawlers.preview import DryRunReport, FieldWarning
    from crawlers.preview import preview as preview_source
    from crawlers.reindex_inputs import default_workers, reindex, stored_records, withdrawn_in_state
    from crawlers.run import RunProgress, RunReport, harvest
    from crawlers.run_gc import freeze_started, serving_collections
    from crawlers.run_heartbeat import RunHeartbeat
    from crawlers.schedule import TIMEZONE, HarvestScheduler, SourceBusyError, new_holder
    from crawlers.supervise import LeaseKeeper
    from crawlers.withdrawals import SOURCE_DELETION_REASON, apply_hold, reject_hold

_WHERE: dict[str, tuple[str, str]] = {
    "HarvestError": ("crawlers.errors", "HarvestError"),
    "UrlRefusedError": ("crawlers.errors", "UrlRefusedError"),
    "LOM_NS": ("crawlers.kinds.oai_metadata", "LOM_NS"),
    "OAI_DC_NS": ("crawlers.kinds.oai_metadata", "OAI_DC_NS"),
    "THEMES_SOURCE": ("crawlers.kinds.oai_metadata", "THEMES_SOURCE"),
    "install_log_context": ("crawlers.logcontext", "install"),
    "AddressPolicy": ("crawlers.netguard", "AddressPolicy"),
    "allow_source_hosts": ("crawlers.netguard", "allow_source_hosts"),
    "DryRunReport": ("crawlers.preview", "DryRunReport"),
    "FieldWarning": ("crawlers.preview", "FieldWarning"),
    "preview_source": ("crawlers.preview", "preview"),
    "default_workers": ("crawlers.reindex_inputs", "default_workers"),
    "reindex": ("crawlers.reindex_inputs", "reindex"),
    "stored_records": ("crawlers.reindex_inputs", "stored_records"),
    "withdrawn_in_state": ("crawlers.reindex_inputs", "withdrawn_in_state"),
    "RunProgress": ("crawlers.run", "RunProgress"),
    "RunReport": ("crawlers.run", "RunReport"),
    "harvest": ("crawlers.run", "harvest"),
    "serving_collections": ("crawlers.run_gc", "serving_collections"),
    "freeze_started": ("crawlers.run_gc", "freeze_started"),
    "RunHeartbeat": ("crawlers.run_heartbeat", "RunHeartbeat"),
    "TIMEZONE": ("crawlers.schedule", "TIMEZONE"),
    "HarvestScheduler": ("crawlers.schedule", "HarvestScheduler"),
    "SourceBusyError": ("crawlers.schedule", "SourceBusyError"),
    "new_holder": ("crawlers.schedule", "new_holder"),
    "LeaseKeeper": ("crawlers.supervise", "LeaseKeeper"),
    "SOURCE_DELETION_REASON": ("crawlers.withdrawals", "SOURCE_DELETION_REASON"),
    "apply_hold": ("crawlers.withdrawals", "apply_hold"),
    "reject_hold": ("crawlers.withdrawals", "reject_hold"),
}
"""Public name -> (module, attribute) it lives in. No public name is a submodule's name: importing the submodule
sets that attribute on the package, and `from crawlers import <name>` would then answer the module."""

__all__ = [
    "AddressPolicy",
    "DryRunReport",
    "FieldWarning",
    "HarvestError",
    "HarvestScheduler",
    "LOM_NS",
    "LeaseKeeper",
    "OAI_DC_NS",
    "RunHeartbeat",
    "RunProgress",
    "RunReport",
    "SOURCE_DELETION_REASON",
    "SourceBusyError",
    "THEMES_SOURCE",
    "TIMEZONE",
    "UrlRefusedError",
    "allow_source_hosts",
    "apply_hold",
    "default_workers",
    "harvest",
    "install_log_context",
    "new_holder",
    "preview_source",
    "reindex",
    "reject_hold",
    "serving_collections",
    "freeze_started",
    "stored_records",
    "withdrawn_in_state",
]


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'crawlers' has no attribute {name!r}")
    value = getattr(importlib.import_module(where[0]), where[1])
    globals()[name] = value  # the next use is a plain module attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
