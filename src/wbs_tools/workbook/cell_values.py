"""Cell values as SpreadsheetML: the ``t`` attribute and the child elements of a ``<c>``.

A refresh writes millions of cells but few distinct values (booleans, a few thousand dates, rounded
day counts), so :class:`ValueEncoder` encodes each distinct value once and hands out the same bytes.
Text is always an inline string, never a formula.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re
from collections.abc import Sequence
from typing import TypeVar, cast

CellValue = str | int | float | bool | dt.datetime | dt.date | None

MAX_TEXT = 32_767

_LOOKS_ESCAPED = re.compile(r"_(x[0-9A-Fa-f]{4}_)")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\r\ufffe\uffff]")
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")
# text needing more than UTF-8 encoding: markup characters, control characters, a possible ``_xHHHH_``
_SPECIAL = re.compile("[&<>_\x00-\x1f\ufffe\uffff]")
_CONTROL_BYTES = bytes(range(0x20))
_EPOCH_1900, _EPOCH_1904 = dt.datetime(1899, 12, 30), dt.datetime(1904, 1, 1)
_LEAP_BUG_END = dt.datetime(1900, 3, 1)
_BIG_INT = 10**15  # ints below this are written as they are, without :func:`number_text`'s checks
_CACHE_LIMIT = 1 << 16  # distinct numbers, dates and flags remembered per encoder
_SINGLES_LIMIT = 1 << 12  # distinct texts and whole numbers remembered: most are unique (outline numbers, IDs)


def excel_serial(value: dt.date, date1904: bool = False) -> float:
    """Excel's day number, including the 1900 leap-year quirk (serial 60 is 29 Feb 1900)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            raise ValueError(f"time zone aware datetimes are ambiguous in Excel: {value!r}")
        moment = value
    else:
        moment = dt.datetime(value.year, value.month, value.day)
    if date1904:
        delta = moment - _EPOCH_1904
    else:
        delta = moment - _EPOCH_1900
        if moment < _LEAP_BUG_END:
            delta -= dt.timedelta(days=1)
    serial = delta.days + (delta.seconds + delta.microseconds / 1e6) / 86400
    if serial < (0 if date1904 else 1):
        raise ValueError(f"Excel cannot hold dates this early: {value!r}")
    return serial


def number_text(value: float) -> str:
    if isinstance(value, int):
        if abs(value) >= 1e308:
            raise ValueError(f"number too large for Excel: {value!r}")
        return str(value)
    if not math.isfinite(value):
        raise ValueError(f"Excel cannot hold {value!r}")
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def _has_special(text: str) -> bool:
    """Whether ``_SPECIAL`` finds a character in ``text``. For ASCII text (nearly all of a plan's),
    byte searches in C answer three times faster than the regex, which decides the rest."""
    if text.isascii():
        raw = text.encode("ascii")
        return (len(raw.translate(None, _CONTROL_BYTES)) != len(raw)
                or b"&" in raw or b"<" in raw or b">" in raw or b"_" in raw)
    return _SPECIAL.search(text) is not None


def encode_text(text: str) -> bytes:
    """Cell text as SpreadsheetML wants it: ``_xHHHH_`` for characters XML cannot carry."""
    if len(text) > MAX_TEXT:
        raise ValueError(f"text longer than Excel's {MAX_TEXT} characters: {text[:40]!r}...")
    if _has_special(text):
        text = _NOT_XML.sub(lambda m: f"_x{ord(m.group()):04X}_", _LOOKS_ESCAPED.sub(r"_x005F_\1", text))
        text = html.escape(text, quote=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"text is not valid Unicode: {text[:40]!r}") from exc


def decode_text(text: str) -> str:
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text)


def value_xml(prefix: bytes, value: CellValue, date1904: bool) -> tuple[str | None, bytes]:
    """(``t`` attribute, child elements) for a value; text is always a string, never a formula.

    Raises TypeError or ValueError for anything a cell cannot hold (NaN, aware datetimes, ...).
    """
    p = prefix
    if value is None:
        return None, b""
    if isinstance(value, bool):
        return "b", b"<" + p + b"v>" + (b"1" if value else b"0") + b"</" + p + b"v>"
    if isinstance(value, str):
        space = b' xml:space="preserve"' if value != value.strip() or "\n" in value else b""
        t = b"<" + p + b"t" + space + b">" + encode_text(value) + b"</" + p + b"t>"
        return "inlineStr", b"<" + p + b"is>" + t + b"</" + p + b"is>"
    if isinstance(value, dt.date):
        text = number_text(excel_serial(value, date1904))
    elif isinstance(value, int | float):
        text = number_text(value)
    else:
        raise TypeError(f"unsupported cell value type {type(value).__name__}")
    return None, b"<" + p + b"v>" + text.encode() + b"</" + p + b"v>"


# (t, ``t`` attribute as written, child elements, and the rest of the cell after its ``s``:
# ``t`` attribute + ``>`` + children + ``</c>``, or ``/>``)
Encoded = tuple[str | None, bytes, bytes, bytes]


class ValueEncoder:
    """:func:`value_xml` for one sheet, remembering each distinct value's bytes.

    The cache key carries the type, since ``True == 1 == 1.0`` and a date equals no datetime. Texts
    and whole numbers have a small cache of their own, keyed by value (a text equals no number, and
    only exact ``int`` goes there, never ``bool``): a million unique outline numbers or task IDs
    would otherwise keep clearing the few tens of thousands of dates and day counts every row repeats.
    """

    def __init__(self, prefix: bytes, date1904: bool) -> None:
        self.prefix, self.date1904 = prefix, date1904
        self.cache: dict[tuple[type, CellValue], Encoded] = {}  # hot loops look here first
        self.singles: dict[str | int, Encoded] = {}  # texts and whole numbers, keyed by value alone
        self._rests: dict[type, dict[CellValue, bytes]] = {}  # per type, value -> rest of its cell
        self._close = b"</" + prefix + b"c>"
        p = prefix
        self._text_open = b' t="inlineStr"><' + p + b"is><" + p + b"t>"
        self._text_close = b"</" + p + b"t></" + p + b"is></" + p + b"c>"
        self._v_open, self._v_close = b"<" + p + b"v>", b"</" + p + b"v>"
        percent = p.replace(b"%", b"%%")  # the prefix inside %-templates
        self._int_rest = b"><" + percent + b"v>%d</" + percent + b"v></" + percent + b"c>"
        self._text_rest = self._text_open.replace(b"%", b"%%") + b"%b" + self._text_close.replace(b"%", b"%%")

    def _moment(self, value: dt.datetime) -> Encoded | None:
        """A naive datetime after February 1900 in the 1900 date system (nearly every date a plan
        holds): :func:`excel_serial` and :func:`number_text` without their checks and calls."""
        if value.tzinfo is not None or self.date1904 or value < _LEAP_BUG_END:
            return None
        delta = value - _EPOCH_1900
        serial = delta.days + (delta.seconds + delta.microseconds / 1e6) / 86400
        text = str(int(serial)) if serial.is_integer() and serial < 1e15 else repr(serial)
        body = self._v_open + text.encode() + self._v_close
        return None, b"", body, b">" + body + self._close

    def _plain_text(self, text: str) -> Encoded | None:
        """Text that is only printable characters and no markup, with no space to keep at its ends;
        None for any other text (:func:`value_xml` takes it)."""
        if len(text) > MAX_TEXT or _has_special(text) or not text or text[0] in " \u3000" \
                or text[-1] in " \u3000" or text != text.strip():
            return None
        try:
            raw = text.encode("utf-8")
        except UnicodeEncodeError:
            return None
        rest = self._text_open + raw + self._text_close
        return "inlineStr", b' t="inlineStr"', rest[15:-len(self._close)], rest

    def __call__(self, value: CellValue) -> Encoded:
        key = (value.__class__, value)
        cls = key[0]
        if cls is str or cls is int:
            return self.singles.get(value) or self._single(value)  # type: ignore[arg-type]
        found = self.cache.get(key)
        if found is None:
            found = (self._moment(value) if cls is dt.datetime else None) or self._general(value)  # type: ignore[arg-type]
            _keep(self.cache, _CACHE_LIMIT, key, found)
        return found

    def rests(self, values: Sequence[CellValue], kinds: set[type] | None = None) -> list[bytes]:
        """``self(v)[3]``, the rest of each value's cell, for a column of a block of rows in one pass
        (``kinds``: the types of its values but None, when known). Whole numbers and plain texts
        (task IDs, names, outline numbers: unique in a plan) are formatted without a call per value;
        a column of one other type (dates, flags, day counts) is looked up by value, in C."""
        if kinds is None:
            kinds = set(map(type, values)) - {type(None)}
        empty = self(None)[3]
        if not kinds:  # empty cells only (variances of a plan without a baseline)
            return [empty] * len(values)
        if len(kinds) != 1:
            return [self(v)[3] for v in values]
        kind = next(iter(kinds))
        if (kind is int or kind is str) and None in values:  # the values there, then the empty cells
            given = iter(self.rests([v for v in values if v is not None], kinds))
            return [empty if v is None else next(given) for v in values]
        if kind is int:
            ints = cast("Sequence[int]", values)
            if min(ints) > -_BIG_INT and max(ints) < _BIG_INT:
                return list(map(self._int_rest.__mod__, ints))
        elif kind is str and _all_plain(texts := cast("Sequence[str]", values)):
            try:
                return list(map(self._text_rest.__mod__, map(str.encode, texts)))
            except UnicodeEncodeError:
                pass
        table = self._rests.get(kind)
        if table is None or len(table) >= _CACHE_LIMIT:
            table = self._rests[kind] = {}
        found: list[bytes | None] = list(map(table.get, values))  # None is never a key
        if None in found:
            for i, value in enumerate(values):
                if found[i] is None:
                    found[i] = empty if value is None else table.setdefault(value, self(value)[3])
        return cast("list[bytes]", found)

    def _single(self, value: str | int) -> Encoded:
        found: Encoded | None
        if value.__class__ is str:
            found = self._plain_text(value)  # type: ignore[arg-type]
        elif -_BIG_INT < value < _BIG_INT:  # type: ignore[operator]
            body = self._v_open + str(value).encode() + self._v_close
            found = None, b"", body, b">" + body + self._close
        else:
            found = None
        return _keep(self.singles, _SINGLES_LIMIT, value, found or self._general(value))

    def _general(self, value: CellValue) -> Encoded:
        t, body = value_xml(self.prefix, value, self.date1904)
        t_attr = b' t="' + t.encode() + b'"' if t else b""
        return t, t_attr, body, t_attr + (b">" + body + self._close if body else b"/>")


def _all_plain(texts: Sequence[str]) -> bool:
    """Whether every text is one ``_plain_text`` takes as it is (no markup, no space at its ends).
    ``_SPECIAL`` looks for single characters, so one search over the texts joined does."""
    return (all(texts) and max(map(len, texts)) <= MAX_TEXT and not _has_special("".join(texts))
            and list(map(str.strip, texts)) == list(texts))


_K = TypeVar("_K")


def _keep(store: dict[_K, Encoded], limit: int, key: _K, found: Encoded) -> Encoded:
    """Remember ``found`` under ``key``; a full store starts again (its values would only churn)."""
    if len(store) >= limit:
        store.clear()
    store[key] = found
    return found


_ENCODERS: dict[tuple[bytes, bool], ValueEncoder] = {}


def encoder(prefix: bytes, date1904: bool) -> ValueEncoder:
    """The shared encoder for a namespace prefix and date system: a batch of plans repeats the same
    dates, flags and day counts, so what one workbook encoded serves the next."""
    found = _ENCODERS.get((prefix, date1904))
    if found is None:
        found = _ENCODERS[(prefix, date1904)] = ValueEncoder(prefix, date1904)
    return found
