"""A report's period: the days `from`..`to` in a time zone, as a query and as UTC bounds.

Reports count over whole days in the caller's time zone; the query names the days (`to` not before `from`,
at most `MAX_REPORT_DAYS` after it) and `bounds` turns them into `[starts_at, ends_at)` in UTC, kept within
the years the API writes (a day at either end of them may begin or end just outside).
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import Schema, ValidationError, validate, validates_schema

from shared import fields
from shared.inputs import FIRST_YEAR, LAST_YEAR

MAX_REPORT_DAYS = 366
DEFAULT_ZONE = "Asia/Shanghai"


def zone(name: str | None) -> ZoneInfo:
    """The named time zone, or Shanghai's when the name is empty or unknown."""
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def bounds(first: date, last: date, where: ZoneInfo) -> tuple[datetime, datetime]:
    """The start of `first` and the start of the day after `last` in `where`, in UTC."""
    starts_at = max(datetime.combine(first, time(0), where).astimezone(UTC), datetime(FIRST_YEAR, 1, 1, tzinfo=UTC))
    ends_at = min(datetime.combine(last + timedelta(days=1), time(0), where).astimezone(UTC),
                  datetime(LAST_YEAR, 12, 31, 23, 59, 59, tzinfo=UTC))
    return starts_at, ends_at


class PeriodQuerySchema(Schema):
    """`from`, `to` and `format` of a report; reports inherit it and add their filters."""

    # Loaded as "from" too (`attribute`), so the loaded query loads again unchanged in the service.
    from_ = fields.Date(required=True, data_key="from", attribute="from", metadata={
        "description": "the first day counted (in your time zone)"})
    to = fields.Date(required=True, metadata={
        "description": f"the last day counted (in your time zone): not before `from`, at most {MAX_REPORT_DAYS} "
                       "days after it"})
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]), metadata={
        "description": "csv: the same report as CSV rows; so does `Accept: text/csv`"})

    @validates_schema
    def _period(self, data, **_):
        if "from" in data and "to" in data:
            if data["to"] < data["from"]:
                raise ValidationError({"to": ["must not be before from"]})
            if (data["to"] - data["from"]).days > MAX_REPORT_DAYS:
                raise ValidationError({"to": [f"at most {MAX_REPORT_DAYS} days after from"]})


class ReportPeriodSchema(Schema):
    """The period a report counted, in its answer."""

    from_ = fields.String(data_key="from", attribute="from")
    to = fields.String()
    timezone = fields.String()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime(metadata={"description": "the end, exclusive (the day after `to` begins)"})
