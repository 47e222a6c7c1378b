"""robots.txt rules per host: fetched once, cached, and asked before every request."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

logger = logging.getLogger(__name__)

MAX_CRAWL_DELAY_SECONDS = 60.0


@dataclass(frozen=True)
class RobotsAnswer:
    """robots.txt as a host answered it: `status` is the HTTP status (None when unreachable)."""

    status: int | None
    text: str = ""


@dataclass(frozen=True)
class RobotsDecision:
    """Whether one URL may be fetched, and why."""

    allowed: bool
    robots_url: str
    reason: str


class _HostRules:
    """The rules of one host, per RFC 9309: 2xx parsed, 4xx allows all, 5xx/unreachable allows none."""

    def __init__(self, robots_url: str, answer: RobotsAnswer) -> None:
        self.robots_url = robots_url
        self.answer = answer
        self.parser: RobotFileParser | None = None
        if answer.status is not None and 200 <= answer.status < 300:
            self.parser = RobotFileParser(robots_url)
            self.parser.parse(answer.text.splitlines())

    def decide(self, url: str, user_agent: str) -> RobotsDecision:
        status = self.answer.status
        if self.parser is not None:
            if self.parser.can_fetch(user_agent, url):
                return RobotsDecision(True, self.robots_url, "allowed by robots.txt")
            return RobotsDecision(False, self.robots_url, "disallowed by robots.txt")
        if status is not None and 400 <= status < 500:
            return RobotsDecision(True, self.robots_url, f"robots.txt absent (HTTP {status}), all allowed")
        what = f"HTTP {status}" if status is not None else "unreachable"
        return RobotsDecision(False, self.robots_url, f"robots.txt unavailable ({what}), nothing allowed")

    def crawl_delay(self, user_agent: str) -> float | None:
        if self.parser is None:
            return None
        delay = self.parser.crawl_delay(user_agent)
        if delay is None:
            return None
        return min(float(delay), MAX_CRAWL_DELAY_SECONDS)


def robots_url_for(url: str) -> str:
    """The robots.txt URL governing a page URL (same scheme, host and port)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/robots.txt"


class RobotsCache:
    """Fetches each host's robots.txt once (through `load`) and answers may-I-fetch questions."""

    def __init__(self, *, user_agent: str, load: Callable[[str], RobotsAnswer]) -> None:
        self.user_agent = user_agent
        self._load = load
        self._hosts: dict[str, _HostRules] = {}

    def _rules(self, url: str) -> _HostRules:
        robots_url = robots_url_for(url)
        rules = self._hosts.get(robots_url)
        if rules is None:
            answer = self._load(robots_url)
            logger.debug("robots.txt %s answered %s", robots_url, answer.status)
            rules = _HostRules(robots_url, answer)
            self._hosts[robots_url] = rules
        return rules

    def decide(self, url: str) -> RobotsDecision:
        """Whether our User-Agent may fetch `url`, loading the host's robots.txt on first use."""
        return self._rules(url).decide(url, self.user_agent)

    def crawl_delay(self, url: str) -> float | None:
        """The host's Crawl-delay for our User-Agent (capped), if it sets one."""
        return self._rules(url).crawl_delay(self.user_agent)
