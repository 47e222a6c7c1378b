"""The arguments of every `edufed` subcommand, built from argparse alone (no command's modules are loaded here)."""

from __future__ import annotations

import argparse
from pathlib import Path

_Commands = argparse._SubParsersAction  # type: ignore[type-arg]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, metavar="SETTINGS.yaml", help="settings file (default: bundled)")
    common.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    common.add_argument("--demo", action="store_true", help="the demo catalogue `make run` serves (edufed serve "
                        "--demo): its data directory data_dir/demo, its sources and runs, keys and index")  # fmt: skip
    parser = argparse.ArgumentParser(prog="edufed", description="One catalogue for lifelong-learning platforms.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (_serve, _harvest, _sources, _runs, _reindex, _status, _compact, _keys, _holds, _quarantine, _dump):
        add(commands, common)
    return parser


def _serve(commands: _Commands, common: argparse.ArgumentParser) -> None:
    s = commands.add_parser("serve", parents=[common], help="serve the search API and web pages")
    s.add_argument("--host", help="listen address (default: settings server.host)")
    s.add_argument("--port", type=int, help="listen port, 0 for any free port (default: settings server.port)")


def _harvest(commands: _Commands, common: argparse.ArgumentParser) -> None:
    h = commands.add_parser("harvest", parents=[common], help="harvest one source (or all) now")
    h.add_argument("source_id", nargs="?", help="id of the source to harvest")
    h.add_argument("--all", action="store_true", help="harvest every enabled source")
    h.add_argument("--dry-run", action="store_true", help="fetch and build records but write nothing")
    h.add_argument("--json", action="store_true", help="print the run report as JSON")


def _sources(commands: _Commands, common: argparse.ArgumentParser) -> None:
    src = commands.add_parser("sources", parents=[common], help="list, show, add or remove sources")
    src_commands = src.add_subparsers(dest="sources_command", required=True, metavar="list|show|add|remove")
    src_commands.add_parser("list", parents=[common], help="list the sources with their health")
    show = src_commands.add_parser("show", parents=[common], help="show one source's configuration")
    show.add_argument("source_id")
    add = src_commands.add_parser(
        "add", parents=[common], help="register a source from a file holding its YAML or JSON block (- = stdin)"
    )
    add.add_argument("file", metavar="FILE")
    remove = src_commands.add_parser(
        "remove", parents=[common], help="delete a registered source (its records are held for approval)"
    )
    remove.add_argument("source_id")


def _runs(commands: _Commands, common: argparse.ArgumentParser) -> None:
    runs = commands.add_parser("runs", parents=[common], help="show the harvest run history, newest first")
    runs.add_argument("--source", metavar="S", help="only this source's runs")
    runs.add_argument("--failed", action="store_true", help="only failed and timed-out runs")
    runs.add_argument("--limit", type=int, default=50, help="how many runs (default 50)")
    runs.add_argument("--json", action="store_true", help="print the runs as JSON")


def _reindex(commands: _Commands, common: argparse.ArgumentParser) -> None:
    r = commands.add_parser("reindex", parents=[common], help="rebuild the index from the stored raw records")
    r.add_argument(
        "--from-sqlite", type=Path, metavar="PATH",
        help="load the configured index from the records of this SQLite index file (moving to Elasticsearch)",
    )  # fmt: skip
    r.add_argument(
        "--analysis-only",
        action="store_true",
        help="only analyse the stored records' text again where "
        "the index holds an older text analysis (SQLite; far less work than rebuilding every record)",
    )
    r.add_argument(
        "--links-only",
        action="store_true",
        help="only link every record again (its blocking keys and cluster, from the stored record; the admins' "
        "split and join decisions kept) where the index was linked by older record linkage rules",
    )
    r.add_argument(
        "--themes-only",
        action="store_true",
        help="only classify every record into themes again (from the stored record; only records whose themes "
        "change are written) where the index's records were classified by other theme rules",
    )
    r.add_argument("--workers", type=int, metavar="N", help="processes that rebuild records, or cluster them with "
                   "--links-only (default: every core for 20,000 records or more, else 1)")  # fmt: skip


def _status(commands: _Commands, common: argparse.ArgumentParser) -> None:
    s = commands.add_parser("status", parents=[common], help="which index, how many records, and which text "
                            "analysis, record linkage and theme rules they hold (exit code 1 when it asks for "
                            "something)")  # fmt: skip
    s.add_argument("--json", action="store_true", help="print the state as JSON")


def _compact(commands: _Commands, common: argparse.ArgumentParser) -> None:
    c = commands.add_parser("compact", parents=[common], help="give the SQLite index file's free pages back to the "
                            "disk (VACUUM)")  # fmt: skip
    c.add_argument("--force", action="store_true", help="compact even when few of its pages are free")
    c.add_argument("--wait", type=float, default=10.0, metavar="SECONDS", help="how long to wait for a write under "
                   "way (a harvest) before giving up (default 10)")  # fmt: skip


def _keys(commands: _Commands, common: argparse.ArgumentParser) -> None:
    keys = commands.add_parser("keys", parents=[common], help="create, list or revoke API keys")
    sub = keys.add_subparsers(dest="keys_command", required=True, metavar="create|list|revoke")
    create = sub.add_parser("create", parents=[common], help="create a key; it is printed once, never again")
    create.add_argument("--role", choices=("operator", "admin"), required=True, help="operator or admin")
    create.add_argument("--platform", help="the platform an operator key acts for (required for operators; one of "
                        "the platforms of the configured or registered sources)")  # fmt: skip
    create.add_argument(
        "--new-platform",
        action="store_true",
        help="accept a --platform no source has yet (a platform about to register its first feed)",
    )
    create.add_argument("--label", help="who holds the key")
    listing = sub.add_parser("list", parents=[common], help="list keys (never their secrets)")
    listing.add_argument("--platform", help="only this platform's keys")
    listing.add_argument("--revoked", action="store_true", help="include revoked keys")
    listing.add_argument("--json", action="store_true", help="print the keys as JSON")
    revoke = sub.add_parser("revoke", parents=[common], help="revoke a key at once")
    revoke.add_argument("key_id", help="the key's id (the 12 hex digits after efk_)")


def _holds(commands: _Commands, common: argparse.ArgumentParser) -> None:
    holds = commands.add_parser("holds", parents=[common], help="list, approve or reject held deletions")
    sub = holds.add_subparsers(dest="holds_command", required=True, metavar="list|approve|reject")
    listing = sub.add_parser("list", parents=[common], help="held deletions, newest first")
    listing.add_argument("--source", metavar="S", help="only this source's holds")
    listing.add_argument("--status", choices=("pending", "approved", "rejected"), help="only holds in this status")
    listing.add_argument("--json", action="store_true", help="print the holds (with their uids) as JSON")
    for name, text in (("approve", "withdraw the held records"), ("reject", "keep the held records")):
        decide = sub.add_parser(name, parents=[common], help=text)
        decide.add_argument("hold_id", type=int, help="the hold's id (from `edufed holds list`)")


def _quarantine(commands: _Commands, common: argparse.ArgumentParser) -> None:
    quarantine = commands.add_parser("quarantine", parents=[common], help="items harvest runs rejected")
    qsub = quarantine.add_subparsers(dest="quarantine_command", required=True, metavar="list|show")
    qlist = qsub.add_parser("list", parents=[common], help="rejected items, newest first")
    qlist.add_argument("--source", metavar="S", help="only this source's items")
    qlist.add_argument("--run", metavar="RUN", help="only this run's items")
    qlist.add_argument("--limit", type=int, default=50, help="how many items (default 50)")
    qlist.add_argument("--json", action="store_true", help="print the items (with payloads) as JSON")
    show = qsub.add_parser("show", parents=[common], help="one rejected item: its reason and raw payload")
    show.add_argument("entry_id", type=int, help="the item's id (from `edufed quarantine list`)")


def _dump(commands: _Commands, common: argparse.ArgumentParser) -> None:
    dump = commands.add_parser("dump", parents=[common], help="write the bulk data dump (gzipped JSON Lines) now")
    dump.add_argument("--json", action="store_true", help="print the dump's manifest as JSON")
