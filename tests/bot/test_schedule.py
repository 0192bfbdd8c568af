"""INGEST_CRON / INGEST_TIMEZONE → the trigger: crontab's meaning, clear refusals."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.schedule import ScheduleError, crontab_weekdays, schedule_trigger

MONDAY = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # a Monday


def fires(cron: str, tz: str = "UTC", start: datetime = MONDAY, n: int = 5) -> list[datetime]:
    trigger = schedule_trigger(cron, tz)
    out, prev, now = [], None, start
    for _ in range(n):
        nxt = trigger.get_next_fire_time(prev, now)
        out.append(nxt)
        prev, now = nxt, nxt
    return out


def test_the_default_runs_at_two_every_night_in_the_time_zone():
    assert [t.isoformat() for t in fires("0 2 * * *", "Europe/Berlin", n=2)] == [
        "2026-11-24T02:00:00+01:00",
        "2026-11-25T02:00:00+01:00",
    ]


def test_weekday_numbers_mean_what_they_mean_in_crontab():
    # APScheduler 3's own numbering has 0 = Monday; crontab's 1-5 is Monday to Friday
    assert [t.strftime("%a") for t in fires("30 1 * * 1-5", n=5)] == ["Tue", "Wed", "Thu", "Fri", "Mon"]
    assert [t.strftime("%a") for t in fires("0 2 * * 0", n=2)] == ["Sun", "Sun"]
    assert crontab_weekdays("7") == "sun" and crontab_weekdays("5-7") == "fri,sat,sun"
    assert crontab_weekdays("*/2") == "tue,thu,sat,sun"  # 0,2,4,6 in crontab
    assert crontab_weekdays("sat,sun") == "sat,sun" and crontab_weekdays("mon-wed") == "mon,tue,wed"


def test_six_fields_put_seconds_first_and_off_turns_it_off():
    assert fires("15 0 3 * * *", n=1)[0] == datetime(2026, 11, 24, 3, 0, 15, tzinfo=UTC)
    for off in ("off", "", "  OFF ", "none"):
        assert schedule_trigger(off, "UTC") is None


@pytest.mark.parametrize(
    ("cron", "tz", "says"),
    [
        ("0 2 * *", "UTC", "has 4 fields; write five"),
        ("0 25 * * *", "UTC", "not a valid schedule"),
        ("0 2 * * 8", "UTC", "out of range: 0-7"),
        ("0 2 * * funday", "UTC", "not a day"),
        ("0 2 1 * 1", "UTC", "restricts both the day of the month and the day of the week"),
        ("0 2 * * *", "Mars/Olympus", "INGEST_TIMEZONE 'Mars/Olympus' is not a time zone"),
    ],
)
def test_bad_schedules_are_refused_with_what_to_write(cron, tz, says):
    with pytest.raises(ScheduleError, match=says) as err:
        schedule_trigger(cron, tz)
    assert "INGEST_" in str(err.value)
