"""How the admin pages show times, ages, durations, statuses and triggers: in Chinese, in Beijing time."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from crawlers.schedule import TIMEZONE

STATUS_LABELS = {
    "running": "运行中", "succeeded": "成功", "partial": "部分成功", "failed": "失败",
    "held": "删除待审批", "timed_out": "超时", "queued": "排队中",
}  # fmt: skip
TRIGGER_LABELS = {"schedule": "定时", "manual": "手动", "retry": "接管重试", "startup": "启动时", "delete": "删除来源"}
LIGHT_LABELS = {"red": "异常", "amber": "注意", "green": "正常"}
HOLD_LABELS = {"pending": "待审批", "approved": "已批准", "rejected": "已驳回"}
DONE_MESSAGES = {
    "run": "已开始采集。", "paused": "已暂停定时采集。", "resumed": "已恢复定时采集。",
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
    "failed": "操作没有成功，请稍后再试。",
}
_ZONE = ZoneInfo(TIMEZONE)


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

    def trigger(self, value: str) -> str:
        return TRIGGER_LABELS.get(value, value)

    def light(self, value: str) -> str:
        return LIGHT_LABELS.get(value, value)

    def hold(self, value: str) -> str:
        return HOLD_LABELS.get(value, value)
