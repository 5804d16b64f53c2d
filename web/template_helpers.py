"""Filters and globals the templates use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from flask_babel import format_timedelta, gettext

from judging.aggregation import method_label
from judging.submissions import STATUS_LABELS
from storage.models import EntryStatus
from web.auth import home_url

BEIJING = ZoneInfo("Asia/Shanghai")


def beijing(moment: datetime | None) -> str:
    """A stored UTC time as Beijing time, e.g. 2026-12-31 18:00."""
    if moment is None:
        return ""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def duration(seconds: float | None) -> str:
    """Seconds as words in the page's language ("3 分钟"); empty when unknown."""
    if seconds is None:
        return ""
    return format_timedelta(timedelta(seconds=seconds), threshold=1.1)


def status_label(status: EntryStatus) -> str:
    return gettext(STATUS_LABELS[status])


def method_name(method: str) -> str:
    """An aggregation method's Chinese name (`trimmed_mean` -> 去掉最高分和最低分后的平均分)."""
    return gettext(method_label(method))


def init_templates(app: Flask) -> None:
    app.add_template_filter(beijing)
    app.add_template_filter(method_name)
    app.add_template_filter(duration)
    app.add_template_global(home_url)
    app.add_template_global(status_label)
