"""A part is inflated bounded as zipfile's read is; a large one into one buffer of its
declared size.

Every test runs with ISA-L and with zlib, each with the in-place threshold at 0, so that small parts
take that path, and with it out of reach (the whole-part path). Lying sizes, a wrong CRC, a damaged
stream and a zip bomb (a part that inflates far beyond its declared size) are refused with a message.
"""

from __future__ import annotations

import io
import tracemalloc
import zipfile
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wbs_tools.workbook import deflate, package
from wbs_tools.workbook.package import Package, WorkbookError

PART = "xl/worksheets/sheet1.xml"


def _zip(content: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", b"<Types/>")
        z.writestr(PART, content)
    return out.getvalue()


@pytest.fixture(autouse=True, params=["isal", "zlib"])
def _codec(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """ISA-L where its wheel exists, the standard library's zlib where it does not."""
    if request.param == "zlib":
        monkeypatch.setattr(deflate, "codec", zlib)
    elif deflate.codec is zlib:
        pytest.skip("python-isal is not installed here")


@pytest.fixture(autouse=True, params=["in place", "whole"])
def _inflate_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.param == "whole":
        monkeypatch.setattr(package, "INFLATE_IN_PLACE_FROM", 1 << 62)
        return
    monkeypatch.setattr(package, "INFLATE_IN_PLACE_FROM", 0)
    monkeypatch.setattr(package, "_FEED", 1000)  # many small feeds and pieces: every loop turns
    monkeypatch.setattr(package, "_PIECE", 3000)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=50_000) | st.text(max_size=20_000).map(lambda t: (t * 5).encode()))
def test_a_part_reads_as_zipfile_reads_it(content: bytes) -> None:
    data = _zip(content)
    assert Package(data).read(PART) == zipfile.ZipFile(io.BytesIO(data)).read(PART) == content


@pytest.mark.parametrize(("field", "change", "message"), [
    ("file_size", -5, "does not match its declared size"),
    ("file_size", +5, "does not match its declared size"),
    ("CRC", 1, "its CRC does not match"),
])
def test_a_part_that_lies_about_itself_is_refused(field: str, change: int, message: str) -> None:
    pkg = Package(_zip(b"<row/>" * 20_000))
    info = pkg._members[PART].info
    setattr(info, field, getattr(info, field) + change if field == "file_size" else getattr(info, field) ^ change)
    with pytest.raises(WorkbookError, match=message):
        pkg.read(PART)


def test_a_part_declared_smaller_than_it_inflates_is_cut_there() -> None:
    pkg = Package(_zip(b"".join(b"<row r=\"%d\"/>" % i for i in range(2_500_000))))  # 40 MB
    pkg._members[PART].info.file_size = 10_000  # declared small (a bomb's trick): inflating stops past it
    tracemalloc.start()
    try:
        with pytest.raises(WorkbookError, match="declared size"):
            pkg.read(PART)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    packed = pkg._members[PART].info.compress_size  # the unread input may be copied once
    assert packed < 8_000_000 and peak < packed + 2_000_000  # never the 40 MB


def test_a_damaged_stream_is_refused() -> None:
    data = bytearray(_zip(b"<row/>" * 20_000))
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo(PART)
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + 10 : start + 40] = b"\xff" * 30
    with pytest.raises(WorkbookError, match=r"damaged|declared size"):
        Package(bytes(data)).read(PART)


def test_the_inflated_part_is_exactly_its_bytes_and_crc() -> None:
    content = b"".join(b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (i, i, i) for i in range(5_000))
    out = Package(_zip(content)).read(PART)
    assert out == content and type(out) is bytes and zlib.crc32(out) == zlib.crc32(content)
