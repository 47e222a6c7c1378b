"""Fixtures of the security tests: the live service with keys, and a client per key (operator/site.py)."""

from tests.integration.operator.site import admin, operator, other, site  # noqa: F401
from tests.support.http_server import http_server_fixture  # noqa: F401
