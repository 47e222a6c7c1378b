"""Serve the hand-written OAI-PMH responses of tests/data/oai_pmh on a FixtureServer, with their config."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import yaml

from config.source_models import OaiPmhSourceConfig
from tests.support.http_server import FixtureServer, Reply

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "oai_pmh"
OAI_PATH = "/oai"
XML = "text/xml; charset=utf-8"


def document(name: str) -> bytes:
    """The bytes of one file in tests/data/oai_pmh."""
    return (DATA_DIR / name).read_bytes()


def xml_reply(name: str, *, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status=status, body=document(name), headers={"Content-Type": XML, **(headers or {})})


def expected(name: str, server: FixtureServer) -> dict[str, Any]:
    """tests/data/oai_pmh/<name> with BASE_URL pointed at `server`."""
    text = (DATA_DIR / name).read_text(encoding="utf-8").replace("BASE_URL", server.base_url)
    return dict(json.loads(text))


def source_config(server: FixtureServer, **overrides: Any) -> OaiPmhSourceConfig:
    """The repository of source.yaml, pointed at `server`; top-level keys can be overridden."""
    text = (DATA_DIR / "source.yaml").read_text(encoding="utf-8").replace("BASE_URL", server.base_url)
    data = yaml.safe_load(text)
    data.update(overrides)
    return OaiPmhSourceConfig.model_validate(data)


def serve(server: FixtureServer, query: dict[str, str], name: str | bytes, *, status: int = 200) -> None:
    """Answer OAI requests whose query includes `query` with a data file (by name) or raw bytes."""
    body = document(name) if isinstance(name, str) else name
    server.route(OAI_PATH, query=query, status=status, body=body, content_type=XML)


def serve_repository(server: FixtureServer, *, identify: str = "identify.xml") -> None:
    """Identify plus the two-page oai_dc list (list-1.xml, then list-2.xml for token page-2)."""
    serve(server, {"verb": "Identify"}, identify)
    serve(server, {"verb": "ListRecords", "metadataPrefix": "oai_dc"}, "list-1.xml")
    serve(server, {"verb": "ListRecords", "resumptionToken": "page-2"}, "list-2.xml")


def oai_queries(server: FixtureServer) -> list[dict[str, str]]:
    """The query of every request the repository received, in order."""
    return [r.query for r in server.requests_for(OAI_PATH)]


def list_records(records: Sequence[tuple[str, str, str | None]]) -> bytes:
    """A one-page oai_dc ListRecords answer: (local id, datestamp, title) per record, title None for a deletion.

    Identifiers are `oai:learn.example.edu.cn:<local id>`, as in the hand-written files.
    """
    parts = []
    for local_id, stamp, title in records:
        identifier = f"oai:learn.example.edu.cn:{escape(local_id)}"
        if title is None:
            parts.append(
                f'<record><header status="deleted"><identifier>{identifier}</identifier>'
                f"<datestamp>{stamp}</datestamp></header></record>"
            )
            continue
        parts.append(
            f"<record><header><identifier>{identifier}</identifier><datestamp>{stamp}</datestamp></header>"
            '<metadata><oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
            f'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{escape(title)}</dc:title>'
            f"<dc:identifier>https://learn.example.edu.cn/course/{escape(local_id)}</dc:identifier>"
            "</oai_dc:dc></metadata></record>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
        "<responseDate>2024-03-12T02:00:00Z</responseDate>"
        '<request verb="ListRecords">http://learn.example.edu.cn/oai</request>'
        f"<ListRecords>{''.join(parts)}</ListRecords></OAI-PMH>\n"
    ).encode()


def oai_uid(config: OaiPmhSourceConfig, local_id: str) -> str:
    """The uid of the record list_records names `local_id`."""
    return f"{config.id}:oai:learn.example.edu.cn:{local_id}"
