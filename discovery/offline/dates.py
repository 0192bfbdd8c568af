"""Dates and time windows in a question, relative to `today`.

"in the last 60 days", "past 2 weeks", "last month" (rolling: 1 month back), "a fortnight
ago", "lately/recently" (LATELY_DAYS), "this week/month/quarter/year", "year to date", "today",
"yesterday", "since 2026-01-01", "before/after/until DATE", "between DATE and DATE",
"in January" (the latest January not after today), "in March 2026", "in Q1", "in 2025".
Which behaviours a window applies to is decided by the walk (discovery.offline.walk).
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from discovery.offline.doc import Doc
from discovery.offline.lexicon import LATELY_DAYS, MONTHS
from discovery.offline.numbers import to_number
from discovery.offline.patterns import BETWEEN_RE, DAY_RE, IN_RE, LATELY_RE, REL_RE, SINCE_RE, THIS_RE, UNTIL_RE
from discovery.query import LONGEST_WINDOW, MAX_WINDOW_YEARS, TimeWindow


class WindowTooLong(ValueError):
    """A relative window reaching back further than TimeWindow allows ("the last 99999999999 days")."""


def _date_range(m: re.Match[str], g: str, today: date) -> tuple[date, date]:
    """The first and last day meant by a date expression (a day, a month, a quarter, a year)."""

    def grp(name: str) -> str:
        return m.group(name + g) or ""  # "" for a group that did not take part, like None before

    if grp("iso"):
        d = date.fromisoformat("-".join(p.zfill(2) for p in grp("iso").split("-")))
        return d, d
    if grp("y4"):
        y = int(grp("y4"))
        return date(y, 1, 1), date(y, 12, 31)
    if grp("q"):
        q = int(grp("q")[1])
        y = int(grp("yq")) if grp("yq") else (today.year if 3 * q - 2 <= today.month else today.year - 1)
        return date(y, 3 * q - 2, 1), date(y, 3 * q, calendar.monthrange(y, 3 * q)[1])
    for i in ("1", "2", "3"):
        if grp("m" + i):
            month = MONTHS[grp("m" + i).lower()]
            day = int(grp("d" + i)) if i != "3" and grp("d" + i) else None
            year_text = grp("y" + i)
            if year_text:
                year = int(year_text)
            else:  # the latest such month / day that is not in the future
                year = today.year if (month, day or 1) <= (today.month, today.day) else today.year - 1
            if day:
                d = date(year, month, day)
                return d, d
            return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    raise ValueError(m.group())


def _unit(text: str, n: float) -> tuple[int, str]:
    base = text.rstrip("s")
    if base == "fortnight":
        return int(n) * 2, "weeks"
    if base == "quarter":
        return int(n) * 3, "months"
    return int(n), base + "s"


def _between(m: re.Match[str], today: date) -> TimeWindow:
    return TimeWindow(start=_date_range(m, "a", today)[0], end=_date_range(m, "b", today)[1])


def _since(m: re.Match[str], today: date) -> TimeWindow:
    first, last = _date_range(m, "a", today)
    return TimeWindow(start=last + timedelta(days=1) if m.group("w") == "after" else first)


def _until(m: re.Match[str], today: date) -> TimeWindow:
    first, last = _date_range(m, "a", today)
    return TimeWindow(end=first - timedelta(days=1) if m.group("w") == "before" else last)


def _relative(m: re.Match[str], today: date) -> TimeWindow:
    n_text = m.group("n") or m.group("n2") or m.group("n3")
    last, unit = _unit(
        m.group("unit") or m.group("unit2") or m.group("unit3"), 1 if n_text in (None, "a") else to_number(n_text)
    )
    if last > LONGEST_WINDOW[unit]:
        raise WindowTooLong(m.group())
    return TimeWindow(last=last, unit=unit)  # type: ignore[arg-type]


def _this(m: re.Match[str], today: date) -> TimeWindow:
    starts = {
        "week": today - timedelta(days=today.weekday()),
        "month": today.replace(day=1),
        "quarter": date(today.year, 3 * ((today.month - 1) // 3) + 1, 1),
        "year": date(today.year, 1, 1),
    }
    return TimeWindow(start=starts[m.group("unit") or "year"])


def _day(m: re.Match[str], today: date) -> TimeWindow:
    day = today if m.group() == "today" else today - timedelta(days=1)
    return TimeWindow(start=day, end=day)


def _in(m: re.Match[str], today: date) -> TimeWindow:
    first, last = _date_range(m, "a", today)
    return TimeWindow(start=first, end=last)


_WINDOWS = (
    (BETWEEN_RE, _between),
    (SINCE_RE, _since),
    (UNTIL_RE, _until),
    (REL_RE, _relative),
    (THIS_RE, _this),
    (DAY_RE, _day),
    (IN_RE, _in),
    (LATELY_RE, lambda m, today: TimeWindow(last=LATELY_DAYS, unit="days")),
)


def find_windows(doc: Doc, today: date, problems: list[str]) -> list[tuple[int, int, TimeWindow]]:
    """Every time window in the free text: (start, end, TimeWindow), consumed as 'time'.
    Impossible dates ("2026-02-30", "the last 0 days") are left unread; a window reaching back
    more than MAX_WINDOW_YEARS is a problem (the plan says so instead of building it)."""
    found: list[tuple[int, int, TimeWindow]] = []
    for pattern, build in _WINDOWS:
        for m in doc.find(pattern):
            try:
                window = build(m, today)
            except WindowTooLong as too_long:
                problems.append(
                    f"“{str(too_long).strip()}” reaches back more than {MAX_WINDOW_YEARS} years; "
                    f"ask about a period within the last {MAX_WINDOW_YEARS} years."
                )
                doc.consume(m.start(), m.end(), "time")
                continue
            except (ValueError, OverflowError):  # pydantic's ValidationError is a ValueError
                continue
            found.append((m.start(), m.end(), window))
            doc.consume(m.start(), m.end(), "time")
    return sorted(found, key=lambda f: f[0])
