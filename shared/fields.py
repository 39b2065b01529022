"""marshmallow's fields with the suite's input rules (shared.inputs) built in; schemas import these:
`from shared import fields`.

Every field marshmallow offers is here under its own name; the ones that read text or dates check it:
text (String, Email, Url, the keys and values of Dict) holds no NUL or unpaired surrogate, dates and
times lie within the supported years (the OpenAPI document states both as a `pattern`), and a boolean is
true or false, never a number.
"""
from __future__ import annotations

from datetime import UTC
from datetime import datetime as _datetime

from marshmallow import ValidationError, validate
from marshmallow import fields as _marshmallow
from marshmallow.fields import *  # noqa: F403 - the whole vocabulary, with the overrides below

from shared.inputs import (
    DATE_PATTERN,
    DATE_TIME_PATTERN,
    HTTP_URL_PATTERN,
    MAX_ID,
    TEXT_MESSAGE,
    TEXT_PATTERN,
    YEAR_MESSAGE,
    bad_text,
    text_errors,
    year_in_range,
)


class _Text:
    """Refuses text with NUL or an unpaired surrogate."""

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs)
        if isinstance(result, str) and bad_text(result):
            raise ValidationError(TEXT_MESSAGE)
        return result


class String(_Text, _marshmallow.String):
    """Text; the OpenAPI document states the rule as a pattern unless a validator already fixes the form."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not any(isinstance(v, validate.Regexp | validate.OneOf) for v in self.validators):
            self.metadata = {"pattern": TEXT_PATTERN, **self.metadata}


class Email(_Text, _marshmallow.Email):
    pass


class Url(_Text, _marshmallow.Url):
    """A URL, documented as `format: uri`; an absolute http(s) URL also with the pattern it must match."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        schemes = set(kwargs.get("schemes") or ())
        if schemes and schemes <= {"http", "https"} and self.require_tld and not self.relative:
            self.metadata = {"pattern": HTTP_URL_PATTERN, **self.metadata}
        self.metadata = {"format": "uri", **self.metadata}


class Integer(_marshmallow.Integer):
    """A whole number (`2`, or `"2"` in a query string or path); `2.5` is refused, not truncated to 2.
    Without bounds of its own it holds what a PostgreSQL `integer` holds, and the document says so."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        ranges = [v for v in self.validators if isinstance(v, validate.Range)]
        has_min = any(r.min is not None for r in ranges)
        has_max = any(r.max is not None for r in ranges)
        if not (has_min and has_max):
            self.validators.append(validate.Range(min=None if has_min else -MAX_ID - 1,
                                                  max=None if has_max else MAX_ID))

    def _validated(self, value):
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


Int = Integer


Str, URL = String, Url


class Dict(_marshmallow.Dict):
    """A mapping whose keys and values (however deeply nested, when free-form) follow the text rule."""

    def _deserialize(self, value, attr, data, **kwargs):
        errors = text_errors(value) if isinstance(value, dict) else None
        if errors:
            raise ValidationError(errors)
        return super()._deserialize(value, attr, data, **kwargs)


class Boolean(_marshmallow.Boolean):
    """JSON `true` or `false`; in a query string `true` or `false`. Numbers (`0`, `1`) and other words
    are refused: the document says boolean, and a number is not one."""

    truthy = frozenset({"true", "True", "TRUE"})
    falsy = frozenset({"false", "False", "FALSE"})

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and (value in self.truthy or value in self.falsy):
            return value in self.truthy
        raise self.make_error("invalid", input=value)


Bool = Boolean


def ordered(data: dict, first: str, then: str, message: str) -> None:
    """In a schema's `@validates_schema`: `then` must come after `first` when both are given (ValidationError
    on `then`). Two times must also be of one kind: both local wall-clock times, or both with an offset."""
    start, end = data.get(first), data.get(then)
    if start is None or end is None:
        return
    if isinstance(start, _datetime) and (start.tzinfo is None) != (end.tzinfo is None):
        raise ValidationError("give both times with an offset, or both as local times", then)
    if end <= start:
        raise ValidationError(message, then)


class Unique(validate.Validator):
    """A list that names each value once; the OpenAPI document states it as `uniqueItems`."""

    error = "lists each value once"

    def __call__(self, value):
        seen = [item for index, item in enumerate(value) if item in value[:index]]
        if seen:
            raise ValidationError(self.error)
        return value


class _InRange:
    """Dates and times within the supported years (as written, before any UTC offset is applied)."""

    PATTERN = DATE_TIME_PATTERN

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.metadata = {"pattern": self.PATTERN, **self.metadata}

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            result = super()._deserialize(value, attr, data, **kwargs)
        except OverflowError:
            raise ValidationError(YEAR_MESSAGE) from None
        if not year_in_range(result.year):
            raise ValidationError(YEAR_MESSAGE)
        return result


class _InUTC:
    """Times are answered in UTC, RFC 3339 with `+00:00`, whatever zone they were reckoned in."""

    def _serialize(self, value, attr, obj, **kwargs):
        if isinstance(value, _datetime) and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class DateTime(_InUTC, _InRange, _marshmallow.DateTime):
    pass


class AwareDateTime(_InUTC, _InRange, _marshmallow.AwareDateTime):
    pass


class NaiveDateTime(_InRange, _marshmallow.NaiveDateTime):
    pass


class Date(_InRange, _marshmallow.Date):
    PATTERN = DATE_PATTERN
