"""Fixtures of the security tests: the live service with keys, and clients for each key (tests/operator/site.py)."""

from tests.operator.site import admin, operator, other, site  # noqa: F401
from tests.support.http_server import http_server_fixture  # noqa: F401
