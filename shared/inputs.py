"""The input rules every boundary applies: bounded JSON nesting, text without NUL or unpaired surrogates,
and dates within the years the suite supports.

The gateway applies them to every request (body, query string, path and the headers it reads) before an
endpoint runs; the services apply the same rules through the fields of `shared.fields`, so a direct RPC
call meets them too. Broken rules are answered as 422 with field messages, never a crash deeper down
(PostgreSQL refuses NUL, a driver cannot encode a lone surrogate, date arithmetic overflows near year 1
and 9999, Python's parser recurses once per nesting level).
"""
from __future__ import annotations

import json
import re
from typing import Any

# Deepest nesting of arrays and objects a JSON body may have (the deepest real body nests 4 levels).
MAX_DEPTH = 32
# Dates and times are accepted for years FIRST_YEAR..LAST_YEAR, as written (before any offset is
# applied), so every conversion between time zones and every interval computed from them stays in range.
FIRST_YEAR, LAST_YEAR = 1900, 2199
# The same years as OpenAPI (ECMA-262) patterns, spelled out whole so that a value drawn from the pattern
# is a date: RFC 3339 `full-date`, and `date-time` with seconds (a fraction of up to 6 digits) and an
# offset (`Z` or ±hh:mm). The document states both `format` and `pattern`; a day the month lacks fails
# the format.
_YEARS = r"(19[0-9]{2}|2[01][0-9]{2})"
_MONTH_DAY = r"(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
DATE_PATTERN = rf"^{_YEARS}-{_MONTH_DAY}$"
DATE_TIME_PATTERN = (rf"^{_YEARS}-{_MONTH_DAY}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{{1,6}})?"
                     r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$")
MONTH_PATTERN = rf"^{_YEARS}-(0[1-9]|1[0-2])$"
# An http(s) URL as the server's check (marshmallow's, with a top-level domain) accepts it, spelled so that
# what the pattern draws is a URI too; the server accepts a few more (IP addresses, non-ASCII paths).
HTTP_URL_PATTERN = (r"^[Hh][Tt][Tt][Pp][Ss]?://([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,6}"
                    r"(:[0-9]{1,5})?(/|[/?#][A-Za-z0-9._~!$&'()*+,;=:@/?#-]+)?$")
# Ids are PostgreSQL `integer`s, from 1; a cursor is the id a page ended at, as decimal digits.
MAX_ID = 2**31 - 1
CURSOR_PATTERN = r"^[0-9]{1,10}$"
ID_MESSAGE = f"must be an id between 1 and {MAX_ID}"
YEAR_MESSAGE = f"must be a date between the years {FIRST_YEAR} and {LAST_YEAR}"
# The text rule as an OpenAPI (ECMA-262) pattern: no NUL. Unpaired surrogates cannot be sent as UTF-8 at
# all; in JSON they are \\uD800-style escapes, refused by the same rule (stated in the API description).
TEXT_PATTERN = r"^[^\x00]*$"
TEXT_MESSAGE = "must not contain NUL (U+0000) or unpaired surrogate characters"
DEPTH_MESSAGE = f"nests deeper than {MAX_DEPTH} levels"

_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
# A JSON string (skipped whole) or one bracket; only brackets outside strings count towards the depth.
_JSON_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.S)
_OPEN = frozenset(b"[{")


class TooDeep(ValueError):
    """A JSON document nests deeper than MAX_DEPTH."""


def bad_text(value: str) -> bool:
    """Whether text holds a NUL or an unpaired surrogate (a paired one is decoded to one character)."""
    return _BAD_TEXT.search(value) is not None


def text_errors(value: Any) -> dict | list | None:
    """Field messages for every string (object keys too) in a JSON-like value that breaks the text rule,
    shaped like marshmallow's (`{"field": [msg]}`, nested by key and list index); None when all is well."""
    if isinstance(value, str):
        return [TEXT_MESSAGE] if bad_text(value) else None
    if isinstance(value, dict):
        errors: dict = {}
        for key, item in value.items():
            if isinstance(key, str) and bad_text(key):
                errors[text_key(key)] = [f"the field name {TEXT_MESSAGE}"]
                continue
            nested = text_errors(item)
            if nested:
                errors[key] = nested
        return errors or None
    if isinstance(value, list | tuple):
        errors = {index: nested for index, item in enumerate(value) if (nested := text_errors(item))}
        return errors or None
    return None


def text_key(text: str) -> str:
    """A name (of a field, a parameter) that can be sent back in an answer: offending characters shown
    as their code points."""
    return _BAD_TEXT.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def nesting_depth_exceeds(data: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether a JSON text nests deeper than `limit`, found without parsing it (stops at the first
    level too deep, so a hostile megabyte of brackets costs no more than a few dozen steps)."""
    depth = 0
    for match in _JSON_TOKEN.finditer(data):
        token = match.group()
        if len(token) != 1:
            continue  # a string
        if token[0] in _OPEN:
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def loads(data: bytes | str, limit: int = MAX_DEPTH) -> Any:
    """json.loads with the nesting bounded before the parser runs (raises TooDeep, or ValueError for
    text that is not JSON)."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if nesting_depth_exceeds(raw, limit):
        raise TooDeep(DEPTH_MESSAGE)
    return json.loads(data)


def year_in_range(year: int) -> bool:
    return FIRST_YEAR <= year <= LAST_YEAR
