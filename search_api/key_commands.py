"""`edufed keys create|list|revoke`: issue, list and revoke API keys from the command line (audited)."""

from __future__ import annotations

import argparse
import json
from typing import Protocol

from config.settings import Settings
from crawlers.state import StateNotFoundError, StateStore
from search_api.routes.keys import issue_key, key_dict, revoke_key

CLI_ACTOR = "cli"


class Output(Protocol):
    """Where a command writes: `result` for what it prints, `note` for messages."""

    def result(self, text: str) -> None: ...

    def note(self, text: str) -> None: ...


def add_parser(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    """The `keys` subcommand and its three commands."""
    keys = commands.add_parser("keys", parents=[common], help="create, list or revoke API keys")
    sub = keys.add_subparsers(dest="keys_command", required=True, metavar="create|list|revoke")
    create = sub.add_parser("create", parents=[common], help="create a key; it is printed once, never again")
    create.add_argument("--role", choices=("operator", "admin"), required=True, help="operator or admin")
    create.add_argument("--platform", help="the platform an operator key acts for (required for operators)")
    create.add_argument("--label", help="who holds the key")
    listing = sub.add_parser("list", parents=[common], help="list keys (never their secrets)")
    listing.add_argument("--platform", help="only this platform's keys")
    listing.add_argument("--revoked", action="store_true", help="include revoked keys")
    listing.add_argument("--json", action="store_true", help="print the keys as JSON")
    revoke = sub.add_parser("revoke", parents=[common], help="revoke a key at once")
    revoke.add_argument("key_id", help="the key's id (the 12 hex digits after efk_)")


def run(args: argparse.Namespace, settings: Settings, console: Output) -> int:
    """Run one keys command; 0 when done, 1 when the key to revoke does not exist, 2 for bad usage."""
    with StateStore.for_settings(settings) as store:
        if args.keys_command == "create":
            if args.role == "operator" and not args.platform:
                console.note("edufed: an operator key needs --platform")
                return 2
            key, info = issue_key(store, role=args.role, platform=args.platform, label=args.label, actor=CLI_ACTOR)
            console.note(f"created {info.role} key {info.id}"
                         + (f" for platform {info.platform}" if info.platform else "")
                         + "; it is shown only this once, keep it safe:")  # fmt: skip
            console.result(key)
            return 0
        if args.keys_command == "list":
            found = [key_dict(k) for k in store.keys.find(platform=args.platform, include_revoked=args.revoked)]
            console.result(json.dumps(found, ensure_ascii=False, indent=2) if args.json else _table(found))
            return 0
        try:
            info = revoke_key(store, args.key_id, actor=CLI_ACTOR)
        except StateNotFoundError:
            console.note(f"edufed: no key {args.key_id!r}")
            return 1
        console.result(f"revoked key {info.id}")
        return 0


def _table(keys: list[dict[str, object]]) -> str:
    if not keys:
        return "no keys"
    lines = [f"{'ID':<13} {'ROLE':<9} {'PLATFORM':<20} {'CREATED':<33} {'REVOKED':<33} LABEL"]
    for k in keys:
        lines.append(f"{k['id']!s:<13} {k['role']!s:<9} {k['platform'] or '-'!s:<20} {k['created_at']!s:<33} "
                     f"{k['revoked_at'] or '-'!s:<33} {k['label'] or ''}")  # fmt: skip
    return "\n".join(lines)
