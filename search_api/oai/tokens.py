"""Resumption tokens: the position in a list and the list's fixed bounds, so paging is stable under writes.

A token carries the verb, metadataPrefix, set, `from`, the `until` bound fixed when the list was first asked
(so records written meanwhile get a later datestamp and wait for the next incremental harvest instead of
shifting pages), the last (datestamp, uid) delivered, the cursor, completeListSize and its expiry. It is
base64url JSON plus a checksum: a token is only a position in a public list, so it needs no secret, but a
damaged, edited or expired one is refused with badResumptionToken rather than guessed at. Any process of
the service can continue any token.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import asdict, dataclass

from search_api.oai.errors import OaiError

_VERSION = 1
_CHECK_CHARS = 16
MAX_TOKEN_CHARS = 2000


@dataclass(frozen=True)
class ListPosition:
    """Where a list stands after one page."""

    verb: str
    prefix: str
    set_spec: str | None
    since: int
    until: int
    after_stamp: int
    after_uid: str
    cursor: int
    total: int
    expires: int
    """Epoch seconds after which the token is refused."""


def encode(position: ListPosition) -> str:
    """The token of a position."""
    body = json.dumps({"v": _VERSION, **asdict(position)}, ensure_ascii=False, separators=(",", ":"))
    data = base64.urlsafe_b64encode(body.encode("utf-8")).decode("ascii").rstrip("=")
    return f"{data}.{_check(data)}"


def decode(token: str, *, verb: str, now_seconds: float) -> ListPosition:
    """The position a token names; badResumptionToken when it is malformed, for another verb, or expired."""
    if len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
        raise OaiError("badResumptionToken", "the resumptionToken is not one this repository issued")
    data, check = token.split(".")
    if _check(data) != check:
        raise OaiError("badResumptionToken", "the resumptionToken is damaged or was changed")
    try:
        body = json.loads(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))
        if body.pop("v") != _VERSION:
            raise ValueError("version")
        position = ListPosition(**body)
    except (ValueError, TypeError, KeyError, binascii.Error) as exc:
        raise OaiError("badResumptionToken", "the resumptionToken cannot be read") from exc
    if position.verb != verb:
        raise OaiError("badResumptionToken", f"the resumptionToken continues {position.verb}, not {verb}")
    if position.expires < now_seconds:
        raise OaiError("badResumptionToken", "the resumptionToken has expired; start the list again")
    return position


def _check(data: str) -> str:
    return hashlib.sha256(b"edufed-oai-token:" + data.encode("ascii")).hexdigest()[:_CHECK_CHARS]
