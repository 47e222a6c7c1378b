"""`edufed serve` runs the app on uvicorn's C HTTP parser (httptools), installed with edufed; the API tests'
server is configured the same way, so they answer through that parser."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from search_api.cli.serve import server_config
from tests.integration.api.catalogue import LiveServer


def test_edufed_serve_parses_http_with_httptools() -> None:
    config = server_config(FastAPI(), host="127.0.0.1", port=0)
    config.load()  # imports the parser: fails where httptools is not installed
    assert config.http_protocol_class is HttpToolsProtocol
    assert (config.lifespan, config.ws, config.access_log) == ("off", "none", False)


def test_the_api_tests_server_answers_through_the_same_parser(server: LiveServer, client: httpx.Client) -> None:
    assert server.server.config.http_protocol_class is HttpToolsProtocol
    assert client.get("/api/v1/search", params={"q": "书法"}).status_code == 200
