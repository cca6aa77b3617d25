"""Fiscal calendars and period labels.

A period label is `FY2027` (a fiscal year) or `FY2027-Q1` (a quarter). A fiscal
year is named by the calendar year in which it ends (Dell's fiscal 2027 runs
31 January 2026 – 29 January 2027).

Three year-end rules cover the companies we watch:
- `nearest_weekday`: a 52/53-week year ending on the given weekday nearest the
  last day of `year_end_month` (Dell: Friday nearest 31 January). Quarters are
  13 weeks; the fourth quarter takes the 14th week of a 53-week year.
- `last_weekday`: a 52/53-week year ending on the last given weekday of the month
  (Apple: last Saturday of September). Quarters as above.
- `month_end`: the year ends on the last day of the month (Microsoft: 30 June);
  quarters end on the last day of every third month.
"""

from __future__ import annotations

import calendar as _cal
import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Literal

Rule = Literal["nearest_weekday", "last_weekday", "month_end"]
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

_LABEL = re.compile(r"^FY(\d{4})(?:-Q([1-4]))?$")


@dataclass(frozen=True, order=True)
class Period:
    """A fiscal year (quarter None) or one of its quarters."""

    year: int
    quarter: int | None = None

    @property
    def label(self) -> str:
        return f"FY{self.year}" if self.quarter is None else f"FY{self.year}-Q{self.quarter}"

    def __str__(self) -> str:
        return self.label

    @classmethod
    def parse(cls, label: str) -> Period:
        m = _LABEL.match(label)
        if not m:
            raise ValueError(f"not a period label: {label!r} (expected FY2027 or FY2027-Q1)")
        return cls(int(m[1]), int(m[2]) if m[2] else None)

    def previous(self) -> Period:
        """The period just before: the previous quarter, or the previous year."""
        if self.quarter is None:
            return Period(self.year - 1)
        if self.quarter == 1:
            return Period(self.year - 1, 4)
        return Period(self.year, self.quarter - 1)

    def year_ago(self) -> Period:
        return Period(self.year - 1, self.quarter)


@dataclass(frozen=True)
class FiscalCalendar:
    year_end_month: int = 1
    rule: Rule = "nearest_weekday"
    weekday: int = 4  # Monday=0 … Friday=4

    def year_end(self, fiscal_year: int) -> date:
        return _year_end(self, fiscal_year)

    def year_start(self, fiscal_year: int) -> date:
        return self.year_end(fiscal_year - 1) + timedelta(days=1)

    def quarter_end(self, fiscal_year: int, quarter: int) -> date:
        if quarter == 4:
            return self.year_end(fiscal_year)
        if self.rule == "month_end":
            start = self.year_start(fiscal_year)
            return _month_end(start.year, start.month, 3 * quarter - 1)
        return self.year_start(fiscal_year) + timedelta(weeks=13 * quarter, days=-1)

    def bounds(self, period: Period) -> tuple[date, date]:
        """First and last day of a period."""
        if period.quarter is None:
            return self.year_start(period.year), self.year_end(period.year)
        start = (
            self.year_start(period.year)
            if period.quarter == 1
            else self.quarter_end(period.year, period.quarter - 1) + timedelta(days=1)
        )
        return start, self.quarter_end(period.year, period.quarter)

    def fiscal_year_of(self, day: date) -> int:
        fy = day.year if day.month <= self.year_end_month else day.year + 1
        # The 52/53-week rules can put the year end a few days either side of the month end.
        while day > self.year_end(fy):
            fy += 1
        while day < self.year_start(fy):
            fy -= 1
        return fy

    def quarter_of(self, day: date) -> Period:
        fy = self.fiscal_year_of(day)
        for q in (1, 2, 3, 4):
            if day <= self.quarter_end(fy, q):
                return Period(fy, q)
        raise AssertionError("unreachable: day is inside its fiscal year")

    def latest_ended_quarter(self, before: date, quarter: int | None = None) -> Period:
        """The latest quarter (optionally: the latest Q<n>) that ended before `before`.

        A text published on `before` that says "Q1" means this quarter: a quarter
        ends at the end of its last day, so one ending on the publication day
        has not yet ended.
        """
        current = self.quarter_of(before)
        p = current.previous()
        while quarter is not None and p.quarter != quarter:
            p = p.previous()
        return p

    def latest_ended_year(self, before: date) -> int:
        return self.fiscal_year_of(before) - 1


def _month_end(year: int, month: int, add_months: int = 0) -> date:
    idx = year * 12 + (month - 1) + add_months
    y, m = divmod(idx, 12)
    return date(y, m + 1, _cal.monthrange(y, m + 1)[1])


@lru_cache(maxsize=4096)
def _year_end(cal: FiscalCalendar, fiscal_year: int) -> date:
    last = _month_end(fiscal_year, cal.year_end_month)
    if cal.rule == "month_end":
        return last
    back = (last.weekday() - cal.weekday) % 7  # days back to the last such weekday
    if cal.rule == "last_weekday":
        return last - timedelta(days=back)
    return last - timedelta(days=back) if back <= 3 else last + timedelta(days=7 - back)


DELL = FiscalCalendar(year_end_month=1, rule="nearest_weekday", weekday=4)
