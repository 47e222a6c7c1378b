"""The arguments of one OAI-PMH request checked against its verb, and UTC datestamps at seconds granularity."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from indexer.backends.changes import stamp_of, stamp_time
from search_api.oai.errors import OaiError

_REQUIRED: dict[str, frozenset[str]] = {
    "Identify": frozenset(),
    "ListMetadataFormats": frozenset(),
    "ListSets": frozenset(),
    "ListIdentifiers": frozenset({"metadataPrefix"}),
    "ListRecords": frozenset({"metadataPrefix"}),
    "GetRecord": frozenset({"identifier", "metadataPrefix"}),
}
_OPTIONAL: dict[str, frozenset[str]] = {
    "Identify": frozenset(),
    "ListMetadataFormats": frozenset({"identifier"}),
    "ListSets": frozenset(),
    "ListIdentifiers": frozenset({"from", "until", "set"}),
    "ListRecords": frozenset({"from", "until", "set"}),
    "GetRecord": frozenset(),
}
_TOKEN_VERBS = frozenset({"ListSets", "ListIdentifiers", "ListRecords"})
VERBS = tuple(_REQUIRED)
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SECONDS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
SECOND = 1_000_000


@dataclass(frozen=True)
class OaiRequest:
    """A request whose verb and arguments are legal (each argument given once)."""

    verb: str
    arguments: dict[str, str]


def check_request(pairs: Sequence[tuple[str, str]]) -> OaiRequest:
    """The request of these query or form pairs; badVerb or badArgument when they do not make one."""
    verbs = [v for k, v in pairs if k == "verb"]
    if len(verbs) != 1:
        raise OaiError("badVerb", "the verb argument is missing" if not verbs else "the verb argument is repeated")
    verb = verbs[0]
    if verb not in _REQUIRED:
        raise OaiError("badVerb", f"{verb!r} is not an OAI-PMH verb")
    arguments: dict[str, str] = {}
    for key, value in pairs:
        if key == "verb":
            continue
        if key in arguments:
            raise OaiError("badArgument", f"the argument {key} is repeated")
        arguments[key] = value
    allowed = _REQUIRED[verb] | _OPTIONAL[verb] | ({"resumptionToken"} if verb in _TOKEN_VERBS else set())
    illegal = sorted(set(arguments) - allowed)
    if illegal:
        raise OaiError("badArgument", f"{verb} does not take the argument(s) {', '.join(illegal)}")
    if "resumptionToken" in arguments:
        if len(arguments) > 1:
            raise OaiError("badArgument", "resumptionToken is an exclusive argument")
        return OaiRequest(verb, arguments)
    missing = sorted(_REQUIRED[verb] - set(arguments))
    if missing:
        raise OaiError("badArgument", f"{verb} needs the argument(s) {', '.join(missing)}")
    return OaiRequest(verb, arguments)


def date_bounds(arguments: dict[str, str], *, now: int) -> tuple[int, int]:
    """The inclusive (since, until) stamps of `from` and `until`; `until` defaults to `now`.

    A day means the whole day; a time its whole second (datestamps are shown truncated to seconds).
    """
    given_from, given_until = arguments.get("from"), arguments.get("until")
    since = _parse(given_from, "from", end=False) if given_from is not None else 0
    until = _parse(given_until, "until", end=True) if given_until is not None else now
    if given_from is not None and given_until is not None and len(given_from) != len(given_until):
        raise OaiError("badArgument", "from and until must have the same granularity")
    if given_from is not None and given_until is not None and since > until:
        raise OaiError("badArgument", "from is later than until")
    return since, min(until, now)


def _parse(value: str, name: str, *, end: bool) -> int:
    try:
        if _DAY.match(value):
            moment = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
            return stamp_of(moment + timedelta(days=1)) - 1 if end else stamp_of(moment)
        if _SECONDS.match(value):
            moment = datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            return stamp_of(moment) + SECOND - 1 if end else stamp_of(moment)
    except ValueError:
        pass
    raise OaiError("badArgument", f"{name} must be a UTC date YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ, not {value!r}")


def datestamp(stamp: int) -> str:
    """A stamp as an OAI datestamp at seconds granularity (UTC, truncated)."""
    return stamp_time(stamp).strftime("%Y-%m-%dT%H:%M:%SZ")
