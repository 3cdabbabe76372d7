"""A written package is verified before it replaces a workbook: its parts as planned, each local
header where the directory says and naming the same part, every part written anew inflating to its
size and CRC. Bytes are verified in memory, a file streamed through zipfile; both refuse the same
damage, and both accept an intact file.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from wbs_tools.workbook.package import WorkbookError, verify_package

PART = "xl/worksheets/sheet1.xml"
ROWS = b"".join(b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (i, i, i * 7) for i in range(1, 400))


def _package() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", b"<Types/>")
        z.writestr(PART, b"<worksheet><sheetData>" + ROWS + b"</sheetData></worksheet>")
        z.writestr("xl/workbook.xml", b"<workbook/>")
    return out.getvalue()


def _names(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return z.namelist()


def _header(data: bytes, name: str) -> tuple[int, int]:
    """Where the part's local header starts, and where its compressed bytes start."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = z.getinfo(name)
    start = info.header_offset
    name_length, extra_length = struct.unpack_from("<2H", data, start + 26)
    return start, start + 30 + name_length + extra_length


def _flip_stream_byte(data: bytes) -> bytes:
    _, begin = _header(data, PART)
    out = bytearray(data)
    out[begin + 40] ^= 0x55
    return bytes(out)


def _rename_local_header(data: bytes) -> bytes:
    start, _ = _header(data, PART)
    out = bytearray(data)
    at = start + 30 + len("xl/worksheets/sheet")
    out[at] = ord("9")  # sheet1.xml -> sheet9.xml, same length: only the name check can see it
    return bytes(out)


def _break_signature(data: bytes) -> bytes:
    start, _ = _header(data, PART)
    return data[:start] + b"PK\x00\x00" + data[start + 4 :]


@pytest.fixture(params=["memory", "streamed"])
def verify(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[bytes, list[str], frozenset[str]], None]:
    """``verify_package`` on a written file: its bytes checked in memory, or the file streamed through zipfile."""
    def run(data: bytes, names: list[str], copied: frozenset[str] = frozenset()) -> None:
        path = tmp_path / "written.xlsx"
        path.write_bytes(data)
        verify_package(path if request.param == "streamed" else path.read_bytes(), names, copied)

    return run


def test_an_intact_package_passes(verify: Callable[..., None]) -> None:
    data = _package()
    verify(data, _names(data))
    verify_package(data, _names(data))  # and given as bytes


@pytest.mark.parametrize("damage, expected", [
    (_flip_stream_byte, "damaged"),
    (_rename_local_header, ""),
    (_break_signature, "damaged"),
    (lambda data: data[: len(data) - 30], "damaged"),
], ids=["stream-byte", "local-name", "signature", "truncated"])
def test_damage_is_refused(verify: Callable[..., None], damage: Callable[[bytes], bytes], expected: str) -> None:
    data = _package()
    with pytest.raises(WorkbookError, match="verification failed") as refused:
        verify(damage(data), _names(data))
    assert expected in str(refused.value)


def test_unexpected_parts_are_refused(verify: Callable[..., None]) -> None:
    data = _package()
    with pytest.raises(WorkbookError, match="unexpected parts"):
        verify(data, list(reversed(_names(data))))


def test_a_copied_part_is_not_inflated_again(verify: Callable[..., None]) -> None:
    """A part copied as the source's compressed bytes is proven by the whole file's CRC instead."""
    damaged = _flip_stream_byte(_package())
    verify(damaged, _names(damaged), frozenset({PART}))
    with pytest.raises(WorkbookError, match="verification failed"):
        verify(damaged, _names(damaged), frozenset())
