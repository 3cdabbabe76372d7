"""Write values into an Excel workbook without disturbing anything wbs_tools does not own.

A refresh changes only the cells the caller lists and the sheets wbs_tools owns. Every other part of
the package - VBA, buttons and their macros, charts, pictures, comments, validations, conditional
formats, tables, names, ribbons, pivots, cached formula results - is copied byte for byte, because a
load-and-save through a spreadsheet library silently drops whatever that library does not model.

The file is replaced atomically: the new package is checked in memory (every part it writes is
well-formed XML: see :func:`package_edit.edit_package` for what is parsed), written to a temporary
file in the same folder, re-read and verified, the previous file is copied to ``NAME.bak``, and
only then ``os.replace`` swaps it in. A workbook open in Excel or LibreOffice is refused.

>>> report = write_workbook("plan.xlsx", edits={"Tasks": {"H12": date(2025, 3, 3)}})  # doctest: +SKIP
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

from wbs_tools.files import new_file_mode, sync_folder, sync_while
from wbs_tools.workbook import package
from wbs_tools.workbook.cell_edits import CellEdits
from wbs_tools.workbook.owned_sheet import OwnedSheet
from wbs_tools.workbook.package import (
    Limits,
    Package,
    Stamp,
    WorkbookError,
    WorkbookLockedError,
    read_bounded,
    verify_package,
)
from wbs_tools.workbook.package_edit import (
    Edits,
    SkippedCell,
    WriteReport,
    edit_package,
    render_workbook,
)
from wbs_tools.workbook.sheet_xml import CellValue

__all__ = [
    "CellEdits",
    "CellValue",
    "Limits",
    "OwnedSheet",
    "SkippedCell",
    "WorkbookError",
    "WorkbookLockedError",
    "WriteReport",
    "render_workbook",
    "write_workbook",
]

# --- the file on disk: locks and atomic replacement (bounded reading: package.read_bounded) -------------


def lock_files(path: Path) -> list[Path]:
    """Owner files Excel (``~$NAME``) and LibreOffice (``.~lock.NAME#``) keep while a file is open."""
    name = path.name
    return [path.with_name(c) for c in (f"~${name}", f".~lock.{name}#") if path.with_name(c).exists()]


def check_not_locked(path: Path) -> None:
    """Refuse to touch a workbook someone has open: their next save would silently undo ours."""
    found = lock_files(path)
    if found:
        raise WorkbookLockedError(
            f"{path.name} is open in Excel or LibreOffice (lock file {found[0].name}); close it and retry"
        )


@dataclass(frozen=True)
class Written:
    """What a package streamed to a file should read back as: its length, CRC and parts (``copied``: those
    that are the source's compressed bytes unchanged)."""

    size: int
    crc: int
    names: tuple[str, ...]
    copied: frozenset[str] = frozenset()


class _Tally:
    """A file handle that counts and checksums what is written through it."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle, self.size, self.crc = handle, 0, 0

    def write(self, data: bytes | memoryview) -> int:
        self.handle.write(data)
        self.size += len(data)
        self.crc = zlib.crc32(data, self.crc)
        return len(data)


# writes a package to the stream it is given and returns the part names it wrote, and those among them
# copied as the source's compressed bytes
Serializer = Callable[[BinaryIO], tuple[Sequence[str], frozenset[str]]]


#: a written file up to this size is verified from memory (one read, no zip objects per part); a larger
#: one (a plan of hundreds of thousands of rows) is streamed through zipfile, never loaded whole
VERIFY_IN_MEMORY_BYTES = 64 * 1024 * 1024


def _verify_written(temp: Path, expected: bytes | Written) -> None:
    """Re-open what reached the disk: the same bytes, and a zip whose every part inflates."""
    if isinstance(expected, Written):
        found: bytes | Path = temp
        if expected.size <= VERIFY_IN_MEMORY_BYTES:  # read once, for its CRC and its parts
            found = temp.read_bytes()
            size, crc = len(found), zlib.crc32(found)
        else:
            size, crc = 0, 0
            with temp.open("rb") as handle:
                while block := handle.read(1 << 22):
                    size, crc = size + len(block), zlib.crc32(block, crc)
        if (size, crc) != (expected.size, expected.crc):
            raise WorkbookError("verification failed: the temporary file differs from what was written")
        verify_package(found, expected.names, expected.copied)
        return
    written = temp.read_bytes()
    if written != expected:
        raise WorkbookError("verification failed: the temporary file differs from what was written")
    with zipfile.ZipFile(io.BytesIO(written)) as zf:
        names = zf.namelist()
    verify_package(written, names)


def backup_path(path: Path) -> Path:
    return path.with_name(path.name + ".bak")


def write_atomically(data: bytes | Serializer, target: Path, *, backup: bool,
                     expected_stat: os.stat_result | None = None) -> Path | None:
    """Write ``data`` (bytes, or a function streaming a package into the file) to ``target`` through a
    checked temporary file; returns the backup path, if any.

    ``expected_stat`` is the source's stat when it was read: if the file changed meanwhile (someone
    saved it), nothing is written rather than overwriting their work.
    """
    if target.is_symlink():
        target = target.resolve()  # replace the file the link points to, not the link
    check_not_locked(target)
    folder = target.parent
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    temp = Path(temp_name)
    try:
        expected: bytes | Written
        with os.fdopen(fd, "wb") as handle:
            if isinstance(data, bytes):
                handle.write(data)
                expected = data
            else:
                tally = _Tally(handle)
                names, copied = data(tally)  # type: ignore[arg-type]
                expected = Written(tally.size, tally.crc, tuple(names), copied)
            handle.flush()
            sync_while(handle.fileno(), lambda: _verify_written(temp, expected))  # flushed while verified
        saved: Path | None = None
        if target.exists():
            current = target.stat()
            if expected_stat is not None and (current.st_mtime_ns, current.st_size) != (
                expected_stat.st_mtime_ns, expected_stat.st_size,
            ):
                raise WorkbookError(f"{target.name} changed on disk while it was being updated; retry")
            shutil.copymode(target, temp)
            if backup:  # the previous version, itself replaced atomically so a kill never truncates it
                saved = backup_path(target)
                partial = saved.with_name(saved.name + ".partial")
                shutil.copy2(target, partial)
                os.replace(partial, saved)
        else:
            os.chmod(temp, new_file_mode())  # a temporary file is private; the workbook is not
        check_not_locked(target)
        os.replace(temp, target)
        sync_folder(folder)
    except OSError as exc:
        raise WorkbookError(f"{target}: cannot be written ({exc.strerror or exc})") from exc
    finally:
        if temp.exists():
            temp.unlink()
    return saved


def _check_readable(pkg: Package, limits: package.Limits) -> None:
    """Refuse to write a workbook the reader would refuse to open again (its size limits)."""
    sizes = {name: pkg.size(name) for name in pkg.names}
    biggest = max(sizes, key=lambda n: sizes[n], default=None)
    total = sum(sizes.values())
    if (biggest is not None and sizes[biggest] > limits.max_part_bytes) or total > limits.max_total_bytes:
        raise WorkbookError(f"the refreshed workbook would hold {total:,} bytes (part {biggest!r}: "
                            f"{sizes[biggest or '']:,}), beyond what wbs_tools reads back; nothing was written")


def write_workbook(
    path: str | os.PathLike[str],
    *,
    edits: Edits | None = None,
    owned_sheets: Mapping[str, OwnedSheet] | None = None,
    target: str | os.PathLike[str] | None = None,
    backup: bool = True,
    style_from_row: Mapping[str, int] | None = None,
    overwrite_formulas: bool = False,
    full_calc_on_load: bool = False,
    replace_unmarked_sheets: bool = False,
    limits: Limits | None = None,
    release: bool = False,
    as_read: tuple[os.stat_result, bytes] | None = None,
    opened: Package | None = None,
) -> WriteReport:
    """Set cell values and owned sheets in the workbook at ``path`` (or save the result to ``target``).

    - ``edits``: ``{"Tasks": {"H12": value}}``; ``None`` clears a value but keeps the cell's style.
      Text is stored as text even when it starts with ``=``; no formula is ever written.
    - Formula cells are the user's: they are skipped (see ``report.skipped``) unless
      ``overwrite_formulas``, which also drops ``calcChain.xml`` so Excel rebuilds it.
    - A cell that does not exist yet takes the style of ``style_from_row[sheet]``'s cell in its
      column; else its row's or column's style (what the empty cell shows now); else the nearest
      cell above. Header and totals cells of tables are never written (the table part names them).
    - ``owned_sheets``: sheets whose rows wbs_tools rewrites on every write (see :class:`OwnedSheet`);
      an existing sheet of that name is only refilled if wbs_tools created it (or
      ``replace_unmarked_sheets``, which adopts it).
    - ``full_calc_on_load`` asks Excel to recalculate on open; off by default so cached results stay.

    Raises :class:`WorkbookLockedError` if the file is open, :class:`WorkbookError` if it is
    damaged, encrypted or not a workbook; in every failure the file on disk is unchanged. When no
    value actually changes, nothing is written at all. ``release``: ``edits`` and ``owned_sheets`` are
    dicts the write may empty as it goes (see :func:`edit_package`). ``as_read``: the file's stat and
    bytes (``read_bounded``) as read when the edits were computed: they are applied to that content,
    and a file saved by someone since is left alone (the write fails and says so). ``opened``: those
    bytes opened already by the reader (see :func:`edit_package`).

    The new package is streamed into the temporary file, not built in memory first; the file is then
    re-read: its length and CRC, its parts, and every part written anew up to ``FULL_CHECK_BYTES`` inflating
    to its CRC (a part copied as the source's compressed bytes is proven by the length and CRC of the file).
    """
    source = Path(path)
    destination = Path(target) if target is not None else source
    check_not_locked(source)
    check_not_locked(destination)
    stat, data = as_read if as_read is not None else read_bounded(source, limits)
    pkg, report = edit_package(
        data, edits=edits, owned_sheets=owned_sheets, style_from_row=style_from_row,
        overwrite_formulas=overwrite_formulas, full_calc_on_load=full_calc_on_load,
        replace_unmarked_sheets=replace_unmarked_sheets, limits=limits, release=release,
        spill_dir=destination.resolve().parent,  # beside the temporary file the result goes to
        opened=opened,
    )
    if not report.changed and destination == source:
        return replace(report, path=destination)
    stamps: list[Stamp] = []

    def stream(sink: BinaryIO) -> tuple[Sequence[str], frozenset[str]]:
        copied = pkg.copied()
        stamps[:] = pkg.write_to(sink, release=True)
        return pkg.names, copied

    payload: bytes | Serializer = data
    if report.changed:
        _check_readable(pkg, limits or package.DEFAULT_LIMITS)
        payload = stream
    del data
    saved = write_atomically(payload, destination, backup=backup,
                             expected_stat=stat if destination == source else None)
    return replace(report, path=destination, backup=saved, parts=tuple(stamps))
