"""Alerts: POST a JSON message to a configured URL when a source keeps failing or goes stale, once per streak.

A streak is named by the source's last success: the failures (or the staleness) since that success raise one
alert, and only a new success starts a new streak. Sent alerts are written to the audit log, so a restarted
service, or a second process on the same database, does not send the same alert again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import requests

from config.settings import SchedulerSettings
from crawlers.state import SourceHealth, StateStore

logger = logging.getLogger(__name__)

ACTOR = "scheduler"
AlertKind = Literal["failing", "stale"]


@dataclass(frozen=True)
class Alert:
    """One alert about one source."""

    kind: AlertKind
    source_id: str
    message: str
    consecutive_failures: int
    freshness_seconds: float | None
    last_success_at: datetime | None

    @property
    def streak(self) -> str:
        """Names the streak this alert belongs to (the success it started after)."""
        since = self.last_success_at.isoformat() if self.last_success_at else "never"
        return f"{self.kind}:{since}"

    def payload(self) -> dict[str, Any]:
        """The JSON body that is POSTed."""
        return {
            "service": "edufed",
            "kind": self.kind,
            "source_id": self.source_id,
            "message": self.message,
            "consecutive_failures": self.consecutive_failures,
            "freshness_seconds": self.freshness_seconds,
            "last_success_at": self.last_success_at.isoformat() if self.last_success_at else None,
        }


def due_alerts(
    health: Mapping[str, SourceHealth], *, after_failures: int, stale_seconds: Mapping[str, float]
) -> list[Alert]:
    """The alerts these health figures call for (before removing those already sent)."""
    alerts = []
    for source_id, h in sorted(health.items()):
        if h.consecutive_failures >= after_failures:
            message = f"{source_id} 连续 {h.consecutive_failures} 次采集失败"
            alerts.append(Alert("failing", source_id, message, h.consecutive_failures,
                                h.freshness_seconds, h.last_success_at))  # fmt: skip
        limit = stale_seconds.get(source_id)
        if limit is not None and h.freshness_seconds is not None and h.freshness_seconds > limit:
            message = f"{source_id} 的数据已有 {h.freshness_seconds / 3600:.1f} 小时没有更新"
            alerts.append(Alert("stale", source_id, message, h.consecutive_failures,
                                h.freshness_seconds, h.last_success_at))  # fmt: skip
    return alerts


class AlertHook:
    """Checks sources after runs and on a timer, and POSTs each new alert to `settings.alert_url`."""

    def __init__(self, store: StateStore, *, settings: SchedulerSettings) -> None:
        self.store = store
        self.settings = settings

    def stale_seconds(self) -> dict[str, float]:
        """Each schedulable source's staleness threshold, in seconds."""
        limits = {}
        for source in self.store.sources.find(enabled=True):
            if source.paused:
                continue  # a paused source is stale on purpose
            hours = source.config.schedule.stale_after_hours or self.settings.stale_after_hours
            limits[source.id] = hours * 3600
        return limits

    def check(self, source_ids: Sequence[str] | None = None) -> list[Alert]:
        """Send the alerts that are due and not sent yet for their streak; returns those sent."""
        if not self.settings.alert_url:
            return []
        health = self.store.health(source_ids)
        due = due_alerts(health, after_failures=self.settings.alert_after_failures,
                         stale_seconds=self.stale_seconds())  # fmt: skip
        return [alert for alert in due if not self._already_sent(alert) and self._send(alert)]

    def _already_sent(self, alert: Alert) -> bool:
        last = self.store.audit.find(action=f"alert.{alert.kind}", target=alert.source_id, limit=1)
        return bool(last) and (last[0].details or {}).get("streak") == alert.streak

    def _send(self, alert: Alert) -> bool:
        url = self.settings.alert_url
        assert url is not None
        try:
            with requests.Session() as session:
                response = session.post(url, json=alert.payload(), timeout=self.settings.alert_timeout_seconds)
            response.close()
            response.raise_for_status()
        except requests.RequestException as exc:  # try again at the next check
            logger.warning("alert about %s could not be delivered: %s", alert.source_id, exc)
            return False
        self.store.audit.record(actor=ACTOR, action=f"alert.{alert.kind}", target=alert.source_id,
                                details={"streak": alert.streak, **alert.payload()})  # fmt: skip
        logger.info("alert sent: %s", alert.message)
        return True
