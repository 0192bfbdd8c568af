"""INGEST_CRON + INGEST_TIMEZONE → an APScheduler CronTrigger that means what crontab means.

Five fields (minute hour day-of-month month day-of-week), as in crontab; six fields put the
seconds first. `off` (or empty) turns the nightly run off. Two crontab meanings APScheduler 3
does not share are translated or refused here:

- day-of-week numbers: crontab's 0 (and 7) is Sunday, 1 Monday; APScheduler 3's 0 is Monday.
  `0 2 * * 1-5` must run Monday to Friday, so numbers are turned into day names.
- a restricted day-of-month *and* day-of-week: crontab runs when either matches, APScheduler
  only when both do. That expression is refused with a message rather than run on other days.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

from bot import BotError

OFF = frozenset({"", "off", "none", "disabled", "never"})
DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # crontab numbering: 0 = Sunday
EXAMPLE = "`0 2 * * *` (02:00 every day) or `30 1 * * 1-5` (01:30 Monday to Friday)"


class ScheduleError(BotError, ValueError):
    """INGEST_CRON or INGEST_TIMEZONE can't be used; the message says what to write instead."""


def schedule_trigger(cron: str, timezone: str) -> CronTrigger | None:
    """The trigger for `cron` in `timezone`, or None when the schedule is off."""
    expr = " ".join((cron or "").split())
    if expr.lower() in OFF:
        return None
    tz = time_zone(timezone)
    fields = expr.split(" ")
    if len(fields) not in (5, 6):
        raise ScheduleError(
            f"INGEST_CRON {expr!r} has {len(fields)} fields; write five (minute hour day-of-month month "
            f"day-of-week), e.g. {EXAMPLE}, or `off`."
        )
    second = fields.pop(0) if len(fields) == 6 else "0"
    minute, hour, day, month, weekday = fields
    if day not in ("*", "?") and weekday not in ("*", "?"):
        raise ScheduleError(
            f"INGEST_CRON {expr!r} restricts both the day of the month and the day of the week; cron would run "
            "on days matching either, this scheduler only on days matching both. Restrict one of them."
        )
    weekdays = crontab_weekdays(weekday)
    try:
        return CronTrigger(
            second=second,
            minute=minute,
            hour=hour,
            day="*" if day == "?" else day,
            month=month,
            day_of_week=weekdays,
            timezone=tz,
        )
    except ValueError as exc:
        raise ScheduleError(f"INGEST_CRON {expr!r} is not a valid schedule ({exc}); e.g. {EXAMPLE}.") from exc


def time_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo((name or "UTC").strip())
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(
            f"INGEST_TIMEZONE {name!r} is not a time zone; use an IANA name such as UTC, Europe/Berlin or "
            "America/New_York."
        ) from exc


_PART = re.compile(r"^(?P<range>\*|[a-z0-9]+(?:-[a-z0-9]+)?)(?:/(?P<step>\d+))?$")


def crontab_weekdays(field: str) -> str:
    """A crontab day-of-week field as APScheduler day names: `1-5` → `mon,tue,wed,thu,fri`."""
    field = field.strip().lower()
    if field in ("*", "?"):
        return "*"
    days: list[int] = []
    for part in field.split(","):
        m = _PART.match(part)
        if not m:
            raise ScheduleError(f"day-of-week {part!r} in INGEST_CRON is not a day, a range or a step (e.g. 1-5).")
        if m["range"] == "*":
            first, last = 0, 6
        elif "-" in m["range"]:
            a, b = m["range"].split("-")
            first, last = _day(a), _day(b)
        else:
            first = last = _day(m["range"])
            if m["step"]:
                last = 6
        if last < first and last == 0:  # `5-7` / `fri-sun`: 7 is Sunday at the end of the week
            last = 7
        if last < first:
            raise ScheduleError(f"day-of-week range {part!r} in INGEST_CRON runs backwards; write it as a list.")
        step = int(m["step"] or 1)
        if step < 1:
            raise ScheduleError(f"day-of-week step in {part!r} must be at least 1.")
        days.extend(d % 7 for d in range(first, last + 1, step))
    ordered = sorted(set(days), key=lambda d: (d - 1) % 7)  # Monday first, as people read a week
    return ",".join(DAY_NAMES[d] for d in ordered)


def _day(token: str) -> int:
    if token.isdigit():
        n = int(token)
        if 0 <= n <= 7:
            return n
        raise ScheduleError(f"day-of-week {n} in INGEST_CRON is out of range: 0-7 (0 and 7 are Sunday).")
    if token[:3] in DAY_NAMES:
        return DAY_NAMES.index(token[:3])
    raise ScheduleError(f"day-of-week {token!r} in INGEST_CRON is not a day (0-7 or sun…sat).")
