"""`edufed keys create|list|revoke`: issue, list and revoke API keys from the command line (audited).

`--demo` addresses the demo catalogue that `make run` (`edufed serve --demo`) serves, as on the other commands: its
state lives in the demo data directory, so a key made without it does not open the demo's consoles.
"""

from __future__ import annotations

import argparse
import json

from config.loader import load_sources
from config.settings import Settings
from crawlers.demo import demo_sources
from crawlers.state import ApiKeyInfo, StateNotFoundError, StateStore, state_url
from search_api.cli.console import CLI_ACTOR, Output
from search_api.cli.tables import cli_time
from search_api.services.api_keys import issue_key, key_dict, registered_platforms, revoke_key


def run(args: argparse.Namespace, settings: Settings, console: Output) -> int:
    """Run one keys command; 0 when done, 1 when the key to revoke does not exist, 2 for bad usage."""
    with StateStore.for_settings(settings) as store:
        if args.keys_command == "create":
            return _create(args, settings, store, console)
        if args.keys_command == "list":
            found = store.keys.find(platform=args.platform, include_revoked=args.revoked)
            listed = [key_dict(k) for k in found]
            console.result(json.dumps(listed, ensure_ascii=False, indent=2) if args.json else _table(found))
            return 0
        try:
            info = revoke_key(store, args.key_id, actor=CLI_ACTOR)
        except StateNotFoundError:
            console.note(f"edufed: no key {args.key_id!r}")
            return 1
        console.result(f"revoked key {info.id}")
        return 0


def known_platforms(settings: Settings, store: StateStore, *, demo: bool) -> dict[str, str]:
    """Platform id -> name: the platforms of the configured sources (the demo's with `demo`) and registered ones."""
    configured = demo_sources("http://127.0.0.1") if demo else load_sources(settings.sources_file)
    names = {s.platform: s.platform_name for s in configured}
    return {**registered_platforms(store), **names}


def _create(args: argparse.Namespace, settings: Settings, store: StateStore, console: Output) -> int:
    if args.role == "operator" and not args.platform:
        console.note("edufed: an operator key needs --platform")
        return 2
    if args.platform and not args.new_platform:
        known = known_platforms(settings, store, demo=args.demo)
        if args.platform not in known:
            console.note(_unknown_platform(args.platform, known, demo=args.demo))
            return 2
    key, info = issue_key(store, role=args.role, platform=args.platform, label=args.label, actor=CLI_ACTOR)
    console.note(f"created {info.role} key {info.id}" + (f" for platform {info.platform}" if info.platform else "")
                 + f" in {_where(settings, demo=args.demo)}; it is shown only this once, keep it safe:")  # fmt: skip
    console.result(key)
    return 0


def _unknown_platform(platform: str, known: dict[str, str], *, demo: bool) -> str:
    """Why a platform is refused, and what to do: the known ones, --demo for a demo platform, --new-platform."""
    listed = ", ".join(f"{p} ({name})" for p, name in sorted(known.items())) or "(none)"
    text = f"edufed: no source has platform {platform!r}; known platforms: {listed}"
    if not demo and platform in {s.platform for s in demo_sources("http://127.0.0.1")}:
        return text + f"\n  {platform} is a platform of the demo catalogue (make run): add --demo"
    return text + "\n  for a platform that has no source yet, add --new-platform"


def _where(settings: Settings, *, demo: bool) -> str:
    """Which catalogue's state database holds the key, and which server reads it (never a database password)."""
    url = state_url(settings)
    place = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else "the configured state database"
    if demo:
        return f"the demo catalogue's {place} (read by `make run`, i.e. `edufed serve --demo`)"
    return f"{place} (read by `edufed serve`; `make run` serves the demo catalogue: use --demo for its keys)"


def _table(keys: list[ApiKeyInfo]) -> str:
    if not keys:
        return "no keys"
    lines = [f"{'ID':<13} {'ROLE':<9} {'PLATFORM':<20} {'CREATED':<26} {'REVOKED':<26} LABEL"]
    for k in keys:
        lines.append(f"{k.id:<13} {k.role:<9} {k.platform or '-':<20} {cli_time(k.created_at):<26} "
                     f"{cli_time(k.revoked_at):<26} {k.label or ''}")  # fmt: skip
    return "\n".join(lines)
