"""marshmallow's fields with the suite's input rules (shared.inputs) built in; schemas import these:
`from shared import fields`.

Every field marshmallow offers is here under its own name; the ones that read text or dates check it:
text (String, Email, Url, the keys and values of Dict) holds no NUL or unpaired surrogate, and dates and
times lie within the supported years, which the OpenAPI document states as a `pattern`.
"""
from __future__ import annotations

from datetime import UTC
from datetime import datetime as _datetime

from marshmallow import ValidationError, validate
from marshmallow import fields as _marshmallow
from marshmallow.fields import *  # noqa: F403 - the whole vocabulary, with the overrides below

from shared.inputs import (
    TEXT_MESSAGE,
    TEXT_PATTERN,
    YEAR_MESSAGE,
    YEAR_PATTERN,
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
    pass


Str, URL = String, Url


class Dict(_marshmallow.Dict):
    """A mapping whose keys and values (however deeply nested, when free-form) follow the text rule."""

    def _deserialize(self, value, attr, data, **kwargs):
        errors = text_errors(value) if isinstance(value, dict) else None
        if errors:
            raise ValidationError(errors)
        return super()._deserialize(value, attr, data, **kwargs)


class _InRange:
    """Dates and times within the supported years (as written, before any UTC offset is applied)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.metadata = {"pattern": YEAR_PATTERN, **self.metadata}

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
    pass
