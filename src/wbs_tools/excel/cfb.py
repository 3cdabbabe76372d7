"""Minimal MS-CFB (compound file binary) writer: version 3, 512-byte sectors, deterministic.

A ``vbaProject.bin`` is a compound file. This writer covers what a VBA project needs: nested
storages, streams of any size (streams under 4096 bytes live in the mini stream), one FAT of at
most 109 sectors (about 6.8 MB, no DIFAT sectors). Timestamps and CLSIDs are zero and the layout
depends only on the input, so the same streams always give the same bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass, field

SECTOR_SIZE = 512
MINI_SECTOR_SIZE = 64
MINI_STREAM_CUTOFF = 4096
_FAT_IN_HEADER = 109
_ENTRY_SIZE = 128
_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")

FREESECT = 0xFFFFFFFF
ENDOFCHAIN = 0xFFFFFFFE
FATSECT = 0xFFFFFFFD
NOSTREAM = 0xFFFFFFFF

_STORAGE, _STREAM, _ROOT = 1, 2, 5
_RED, _BLACK = 0, 1
_FORBIDDEN_NAME_CHARS = frozenset("/\\:!")


@dataclass
class _Entry:
    name: str
    kind: int
    data: bytes = b""
    children: dict[str, _Entry] = field(default_factory=dict)
    index: int = 0
    left: int = NOSTREAM
    right: int = NOSTREAM
    child: int = NOSTREAM
    color: int = _BLACK
    start: int = ENDOFCHAIN


def _sort_key(name: str) -> tuple[int, str]:
    """MS-CFB 2.6.4 order: shorter names first, then by upper-cased UTF-16 code units."""
    return len(name.encode("utf-16-le")), name.upper()


def _check_name(name: str) -> None:
    if not name or len(name.encode("utf-16-le")) > 62 or _FORBIDDEN_NAME_CHARS & set(name):
        raise ValueError(f"invalid compound file entry name {name!r}: 1-31 characters, none of / \\ : !")


def _tree(entries: list[_Entry], depth: int, red_depth: int) -> int:
    """Link sorted siblings into a balanced binary search tree and return its root's index.

    Middle splits leave every null link at depth ``red_depth`` or ``red_depth + 1``; colouring the
    nodes below ``red_depth`` red gives every path the same black count, a valid red-black tree.
    """
    if not entries:
        return NOSTREAM
    middle = len(entries) // 2
    node = entries[middle]
    node.color = _RED if depth >= red_depth else _BLACK
    node.left = _tree(entries[:middle], depth + 1, red_depth)
    node.right = _tree(entries[middle + 1 :], depth + 1, red_depth)
    return node.index


def _number(entry: _Entry, ordered: list[_Entry]) -> None:
    """Assign directory indices breadth-first by name order, so indices are reproducible."""
    pending = [entry]
    while pending:
        current = pending.pop(0)
        current.index = len(ordered)
        ordered.append(current)
        pending.extend(sorted(current.children.values(), key=lambda e: _sort_key(e.name)))


def _link(entry: _Entry) -> None:
    siblings = sorted(entry.children.values(), key=lambda e: _sort_key(e.name))
    entry.child = _tree(siblings, 0, (len(siblings) + 1).bit_length() - 1)
    for child in siblings:
        _link(child)


def _directory_entry(entry: _Entry | None, size: int = 0) -> bytes:
    if entry is None:
        return b"\0" * 64 + struct.pack("<HBB3I", 0, 0, 0, NOSTREAM, NOSTREAM, NOSTREAM) + b"\0" * 48
    name = entry.name.encode("utf-16-le") + b"\0\0"
    start = 0 if entry.kind == _STORAGE else entry.start
    return (
        name.ljust(64, b"\0")
        + struct.pack("<HBB3I", len(name), entry.kind, entry.color, entry.left, entry.right, entry.child)
        + b"\0" * 16  # CLSID
        + struct.pack("<I", 0)  # state bits
        + b"\0" * 16  # creation and modification times
        + struct.pack("<IQ", start, size)
    )


def _chain(fat: list[int], first: int, count: int) -> int:
    """Record a contiguous chain of ``count`` sectors in ``fat``; return its start or ENDOFCHAIN."""
    for sector in range(first, first + count):
        fat[sector] = sector + 1 if sector + 1 < first + count else ENDOFCHAIN
    return first if count else ENDOFCHAIN


def _sectors(size: int, unit: int = SECTOR_SIZE) -> int:
    return -(-size // unit)


def build_compound_file(streams: Mapping[str, bytes]) -> bytes:
    """Write a compound file holding ``streams``, keyed by '/'-separated paths like ``VBA/dir``.

    Storages are created for the folders in the paths. Raises ValueError for names the format
    cannot hold and for files too large for a header-only FAT.
    """
    root = _Entry("Root Entry", _ROOT)
    for path, data in streams.items():
        parent = root
        *folders, leaf = path.split("/")
        for folder in folders:
            _check_name(folder)
            parent = parent.children.setdefault(folder, _Entry(folder, _STORAGE))
            if parent.kind != _STORAGE:
                raise ValueError(f"{path!r}: {folder!r} is a stream, not a storage")
        _check_name(leaf)
        if leaf in parent.children:
            raise ValueError(f"duplicate compound file entry {path!r}")
        parent.children[leaf] = _Entry(leaf, _STREAM, bytes(data))
    ordered: list[_Entry] = []
    _number(root, ordered)
    _link(root)
    stream_entries = [e for e in ordered if e.kind == _STREAM]
    small = [e for e in stream_entries if len(e.data) < MINI_STREAM_CUTOFF]
    large = [e for e in stream_entries if len(e.data) >= MINI_STREAM_CUTOFF]

    mini_fat: list[int] = []
    mini_stream = bytearray()
    for entry in small:
        count = _sectors(len(entry.data), MINI_SECTOR_SIZE)
        mini_fat.extend([FREESECT] * count)
        entry.start = _chain(mini_fat, len(mini_fat) - count, count)
        mini_stream += entry.data.ljust(count * MINI_SECTOR_SIZE, b"\0")

    n_dir = _sectors(len(ordered) * _ENTRY_SIZE)
    n_mini_fat = _sectors(len(mini_fat) * 4)
    n_mini_stream = _sectors(len(mini_stream))
    n_content = n_dir + n_mini_fat + n_mini_stream + sum(_sectors(len(e.data)) for e in large)
    n_fat = 1
    while n_fat * SECTOR_SIZE // 4 < n_fat + n_content:
        n_fat += 1
    if n_fat > _FAT_IN_HEADER:
        raise ValueError("compound file too large for a writer without DIFAT sectors")

    fat = [FREESECT] * (n_fat * SECTOR_SIZE // 4)
    fat[:n_fat] = [FATSECT] * n_fat
    first_dir = _chain(fat, n_fat, n_dir)
    first_mini_fat = _chain(fat, n_fat + n_dir, n_mini_fat)
    root.start = _chain(fat, n_fat + n_dir + n_mini_fat, n_mini_stream)
    body = bytearray()
    next_sector = n_fat + n_dir + n_mini_fat + n_mini_stream
    for entry in large:
        count = _sectors(len(entry.data))
        entry.start = _chain(fat, next_sector, count)
        body += entry.data.ljust(count * SECTOR_SIZE, b"\0")
        next_sector += count

    free_entries = n_dir * SECTOR_SIZE // _ENTRY_SIZE - len(ordered)
    directory = b"".join(_directory_entry(e, len(mini_stream) if e is root else len(e.data)) for e in ordered)
    directory += _directory_entry(None) * free_entries
    difat = list(range(n_fat)) + [FREESECT] * (_FAT_IN_HEADER - n_fat)
    header = (
        _SIGNATURE
        + b"\0" * 16
        + struct.pack("<HHHHH", 0x003E, 0x0003, 0xFFFE, 9, 6)
        + b"\0" * 6
        + struct.pack("<9I", 0, n_fat, first_dir, 0, MINI_STREAM_CUTOFF, first_mini_fat, n_mini_fat, ENDOFCHAIN, 0)
        + struct.pack(f"<{_FAT_IN_HEADER}I", *difat)
    )
    mini_fat_bytes = struct.pack(f"<{len(mini_fat)}I", *mini_fat)
    mini_fat_bytes += struct.pack("<I", FREESECT) * ((n_mini_fat * SECTOR_SIZE - len(mini_fat_bytes)) // 4)
    return b"".join(
        [
            header,
            struct.pack(f"<{len(fat)}I", *fat),
            directory,
            mini_fat_bytes,
            bytes(mini_stream).ljust(n_mini_stream * SECTOR_SIZE, b"\0"),
            bytes(body),
        ]
    )
