"""How the admin pages show times, ages, durations, statuses and triggers: in Chinese, in Beijing time."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from crawlers import TIMEZONE
from crawlers.state import RunRecord

STATUS_LABELS = {
    "running": "运行中", "succeeded": "成功", "partial": "部分成功", "failed": "失败",
    "held": "删除待审批", "timed_out": "超时", "queued": "排队中",
}  # fmt: skip
TRIGGER_LABELS = {"schedule": "定时", "manual": "手动", "retry": "接管重试", "startup": "启动时", "delete": "删除来源"}
LIGHT_LABELS = {"red": "异常", "amber": "注意", "green": "正常"}
HOLD_LABELS = {"pending": "待审批", "approved": "已批准", "rejected": "已驳回"}
DONE_MESSAGES = {
    "run": "已开始采集。", "enabled": "已启用：这个来源将按计划定时采集，记录会发布给学习者。",
    "disabled": "已停用：这个来源不再定时采集，已发布的记录保留。",
    "paused": "已暂停定时采集。", "resumed": "已恢复定时采集。",
    "approved": "已批准删除，这些记录已从目录中撤下。", "rejected": "已驳回删除，这些记录保留在目录中。",
    "split": "已拆开：这两条记录不再算作同一课程。", "join": "已合并：这两条记录算作同一课程。",
    "undone": "已撤销这个决定，由匹配规则重新判断。",
}  # fmt: skip
ERROR_MESSAGES = {
    "run_in_progress": "这个来源正在采集，请等这次采集结束后再试。",
    "already_decided": "这项删除已经处理过了。",
    "not_found": "没有找到这个来源或这项删除。",
    "scheduler_unavailable": "这个服务没有运行采集调度，无法立即采集。",
    "csrf": "表单已过期，请重新操作一次。",
    "validation_error": "填写的内容不对（例如把记录和它自己合并），请检查后再试。",
    "record_not_found": "没有找到这条记录，请检查记录编号（平台:编号）。",
    "not_enabled": "这个来源还没有启用。请先试采集，或勾选“确认发布”后再立即采集。",
    "failed": "操作没有成功，请稍后再试。",
}
_ZONE = ZoneInfo(TIMEZONE)

ERROR_TYPE_LABELS = {
    "UrlRefusedError": "来源地址不能访问：地址不是 http 或 https，或指向不允许访问的内部地址。请运营者检查来源地址。",
    "RobotsDisallowedError": "对方网站的 robots.txt 不允许我们抓取这个地址。请联系平台方。",
    "ResponseTooLargeError": "对方返回的内容太大，超过了上限，已停止读取。",
    "FetchError": "连不上对方平台，或对方返回了错误（多次重试后仍失败）。通常是对方服务暂时出了问题。",
    "ParseError": "对方返回的内容看不懂（格式不对或不完整）。可能对方改了接口。",
    "SourceConfigError": "这个来源的设置有误，无法采集。请运营者检查设置。",
    "RunAbandoned": "采集进程中途停止（例如服务重启），这次采集没有完成。下次会重新采集。",
    "TimeoutError": "采集超时。",
}
"""What an admin reads for a failed run's error class; the class and message stay one click away."""
_FALLBACK_ERROR = "采集出错，没有完成。技术细节见下方。"

_NOTE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^(\d+) URLs not requested: robots\.txt disallows them"),
     "有 {0} 个地址按对方 robots.txt 的要求没有访问（这是规矩，不是故障）。"),
    (re.compile(r"^stopped at max_records=(\d+)"), "达到单次最多 {0} 条的上限后停止：没有撤下任何记录，下次从头再采。"),
    (re.compile(r"^an incomplete listing"), "对方这次的列表不完整：没有撤下任何记录，下次从头再采。"),
    (re.compile(r"^(\d+) records missing from (\d+) complete listings in a row withdrawn"),
     "有 {0} 条记录在连续 {1} 次完整列表中都没有出现，已撤下。"),
)  # fmt: skip
_REASON_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"the source listed no records; it had (\d+)"), "对方这次一条记录都没列出，而原来有 {0} 条。"),
    (re.compile(r"none of the (\d+) items listed had a usable id; the source had (\d+) records"),
     "对方列出的 {0} 条都没有可用的编号，而原来有 {1} 条。"),
    (re.compile(r"would withdraw (\d+) of (\d+) records \(([^>]+) > ([^)]+)\)"),
     "这次要撤下 {1} 条中的 {0} 条（{2}），超过了允许的 {3}。"),
    (re.compile(r"the source reported (\d+) of its (\d+) records deleted \(([^>]+) > ([^)]+)\)"),
     "对方报告 {1} 条中的 {0} 条已删除（{2}），超过了允许的 {3}。"),
    (re.compile(r"source deleted by ([^\s;]+)"), "来源被{0}删除。"),
)  # fmt: skip
_INCOMPLETE = "对方这次的列表没有完整走完：没有撤下任何记录。"
_KEY_ACTOR = re.compile(r"key:([0-9a-f]{6,64})")


class AdminFormat:
    """Formatting helpers handed to the admin templates as `fmt`."""

    def time(self, value: datetime | None) -> str:
        """`2024-05-01 16:00:05` in Beijing time; a dash when missing."""
        return value.astimezone(_ZONE).strftime("%Y-%m-%d %H:%M:%S") if value else "—"

    def age(self, seconds: float | None) -> str:
        """How long ago, roughly: 刚刚, 5 分钟前, 3 小时前, 2 天前."""
        if seconds is None:
            return "从未成功"
        if seconds < 60:
            return "刚刚"
        if seconds < 3600:
            return f"{int(seconds // 60)} 分钟前"
        if seconds < 86400:
            return f"{int(seconds // 3600)} 小时前"
        return f"{int(seconds // 86400)} 天前"

    def duration(self, seconds: float | None) -> str:
        """`12.3 秒`, `4 分 5 秒`; a dash while running."""
        if seconds is None:
            return "—"
        if seconds < 60:
            return f"{seconds:.1f} 秒"
        return f"{int(seconds // 60)} 分 {int(seconds % 60)} 秒"

    def status(self, value: str) -> str:
        return STATUS_LABELS.get(value, value)

    def run_state(self, run: RunRecord) -> str:
        """A run's status as the pages show it: `queued` while its process has not begun it (the API and the
        state say `running`, which is how it counts), else its status."""
        return "queued" if run.queued else run.status

    def run_status(self, run: RunRecord) -> str:
        """A run's status word: 排队中 for a run asked for whose harvest waits for a free slot, not 运行中."""
        return self.status(self.run_state(run))

    def error(self, error_type: str | None) -> str:
        """A failed run's error in plain Chinese (the technical class and message go in a <details>)."""
        return ERROR_TYPE_LABELS.get(error_type or "", _FALLBACK_ERROR)

    def note(self, text: str) -> str:
        """A run report's note in plain Chinese; one we do not know is shown as written."""
        return _translate(text, _NOTE_PATTERNS) or text

    def incomplete(self, text: str | None) -> str:
        """Why a listing that did not fail is not whole, in plain Chinese."""
        return _INCOMPLETE if text else ""

    def outcome(self, status: str, counts: Any, report: Mapping[str, Any] | None) -> str:
        """One line for a finished run that did nothing visible: why it fetched nothing."""
        if status not in ("succeeded", "partial") or counts.fetched or counts.new or counts.updated:
            return ""
        if (report or {}).get("scope") == "unchanged":
            return "对方自上次采集以来没有变化，所以没有抓取新内容。"
        return "这次没有抓取到记录（对方自上次采集以来没有新的或改动的课程）。"

    def reason(self, text: str, actors: Mapping[str, str] | None = None) -> str:
        """A hold's reason in plain Chinese, parts joined by '；', each key named by its label, not its id."""
        for pattern, template in _REASON_PATTERNS:
            text = pattern.sub(lambda m, t=template: t.format(*m.groups()), text)  # type: ignore[misc]
        return self.actor(re.sub(r"。?;\s*", "。", text), actors)

    def actor(self, text: str, actors: Mapping[str, str] | None = None) -> str:
        """`key:<id>` replaced by what an admin knows of the key: its label, role and platform."""
        known = actors or {}
        return _KEY_ACTOR.sub(lambda m: known.get(m.group(1), "一把已不存在的密钥"), text)

    def trigger(self, value: str) -> str:
        return TRIGGER_LABELS.get(value, value)

    def light(self, value: str) -> str:
        return LIGHT_LABELS.get(value, value)

    def hold(self, value: str) -> str:
        return HOLD_LABELS.get(value, value)

    def source_url(self, config: Any) -> str:
        """The address a source is harvested from, whatever its kind names it (url, base_url, version_url)."""
        for name in ("url", "base_url", "version_url"):
            value = getattr(config, name, None)
            if value:
                return str(value)
        return "—"

    def state(self, enabled: bool, paused: bool) -> str:
        """未启用 / 已暂停 / 已启用."""
        return "未启用" if not enabled else ("已暂停" if paused else "已启用")


def _translate(text: str, patterns: tuple[tuple[re.Pattern[str], str], ...]) -> str | None:
    for pattern, template in patterns:
        match = pattern.match(text)
        if match:
            return template.format(*match.groups())
    return None


ROLE_LABELS = {"admin": "管理员", "operator": "运营者"}


def key_name(label: str | None, role: str, platform: str | None) -> str:
    """How pages name a key: `运营者「张三」（平台 demo_shequ）`."""
    who = ROLE_LABELS.get(role, role)
    named = f"{who}「{label}」" if label else f"{who}（未命名的密钥）"
    return f"{named}（平台 {platform}）" if platform else named
