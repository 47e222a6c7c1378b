"""Connecting to an Elasticsearch cluster: the lazily imported client, credentials, TLS and the version check.

The official client speaks to servers of its own major version only (an 8.x client to 8.x clusters, a 9.x
client to 9.x clusters), so `connect` compares the two majors before anything else and names the package
to install when they differ. The client package is imported only here, only when an Elasticsearch index is
opened: an installation on the embedded SQLite index does not need it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from indexer.errors import ClientVersionError, IndexBackendError

logger = logging.getLogger(__name__)

API_KEY_ENV = "ELASTICSEARCH_API_KEY"
USERNAME_ENV = "ELASTICSEARCH_USERNAME"
PASSWORD_ENV = "ELASTICSEARCH_PASSWORD"
CA_CERTS_ENV = "ELASTICSEARCH_CA_CERTS"


@dataclass(frozen=True)
class Credentials:
    """How to authenticate to the cluster: an API key, or a user name and password; a CA file for TLS."""

    api_key: str | None = None
    username: str | None = None
    password: str | None = None
    ca_certs: str | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Credentials:
        """Credentials from ELASTICSEARCH_API_KEY, or ELASTICSEARCH_USERNAME/_PASSWORD, and _CA_CERTS."""
        username, password = environ.get(USERNAME_ENV) or None, environ.get(PASSWORD_ENV) or None
        if (username is None) != (password is None):
            raise IndexBackendError(f"set both {USERNAME_ENV} and {PASSWORD_ENV}, or neither")
        return cls(
            api_key=environ.get(API_KEY_ENV) or None,
            username=username,
            password=password,
            ca_certs=environ.get(CA_CERTS_ENV) or None,
        )

    def client_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if self.api_key:
            options["api_key"] = self.api_key
        elif self.username and self.password:
            options["basic_auth"] = (self.username, self.password)
        if self.ca_certs:
            options["ca_certs"] = self.ca_certs
        return options

    def __repr__(self) -> str:  # never show secrets in logs or tracebacks
        kind = "api_key" if self.api_key else "basic" if self.username else "none"
        return f"Credentials(auth={kind}, ca_certs={self.ca_certs!r})"


def client_module() -> ModuleType:
    """The `elasticsearch` package, or a clear error naming the extra to install."""
    try:
        import elasticsearch
    except ImportError as exc:
        raise IndexBackendError(
            "the Elasticsearch index needs the elasticsearch client: pip install 'edufed[es]'"
        ) from exc
    return elasticsearch


def check_versions(*, server: str, client: str) -> None:
    """Raise ClientVersionError unless the server and client share a major version."""
    server_major, client_major = server.split(".")[0], client.split(".")[0]
    if server_major != client_major:
        raise ClientVersionError(
            f"Elasticsearch server {server} needs the elasticsearch Python client {server_major}.x, "
            f"but this edufed has client {client}: "
            f"pip install 'elasticsearch>={server_major},<{int(server_major) + 1}'"
            if server_major.isdigit()
            else f"Elasticsearch server reports version {server!r}, which this edufed cannot use",
            server=server,
            client=client,
        )


def connect(url: str, *, credentials: Credentials, request_timeout: float = 30.0) -> Any:
    """A client for `url`, once the server has answered and its major version fits the client's."""
    module = client_module()
    client = module.Elasticsearch(
        url,
        request_timeout=request_timeout,
        max_retries=3,
        retry_on_timeout=True,
        retry_on_status=(502, 503, 504),  # 429 is left to the bulk helper, which backs off before retrying
        **credentials.client_options(),
    )
    try:
        info = client.info()
        check_versions(server=str(info["version"]["number"]), client=module.__versionstr__)
    except (module.ApiError, module.TransportError) as exc:
        client.close()
        raise IndexBackendError(f"cannot use Elasticsearch at {url}: {exc}") from exc
    except (IndexBackendError, KeyError, TypeError) as exc:
        client.close()
        if isinstance(exc, IndexBackendError):
            raise
        raise IndexBackendError(f"Elasticsearch at {url} sent an unexpected answer: {exc!r}") from exc
    logger.info("connected to Elasticsearch %s at %s", info["version"]["number"], url)
    return client
