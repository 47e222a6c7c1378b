"""`edufed sources list|show|add|remove`: the sources with their health, one's configuration, and registering
or deleting one with the checks and audit entry of the sources API."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

import yaml

from config.settings import Settings
from crawlers.state import SourceHealth
from search_api.cli.console import EXIT_OK, Console, UsageError
from search_api.cli.context import (
    configured,
    file_source_ids,
    open_index,
    open_state,
    state_exists,
    with_registered,
)
from search_api.cli.reports import source_yaml
from search_api.cli.tables import health_table
from search_api.http.auth import ADMIN, Principal
from search_api.http.body_limits import MAX_DEPTH, json_depth
from search_api.services.source_actions import create_source, delete_source, ensure_deletable

_CLI_ADMIN = Principal(key_id="cli", role=ADMIN, platform=None)
"""Who acts at the command line: whoever can run `edufed` on the server is an admin."""


def run(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Run one sources command; a usage error for an unknown source."""
    if args.sources_command == "add":
        return _add_source(args, settings, console)
    if args.sources_command == "remove":
        return _remove_source(args, settings, console)
    sources = with_registered(settings, configured(settings, demo=args.demo))
    if args.sources_command == "list":
        registered, health = _health(settings, [s.id for s in sources])
        console.result(health_table(sources, health, registered))
        return EXIT_OK
    for source in sources:
        if source.id == args.source_id:
            console.result(source_yaml(source))
            return EXIT_OK
    known = ", ".join(s.id for s in sources) or "(none configured)"
    raise UsageError(f"unknown source {args.source_id!r}; known sources: {known}")


def _add_source(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Register a source from a file, with every check and the audit entry of the sources API."""
    block = _source_block(args.file)
    _not_in_file(settings, block.get("id"))
    with open_state(settings) as store:
        source = create_source(store, _CLI_ADMIN, block, settings=settings, actor=_cli_actor())
    state = "enabled: it runs on its schedule" if source.enabled else "disabled: enable it to schedule it"
    console.result(f"added {source.id} ({source.kind}, platform {source.platform}), {state}; "
                   f"preview it with `edufed harvest {source.id} --dry-run`")  # fmt: skip
    return EXIT_OK


def _remove_source(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Delete a source as the API does: at once without records, else disabled with its records held; refused
    for a source the configuration file defines, by the rule the API applies."""
    ensure_deletable(settings, args.source_id, file_source_ids(settings))
    with open_state(settings) as store, open_index(settings, store) as backend:
        deletion = delete_source(store, backend, _CLI_ADMIN, args.source_id, actor=_cli_actor())
    if deletion.hold is None:
        console.result(f"removed {args.source_id}: it had no records in the catalogue")
    else:
        hold = deletion.hold
        console.result(
            f"{args.source_id} is disabled; its {len(hold.uids)} records leave the catalogue when held deletion "
            f"{hold.id} is approved: `edufed holds approve {hold.id}` (or reject it to keep them)"
        )
    return EXIT_OK


def _source_block(path: str) -> dict[str, object]:
    """The one source block a file (or stdin for `-`) holds, as YAML or JSON; also `sources: [block]`."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from exc
    if json_depth(text.encode("utf-8")) > MAX_DEPTH:  # YAML's parser recurses once per level
        raise UsageError(f"{path} nests arrays or mappings more than {MAX_DEPTH} levels deep")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsageError(f"{path} is not a YAML or JSON source block: {exc}") from exc
    except RecursionError as exc:  # block-style nesting by indentation, which the bracket count does not see
        raise UsageError(f"{path} nests mappings too deeply to read") from exc
    if isinstance(data, dict) and set(data) == {"sources"} and isinstance(data["sources"], list):
        data = data["sources"][0] if len(data["sources"]) == 1 else None
    if not isinstance(data, dict):
        raise UsageError(f"{path} must hold one source block (a mapping with id, kind, url, ...)")
    return data


def _not_in_file(settings: Settings, source_id: object) -> None:
    if source_id in file_source_ids(settings):
        raise UsageError(
            f"{source_id} is defined in {settings.sources_file}: change or remove its block there (once the "
            "block is gone and `edufed serve` restarted, `edufed sources remove` takes its records out)"
        )


def _cli_actor() -> str:
    """How the audit log names an admin at the command line."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _health(settings: Settings, source_ids: list[str]) -> tuple[dict[str, bool], dict[str, SourceHealth]]:
    """Paused switches and health of the sources, from the state database (none before it exists)."""
    if not state_exists(settings):
        return {}, {}
    with open_state(settings) as store:
        registered = {s.id: s.paused for s in store.sources.find()}
        return registered, store.health([i for i in source_ids if i in registered])
