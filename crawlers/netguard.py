"""The SSRF guard: harvested URLs must resolve to public addresses, checked after DNS and pinned for the connection.

Operators register URLs that edufed then fetches from inside its own network, so every host is resolved
first and every address it resolves to is checked; the connection then goes to the checked address (the
name is not resolved a second time, so a DNS answer that changes between check and connect cannot switch
it). Loopback, private, link-local (cloud metadata), shared (100.64/10, Alibaba Cloud metadata), multicast,
reserved and unspecified addresses are refused, also when wrapped in IPv6 (IPv4-mapped, 6to4, Teredo,
NAT64). `http.allow_private_hosts` lists the exceptions: local test servers and the bundled demo platforms.

    policy = AddressPolicy.from_list(settings.http.allow_private_hosts)
    policy.check_url("https://le.ouchn.cn/api/Course/Paging")   # UrlRefusedError, or the checked addresses
    session.mount("http://", GuardedAdapter(policy)); session.mount("https://", GuardedAdapter(policy))
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter
from requests.utils import select_proxy
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import NameResolutionError

from config.settings import Settings
from config.source_models import SourceBase
from crawlers.errors import UrlRefusedError

logger = logging.getLogger(__name__)

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT; Alibaba Cloud metadata is 100.100.100.200
_DEFAULT_PORTS = {"http": 80, "https": 443}


def resolve(host: str, port: int) -> list[str]:
    """Every address a host name resolves to (an IP literal resolves to itself), in resolver order."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for _family, _type, _proto, _name, sockaddr in found:
        address = str(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_problem(address: IpAddress) -> str | None:
    """Why fetching from this address is refused (loopback, private...), or None for a public address."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None:
            problem = address_problem(inner)
            return f"{problem} (inside IPv6 address {address})" if problem else None
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local (cloud metadata)", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("shared (carrier-grade NAT)", isinstance(address, ipaddress.IPv4Address) and address in _SHARED),
        ("reserved", address.is_reserved),
        ("not globally routable", not address.is_global),
    )
    for name, hit in checks:
        if hit:
            return f"{address} is a {name} address"
    return None


@dataclass(frozen=True)
class AllowedHost:
    """One allowlist entry: a network or a host name, optionally only on one port."""

    network: IpNetwork | None
    name: str | None
    port: int | None

    def admits(self, *, host: str, address: IpAddress, port: int | None) -> bool:
        if self.port is not None and port is not None and self.port != port:
            return False
        if self.network is not None:
            return address.version == self.network.version and address in self.network
        return self.name == host.lower().rstrip(".")


def parse_allowed(entry: str) -> AllowedHost:
    """`127.0.0.1`, `10.0.0.0/8`, `demo.local`, `127.0.0.1:8001`, `[::1]:8001` -> an AllowedHost."""
    text = entry.strip()
    port: int | None = None
    if text.startswith("["):
        inside, _, rest = text[1:].partition("]")
        text, port = inside, int(rest[1:]) if rest.startswith(":") else None
    elif text.count(":") == 1:
        text, _, digits = text.partition(":")
        port = int(digits)
    try:
        return AllowedHost(ipaddress.ip_network(text, strict=False), None, port)
    except ValueError:
        if not text or "/" in text or " " in text:
            raise ValueError(f"http.allow_private_hosts entry {entry!r} is not an address, network or host") from None
        return AllowedHost(None, text.lower().rstrip("."), port)


class AddressPolicy:
    """Which addresses the harvester may connect to: public ones, and those the allowlist names."""

    def __init__(self, allowed: Iterable[AllowedHost] = (), *, resolver: Resolver = resolve) -> None:
        self.allowed = tuple(allowed)
        self._resolver = resolver

    @classmethod
    def from_list(cls, entries: Iterable[str], *, resolver: Resolver = resolve) -> AddressPolicy:
        """The policy of an `http.allow_private_hosts` list."""
        return cls([parse_allowed(entry) for entry in entries], resolver=resolver)

    def refusal(self, *, host: str, address: str, port: int | None) -> str | None:
        """Why connecting to `address` (which `host` resolved to) is refused, or None when it is allowed."""
        try:
            parsed = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return f"{address!r} is not an IP address"
        problem = address_problem(parsed)
        if problem is None:
            return None
        if any(entry.admits(host=host, address=parsed, port=port) for entry in self.allowed):
            return None
        if host == address:
            return problem
        return f"{host} resolves to a non-public address: {problem}"

    def pick(self, host: str, port: int) -> str:
        """The address to connect to for host:port: every resolved address must pass, the first is used.

        Raises UrlRefusedError when any resolved address is refused; socket.gaierror when nothing resolves.
        """
        bare = host.strip("[]")
        addresses = self._resolver(bare, port)
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, f"{bare} resolves to no address")
        for address in addresses:
            reason = self.refusal(host=bare, address=address, port=port)
            if reason is not None:
                logger.warning("refused a connection to %s:%s: %s", bare, port, reason)
                raise UrlRefusedError(f"//{bare}:{port}", reason=reason)
        return addresses[0]

    def check_url(self, url: str) -> str:
        """Resolve and check an http(s) URL's host; the address a connection would use.

        Raises UrlRefusedError for a refused address or scheme; socket.gaierror when the host does not resolve.
        """
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS or not parts.hostname:
            raise UrlRefusedError(url, reason="only http and https URLs are fetched")
        try:
            port = parts.port or _DEFAULT_PORTS[scheme]
        except ValueError as exc:
            raise UrlRefusedError(url, reason=f"invalid port: {exc}") from exc
        try:
            return self.pick(parts.hostname, port)
        except UrlRefusedError as exc:
            raise UrlRefusedError(url, reason=str(exc.cause)) from exc


class _PinnedConnection:
    """Mixin for urllib3 connections: resolve and check the host, then connect to that very address."""

    edufed_policy: AddressPolicy
    _dns_host: str
    port: int

    def _new_conn(self) -> socket.socket:
        name = self._dns_host
        try:
            pinned = self.edufed_policy.pick(name, self.port)
        except socket.gaierror as exc:
            raise NameResolutionError(name, self, exc) from exc  # type: ignore[arg-type]
        self._dns_host = pinned  # the TLS name and Host header were taken from the name, not from this
        try:
            sock: socket.socket = super()._new_conn()  # type: ignore[misc]
            return sock
        finally:
            self._dns_host = name


def _pools(policy: AddressPolicy) -> dict[str, type[HTTPConnectionPool]]:
    """Connection pool classes whose connections go through `policy`."""
    plain = type("GuardedHTTPConnection", (_PinnedConnection, HTTPConnection), {"edufed_policy": policy})
    tls = type("GuardedHTTPSConnection", (_PinnedConnection, HTTPSConnection), {"edufed_policy": policy})
    return {
        "http": type("GuardedHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": plain}),
        "https": type("GuardedHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": tls}),
    }


class GuardedAdapter(HTTPAdapter):
    """A requests transport adapter whose every connection (redirects included) is checked and pinned."""

    def __init__(self, policy: AddressPolicy, **kwargs: Any) -> None:
        self.policy = policy
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _pools(self.policy)

    def send(  # type: ignore[override]
        self, request: PreparedRequest, proxies: Mapping[str, str] | None = None, **kwargs: Any
    ) -> Response:
        if proxies and select_proxy(str(request.url), dict(proxies)):
            self.policy.check_url(str(request.url))  # the proxy connects; check the name as we see it
        return super().send(request, proxies=proxies, **kwargs)


def allow_source_hosts(settings: Settings, sources: Iterable[SourceBase]) -> Settings:
    """Settings whose allowlist also admits the host:port of each source's URL (the bundled demo platforms,
    which serve on loopback); the given sources must be trusted configuration, never operator input."""
    entries = list(settings.http.allow_private_hosts)
    for source in sources:
        for name in ("url", "base_url", "version_url"):
            parts = urlsplit(str(getattr(source, name, "") or ""))
            if parts.hostname and parts.port:
                host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
                entry = f"{host}:{parts.port}"
                if entry not in entries:
                    entries.append(entry)
    http = settings.http.model_copy(update={"allow_private_hosts": entries})
    return settings.model_copy(update={"http": http})
