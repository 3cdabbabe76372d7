"""A large worksheet is deflated while it is patched: the same part, never held inflated.

The patched part's head (which holds the ``<dimension>`` box, known only at the end) is deflated last
and put first; raw deflate streams ending on a sync flush concatenate, and the CRC is the two combined.
Here every patched sheet takes that path (the size threshold set to 0) and the result is compared,
part by part after inflating, with the path that keeps the part in memory; zipfile checks each CRC.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import threading
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from support.libreoffice import libreoffice_missing, soffice
from wbs_tools.refresh import refresh_workbook
from wbs_tools.workbook import deflate, package_edit
from wbs_tools.workbook.cell_edits import StreamedEdits
from wbs_tools.workbook.cell_values import CellValue
from wbs_tools.workbook.lossless import write_workbook
from wbs_tools.workbook.package import Package
from wbs_tools.workbook.package_out import Deflater
from wbs_tools.workbook.sample import sample_plan, sample_registers
from wbs_tools.workbook.template import build_workbook

STATUS = dt.datetime(2026, 3, 6, 17)


@pytest.fixture(params=["isal", "zlib"])
def codec(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """ISA-L where its wheel exists, the standard library's zlib where it does not (Windows on ARM)."""
    if request.param == "zlib":
        monkeypatch.setattr(deflate, "codec", zlib)
    elif deflate.codec is zlib:
        pytest.skip("python-isal is not installed here")
    return str(request.param)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000), st.binary(max_size=3000))
def test_crc32_combine_equals_the_crc_of_the_joined_bytes(a: bytes, b: bytes) -> None:
    with pytest.MonkeyPatch.context() as patch:  # zlib's module has no crc32_combine: ours is used
        patch.setattr(deflate, "codec", zlib)
        assert deflate.crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)
    assert deflate.crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)


def test_crc32_combine_over_a_long_tail(codec: str) -> None:
    tail = bytes(range(256)) * 40_000  # 10 MB: the length's high bits matter
    assert deflate.crc32_combine(zlib.crc32(b"<x>"), zlib.crc32(tail), len(tail)) == zlib.crc32(b"<x>" + tail)


def test_a_refresh_through_either_codec_writes_the_same_parts(codec: str, tmp_path: Path) -> None:
    """Where python-isal is missing the refresh deflates with zlib: the same parts, read back by
    zipfile (which checks each CRC), and a part inflated by the package through that codec."""
    plan = tmp_path / "plan.xlsx"
    build_workbook(plan, plan=sample_plan(), registers=sample_registers())
    reference = tmp_path / "reference.xlsx"
    shutil.copyfile(plan, reference)
    result = refresh_workbook(plan, status_date=STATUS, backup=False)
    assert result.write is not None and result.write.changed
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(deflate, "codec", zlib if codec == "isal" else deflate._fastest())
        refresh_workbook(reference, status_date=STATUS, backup=False)
    ours, theirs = zipfile.ZipFile(plan), zipfile.ZipFile(reference)
    assert ours.namelist() == theirs.namelist()
    assert all(ours.read(name) == theirs.read(name) for name in ours.namelist())
    assert Package(plan.read_bytes()).read("xl/worksheets/sheet1.xml") == ours.read("xl/worksheets/sheet1.xml")


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=2000), st.lists(st.binary(max_size=5000), max_size=20), st.booleans())
def test_a_part_deflated_head_last_inflates_to_head_then_body(head: bytes, body: list[bytes],
                                                              background: bool) -> None:
    deflater = Deflater(background=background)
    for chunk in body:
        deflater.add(chunk)
    part = deflater.after(head)
    whole = head + b"".join(body)
    assert zlib.decompress(b"".join(part.pieces), -15) == whole
    assert (part.size, part.crc, part.head) == (len(whole), zlib.crc32(whole), head)
    assert part.inflate(7) == whole[:7]


def _deflate_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "wbs-deflate"]


def test_a_background_deflater_gives_the_part_of_the_plain_one() -> None:
    """The two deflate with different codecs (zlib in the thread, ISA-L in the foreground): the same
    part, size and CRC, each a raw deflate stream that zlib reads."""
    body = [bytes(range(256)) * (n % 97 + 1) + str(n).encode() for n in range(3000)]  # more than it queues
    plain, background = Deflater(), Deflater(background=True)
    for chunk in body:
        plain.add(chunk)
        background.add(memoryview(chunk))
    (plain_pieces, *plain_sums), (background_pieces, *background_sums) = plain.finish(), background.finish()
    assert plain_sums == background_sums == [sum(map(len, body)), zlib.crc32(b"".join(body))]
    assert zlib.decompress(b"".join(plain_pieces), -15) == zlib.decompress(b"".join(background_pieces), -15)
    assert zlib.decompress(b"".join(plain_pieces), -15) == b"".join(body)
    assert not _deflate_threads()


def test_a_failure_in_the_background_is_raised_to_the_producer() -> None:
    deflater = Deflater(background=True)
    deflater.add(b"fine")
    deflater.add("not bytes")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        deflater.finish()
    assert not _deflate_threads()


def test_a_patch_that_fails_midway_leaves_no_deflate_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The producer fails after some rows went to the background deflater: the error reaches the
    caller, the thread ends and the workbook is untouched."""
    path = tmp_path / "plan.xlsx"
    build_workbook(path, plan=sample_plan(), registers=sample_registers())
    before = path.read_bytes()
    monkeypatch.setattr(package_edit, "DEFLATE_WHILE_PATCHING_FROM", 0)

    def failing() -> Iterator[tuple[int, tuple[CellValue, ...]]]:
        for row in range(4, 40):
            if row == 24:
                raise RuntimeError("the producer failed")
            yield row, (f"value {row}",)

    edits = StreamedEdits(failing, (60,), 36)
    with pytest.raises(RuntimeError, match="the producer failed"):
        write_workbook(path, edits={"Tasks": edits}, backup=False)
    assert not _deflate_threads()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.xlsx"]


def test_a_spilled_part_is_written_from_its_file_and_leaves_nothing_behind(tmp_path: Path) -> None:
    body = [bytes([n % 7]) * 5000 + str(n).encode() for n in range(500)]
    with tempfile.TemporaryFile(dir=tmp_path) as spill:
        deflater = Deflater(background=True, spill=spill)
        for chunk in body:
            deflater.add(chunk)
        part = deflater.after(b"<head/>")
        whole = b"<head/>" + b"".join(body)
        assert len(part.pieces) == 3  # the head, the file, the final block: nothing else held
        assert zlib.decompress(b"".join(part.blocks()), -15) == whole
        assert part.inflate() == whole and part.inflate(20) == whole[:20]
        assert (part.size, part.crc) == (len(whole), zlib.crc32(whole))


def _refreshed(folder: Path, threshold: int, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder.mkdir()
    path = folder / "plan.xlsx"
    build_workbook(path, plan=sample_plan(), registers=sample_registers())
    monkeypatch.setattr(package_edit, "DEFLATE_WHILE_PATCHING_FROM", threshold)
    assert refresh_workbook(path, status_date=STATUS, backup=False).outcome.value == "refreshed"
    return path


def test_a_refresh_deflating_while_patching_writes_the_same_parts(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    kept = _refreshed(tmp_path / "kept", 1 << 40, monkeypatch)
    streamed = _refreshed(tmp_path / "streamed", 0, monkeypatch)
    with zipfile.ZipFile(kept) as a, zipfile.ZipFile(streamed) as b:
        assert a.namelist() == b.namelist()
        for name in a.namelist():  # read() checks each part's CRC
            assert a.read(name) == b.read(name), name
        tasks = next(n for n in b.namelist() if n.startswith("xl/worksheets/"))
        assert b.getinfo(tasks).flag_bits & 0x6 == 0x6  # flagged as the fastest deflate, like Excel's
    assert sorted(p.name for p in streamed.parent.iterdir()) == ["plan.xlsx"]  # no spill file left


@pytest.mark.libreoffice
@pytest.mark.skipif(libreoffice_missing() is not None, reason=libreoffice_missing() or "")
def test_libreoffice_reads_a_sheet_deflated_while_patched_as_the_other(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    kept = _refreshed(tmp_path / "kept", 1 << 40, monkeypatch)
    streamed = _refreshed(tmp_path / "streamed", 0, monkeypatch)
    texts = []
    for path in (kept, streamed):
        out = path.parent / "csv"
        done = soffice(["--convert-to", "csv", "--outdir", str(out), str(path)], tmp_path / "lo", timeout=240)
        assert done.returncode == 0, done.stderr
        texts.append((out / "plan.csv").read_text(errors="replace"))  # the first sheet: Tasks
    assert texts[0] == texts[1]
    assert "Kick-off meeting" in texts[1] and len(texts[1].splitlines()) > 10


def test_a_sheet_patched_where_no_temporary_file_can_be_made_keeps_its_bytes_in_memory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keeping the deflated part on disk saves memory; a folder that takes no temporary file only
    costs that saving, not the refresh."""
    from wbs_tools.workbook import sheet_patch

    def refused(*args: object, **kwargs: object) -> None:
        raise PermissionError("no temporary files here")

    monkeypatch.setattr(sheet_patch.tempfile, "TemporaryFile", refused)
    kept = _refreshed(tmp_path / "kept", 1 << 40, monkeypatch)
    streamed = _refreshed(tmp_path / "streamed", 0, monkeypatch)
    with zipfile.ZipFile(kept) as a, zipfile.ZipFile(streamed) as b:
        assert [a.read(n) for n in a.namelist()] == [b.read(n) for n in b.namelist()]
