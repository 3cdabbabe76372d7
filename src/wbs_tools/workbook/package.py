"""The zip (OPC) package of an xlsx/xlsm file: bounded reading, raw copying, part-level XML splicing.

This is the only module that knows the container. Parts nobody edits are copied as their original
compressed bytes (no inflate/deflate round trip), so VBA projects, pictures, charts and every other
part stay byte-identical and keep their compression; the central-directory order is kept. Reading
is bounded (file size, part count, total and per-part inflated size, compression ratio) because a
workbook is untrusted input. The few parts that do change are edited as bytes (helpers at the end),
never re-serialized through a tree (:mod:`xml_splice`), so their untouched bytes survive too.
"""

from __future__ import annotations

import functools
import io
import os
import posixpath
import struct
import zipfile
import zlib
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote
from xml.parsers import expat

from lxml import etree

from wbs_tools.core.frozen import copied_by_fields
from wbs_tools.workbook import deflate
from wbs_tools.workbook.errors import WorkbookError, WorkbookLockedError
from wbs_tools.workbook.xml_splice import (
    ATTRS,
    SplicedPart,
    escape_attr,
    get_attrs,
    retag,
    root_prefix,
    set_attrs,
    start_tag,
)

__all__ = [
    "ATTRS", "CHECK_ALL_XML", "FIXED_DATE_TIME", "FULL_CHECK_BYTES", "OLE2_SIGNATURE", "Deflated", "Limits",
    "Package", "Relationship", "SplicedPart", "WorkbookError", "WorkbookLockedError", "check_all_xml",
    "check_well_formed", "escape_attr", "get_attrs", "parse_xml", "read_relationships", "rels_part",
    "resolve_target", "retag", "root_prefix", "set_attrs", "start_tag", "verify_package",
]

OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)  # for parts that did not exist before: keeps output deterministic


@dataclass(frozen=True)
class Limits:
    """Bounds for untrusted packages; far above any real plan workbook, far below a zip bomb."""

    max_file_bytes: int = 256 * 1024 * 1024
    max_parts: int = 10_000
    # a Tasks sheet filled to Excel's 1,048,576 rows holds about 0.8 GB of XML
    max_total_bytes: int = 2048 * 1024 * 1024
    max_part_bytes: int = 1536 * 1024 * 1024
    max_ratio: float = 250.0  # inflated/compressed, checked for parts above ratio_floor_bytes
    ratio_floor_bytes: int = 1024 * 1024


#: the bounds when a caller gives none
DEFAULT_LIMITS = Limits()


def read_bounded(path: Path, limits: Limits | None = None) -> tuple[os.stat_result, bytes]:
    """A workbook's stat and bytes; the size is checked before anything is loaded."""
    lim = limits or DEFAULT_LIMITS
    try:
        stat = path.stat()
        if stat.st_size > lim.max_file_bytes:
            raise WorkbookError(f"{path.name}: larger than {lim.max_file_bytes} bytes")
        return stat, path.read_bytes()
    except OSError as exc:
        raise WorkbookError(f"{path}: cannot be read ({exc.strerror or exc})") from exc


_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
_CENTRAL_HEADER = struct.Struct("<4s4B4HL2L5H2L")
_END_RECORD = struct.Struct("<4s4H2LH")
_ZIP64_EXTRA = 0x0001


def _filtered_extra(extra: bytes) -> bytes:
    """Drop zip64 extra fields: the sizes they carry are rewritten in the plain headers."""
    out, pos = bytearray(), 0
    while pos + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, pos)
        if tag != _ZIP64_EXTRA:
            out += extra[pos : pos + 4 + size]
        pos += 4 + size
    return bytes(out)


def _dos_time(date_time: tuple[int, int, int, int, int, int]) -> tuple[int, int]:
    y, mo, d, h, mi, s = date_time
    return (h << 11) | (mi << 5) | (s // 2), ((max(y, 1980) - 1980) << 9) | (mo << 5) | d


class SpilledPieces:
    """Deflated bytes kept in a temporary file rather than in memory: a million-row sheet's hundred
    and more megabytes wait on disk between being patched and being written."""

    BLOCK = 1 << 20

    def __init__(self, file: BinaryIO, size: int) -> None:
        self.file, self.size = file, size

    def __len__(self) -> int:
        return self.size

    def blocks(self) -> Iterator[bytes]:
        self.file.seek(0)
        left = self.size
        while left > 0:
            block = self.file.read(min(self.BLOCK, left))
            if not block:
                raise WorkbookError("a temporary file of the refresh was cut short")
            left -= len(block)
            yield block

    def close(self) -> None:
        self.file.close()


@dataclass
class Deflated:
    """A new part already deflated as it was produced (a million-row worksheet): its raw deflate
    pieces (some maybe on disk), inflated size and CRC, and its first bytes as they are (a part's
    start is checked)."""

    pieces: list[bytes | SpilledPieces]
    size: int
    crc: int
    head: bytes

    def blocks(self) -> Iterator[bytes]:
        for piece in self.pieces:
            if isinstance(piece, SpilledPieces):
                yield from piece.blocks()
            else:
                yield piece

    def inflate(self, limit: int = -1) -> bytes:
        """The part (or its first ``limit`` bytes) inflated again: only for a caller that reads it."""
        unpack = deflate.decompressor()
        out: list[bytes] = []
        got = 0
        for piece in self.blocks():
            out.append(unpack.decompress(piece, max(limit - got, 1)) if limit >= 0 else unpack.decompress(piece))
            got += len(out[-1])
            if 0 <= limit <= got:
                break
        return b"".join(out)


@dataclass
class _Member:
    info: zipfile.ZipInfo
    raw: bytes | memoryview | None  # original compressed bytes (a view of the file); None once replaced
    data: bytes | None = None  # new uncompressed content
    chunks: list[bytes | memoryview] | None = None  # new content in pieces (large parts), instead of data
    deflated: Deflated | None = None  # new content deflated as it was produced, instead of data


class Package:
    """An opened workbook package: read parts, replace or add a few, serialize the rest untouched."""

    def __init__(self, data: bytes, limits: Limits | None = None) -> None:
        self.limits = limits or DEFAULT_LIMITS
        if data[:8] == OLE2_SIGNATURE:
            raise WorkbookError(
                "the file is an OLE2 compound file: a password-protected (encrypted) workbook or an "
                "old binary .xls; remove the password / save it as .xlsx or .xlsm first"
            )
        if len(data) > self.limits.max_file_bytes:
            raise WorkbookError(f"the file is larger than {self.limits.max_file_bytes} bytes")
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self._zip.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
            raise WorkbookError(f"not a valid xlsx/xlsm file (not a readable zip package: {exc})") from exc
        self._data = data
        self._view = memoryview(data)
        self.comment = self._zip.comment
        self._check_bounds(infos)
        self._members = {info.filename: _Member(info, self._raw_bytes(info)) for info in infos}
        self.original_names: tuple[str, ...] = tuple(self._members)
        self._total_read = 0
        self.touched: set[str] = set()

    def _check_bounds(self, infos: list[zipfile.ZipInfo]) -> None:
        lim = self.limits
        if len(infos) > lim.max_parts:
            raise WorkbookError(f"the package has {len(infos)} parts (limit {lim.max_parts})")
        seen: set[str] = set()
        total = 0
        for info in infos:
            key = info.filename.lower()
            if key in seen:
                raise WorkbookError(f"the package holds the part {info.filename!r} twice")
            seen.add(key)
            if info.flag_bits & 0x1:
                raise WorkbookError(f"the part {info.filename!r} is encrypted; remove the password first")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise WorkbookError(f"the part {info.filename!r} uses an unsupported compression")
            if info.file_size > lim.max_part_bytes:
                raise WorkbookError(f"the part {info.filename!r} inflates to {info.file_size} bytes")
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > lim.ratio_floor_bytes and ratio > lim.max_ratio:
                raise WorkbookError(
                    f"the part {info.filename!r} is compressed {ratio:.0f}:1 (limit {lim.max_ratio:.0f}:1)"
                    " - a zip bomb?"
                )
            total += info.file_size
        if total > lim.max_total_bytes:
            raise WorkbookError(f"the package inflates to {total} bytes (limit {lim.max_total_bytes})")

    def _raw_bytes(self, info: zipfile.ZipInfo) -> memoryview:
        """A part's compressed bytes, as a view of the file's (not a copy: a large plan's parts are
        hundreds of MB)."""
        start = info.header_offset
        header = self._data[start : start + _LOCAL_HEADER.size]
        if len(header) < _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
            raise WorkbookError(f"the package is damaged (bad local header for {info.filename!r})")
        fields = _LOCAL_HEADER.unpack(header)
        begin = start + _LOCAL_HEADER.size + fields[10] + fields[11]
        raw = self._view[begin : begin + info.compress_size]
        if len(raw) != info.compress_size:
            raise WorkbookError(f"the package is truncated (part {info.filename!r})")
        return raw

    def misnamed_part(self) -> str | None:
        """The first part whose local header names another part than the directory does (what
        zipfile's read refuses), or None. Only a written package's verification asks: a customer's
        file is read by its directory, as Excel reads it."""
        for name, member in self._members.items():
            start = member.info.header_offset
            fields = _LOCAL_HEADER.unpack_from(self._data, start)
            raw = self._data[start + _LOCAL_HEADER.size : start + _LOCAL_HEADER.size + fields[10]]
            try:
                local = raw.decode("utf-8" if fields[3] & 0x800 else "cp437")
            except UnicodeDecodeError:
                return name
            if local != member.info.orig_filename:
                return name
        return None

    def opened_over(self, data: bytes) -> bool:
        """Whether this package was opened over exactly these bytes (the same object)."""
        return self._data is data

    def start_pass(self) -> None:
        """A new pass over the parts (the writer after the reader, on one opened package): the
        inflation budget counts each pass on its own, as two packages opened apart would."""
        self._total_read = 0

    @property
    def names(self) -> list[str]:
        """Part names in package order (new parts last)."""
        return list(self._members)

    def __contains__(self, name: str) -> bool:
        return name in self._members

    def find(self, name: str) -> str | None:
        """The stored name of a part: OPC part names ignore case and may be percent-encoded."""
        if name in self._members:
            return name
        key = unquote(name).lower()
        return next((n for n in self._members if unquote(n).lower() == key), None)

    def read(self, name: str) -> bytes:
        """Inflate one part, bounded by the declared size and the total budget."""
        member = self._members.get(name)
        if member is None:
            raise WorkbookError(f"the package has no part {name!r}")
        if member.chunks is not None:
            member.data, member.chunks = b"".join(member.chunks), None
        if member.deflated is not None:
            member.data, member.deflated = member.deflated.inflate(), None
        if member.data is not None:
            return member.data
        info = member.info
        self._total_read += info.file_size
        if self._total_read > self.limits.max_total_bytes:
            raise WorkbookError("the package inflates beyond the configured limit")
        if info.compress_type == zipfile.ZIP_DEFLATED and member.raw is not None and not info.flag_bits & 0x1:
            if info.file_size >= INFLATE_IN_PLACE_FROM:
                return _inflate_in_place(member.raw, info, name)
            return _inflate(member.raw, info, name)
        try:
            with self._zip.open(info) as stream:
                data = stream.read(info.file_size + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise WorkbookError(f"the part {name!r} is damaged ({exc})") from exc
        if len(data) != info.file_size:
            raise WorkbookError(f"the part {name!r} does not match its declared size")
        return data

    def write(self, name: str, data: bytes | list[bytes] | list[bytes | memoryview]) -> None:
        """Replace a part's content (keeping its place and date) or append a new part; a large part
        may be given as a list of chunks, which the package then owns."""
        content, chunks = (data, None) if isinstance(data, bytes) else (None, list[bytes | memoryview](data))
        member = self._members.get(name)
        if member is None:
            info = zipfile.ZipInfo(name, FIXED_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0
            info.create_system = 0
            self._members[name] = _Member(info, None, content, chunks)
        else:
            member.raw, member.data, member.chunks, member.deflated = None, content, chunks, None
        self.touched.add(name)

    def write_deflated(self, name: str, part: Deflated) -> None:
        """Replace an existing part with content deflated as it was produced."""
        member = self._members[name]
        member.raw, member.data, member.chunks, member.deflated = None, None, None, part
        self.touched.add(name)

    def remove(self, name: str) -> None:
        """Drop a part (used only for the calculation chain, which Excel rebuilds)."""
        if self._members.pop(name, None) is not None:
            self.touched.add(name)

    def to_bytes(self) -> bytes:
        """Serialize: untouched parts as their original compressed bytes, edited parts deflated anew."""
        out = io.BytesIO()
        self.write_to(out)
        return out.getvalue()

    def write_to(self, sink: BinaryIO, *, release: bool = False) -> list[Stamp]:
        """Serialize into a stream (a file); returns each part's name, CRC-32 and size. ``release`` lets
        parts given as chunks go as they are written, after which the package cannot be written again."""
        from wbs_tools.workbook.package_out import write_members

        return write_members(self._members.items(), self.comment, sink, release=release)

    def copied(self) -> frozenset[str]:
        """Parts still held as the source's compressed bytes: serializing copies them unchanged."""
        return frozenset(name for name, member in self._members.items() if member.raw is not None)

    def size(self, name: str) -> int:
        """A part's inflated size, without inflating it."""
        member = self._members[name]
        if member.chunks is not None:
            return sum(map(len, member.chunks))
        if member.deflated is not None:
            return member.deflated.size
        return member.info.file_size if member.data is None else len(member.data)

    def head(self, name: str, length: int) -> bytes:
        """The first bytes of a part (a large edited part is not joined to read them)."""
        member = self._members[name]
        if member.chunks is not None:
            return bytes(b"".join(member.chunks[:4])[:length])
        if member.deflated is not None:
            head = member.deflated.head
            return head[:length] if len(head) >= length else member.deflated.inflate(length)[:length]
        return self.read(name)[:length]


#: a deflated part this large is inflated into one buffer of its size (see ``_inflate_in_place``)
INFLATE_IN_PLACE_FROM = 16 * 1024 * 1024
_FEED, _PIECE = 1 << 20, 16 << 20  # compressed bytes fed, inflated bytes taken, at a time


def _inflate(raw: bytes | memoryview, info: zipfile.ZipInfo, name: str) -> bytes:
    """Inflate a part, never past its declared size plus one byte, and check its CRC (what zipfile's
    read does, through :mod:`deflate`: ISA-L inflates about twice as fast as zlib)."""
    unpack = deflate.decompressor()
    try:
        data = unpack.decompress(raw, info.file_size + 1)
    except deflate.ERRORS as exc:
        raise WorkbookError(f"the part {name!r} is damaged ({exc})") from exc
    if len(data) != info.file_size or not unpack.eof:
        raise WorkbookError(f"the part {name!r} does not match its declared size")
    if deflate.crc32(data) != info.CRC:
        raise WorkbookError(f"the part {name!r} is damaged (its CRC does not match)")
    return data


def _inflate_in_place(raw: bytes | memoryview, info: zipfile.ZipInfo, name: str) -> bytes:
    """Inflate a large part into one buffer of its declared size, bounded like zipfile's read.

    zlib's bounded output (what zipfile uses) grows in blocks that it joins at the end: twice the part
    at the peak, 0.9 GB more for a re-refreshed million-row worksheet. Here the pieces go into a
    buffer of zero pages that are only committed as they are written, and which becomes the result
    without a copy. Never more than the declared size plus one byte is inflated."""
    size = info.file_size
    out = io.BytesIO(bytes(size))
    unpack = deflate.decompressor()
    got = 0
    try:
        for start in range(0, len(raw), _FEED):
            chunk: bytes | memoryview = raw[start : start + _FEED]
            while chunk and got <= size:
                piece = unpack.decompress(chunk, min(_PIECE, size + 1 - got))
                out.write(piece)
                got += len(piece)
                chunk = unpack.unconsumed_tail
            if got > size:
                break
        if got <= size:
            piece = unpack.flush()
            out.write(piece)
            got += len(piece)
    except deflate.ERRORS as exc:
        raise WorkbookError(f"the part {name!r} is damaged ({exc})") from exc
    if got != size or not unpack.eof:
        raise WorkbookError(f"the part {name!r} does not match its declared size")
    data = out.getvalue()
    del out
    if deflate.crc32(data) != info.CRC:
        raise WorkbookError(f"the part {name!r} is damaged (its CRC does not match)")
    return data


# --- OPC helpers: relationships, part names, safe XML --------------------------------------------

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True,
                          remove_blank_text=False)


def parse_xml(data: bytes, part: str) -> etree._Element:
    """Parse one part without entity expansion or network access; DTDs are refused outright."""
    try:
        tree = etree.parse(io.BytesIO(data), _PARSER)
    except etree.XMLSyntaxError as exc:
        raise WorkbookError(f"the part {part!r} is not well-formed XML ({exc})") from exc
    if tree.docinfo.doctype:
        raise WorkbookError(f"the part {part!r} declares a DTD, which workbooks never do")
    return tree.getroot()


#: a part as written: its name, CRC-32 and inflated size (what a zip reader's directory shows of it)
Stamp = tuple[str, int, int]


@dataclass(frozen=True)
class Relationship:
    id: str
    type: str
    target: str
    external: bool


def rels_part(part: str) -> str:
    """The relationships part of ``part`` (``xl/workbook.xml`` -> ``xl/_rels/workbook.xml.rels``)."""
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def resolve_target(source_part: str, target: str) -> str:
    """Turn a relationship target into a part name (targets are relative to the source's folder)."""
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(source_part), target))


def read_relationships(pkg: Package, source_part: str) -> list[Relationship]:
    """The relationships of a part ('' for the package root); empty when it has none."""
    name = pkg.find(rels_part(source_part) if source_part else "_rels/.rels")
    if name is None:
        return []
    return list(_relationships_in(pkg.read(name), name))


@functools.lru_cache(maxsize=64)
def _relationships_in(data: bytes, name: str) -> tuple[Relationship, ...]:
    """Parsed once per content: plans made from one template repeat their relationship parts."""
    return tuple(
        Relationship(el.get("Id", ""), el.get("Type", ""), el.get("Target", ""),
                     el.get("TargetMode") == "External")
        for el in parse_xml(data, name)
        if isinstance(el.tag, str) and etree.QName(el).localname == "Relationship"
    )


# Parts up to this size are fully re-read in the checks below. Larger ones are worksheets of huge
# plans: parsing or inflating them again would cost more than writing them, and their cells come from
# the same generators the full checks prove on every smaller part.
FULL_CHECK_BYTES = 16 * 1024 * 1024


#: with this set to ``1`` in the environment, a write parses every part it makes whole, the rows made
#: from wbs_tools's templates and encoded values included (see ``package_edit``); the tests run so
CHECK_ALL_XML = "WBS_TOOLS_CHECK_ALL_XML"


def check_all_xml() -> bool:
    return os.environ.get(CHECK_ALL_XML, "") == "1"


def check_well_formed(data: bytes, part: str, *, size: int | None = None) -> None:
    """Prove a part we wrote parses (expat: no tree is built); parts above FULL_CHECK_BYTES (``size``,
    when ``data`` is only the part's start) only need to start as XML."""
    parser = expat.ParserCreate()

    def refuse_dtd(*_args: object) -> None:
        raise WorkbookError(f"the part {part!r} declares a DTD")

    parser.StartDoctypeDeclHandler = refuse_dtd
    if (len(data) if size is None else size) > FULL_CHECK_BYTES:
        if not data.lstrip().startswith(b"<"):
            raise WorkbookError(f"the part {part!r} would not be XML")
        return
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise WorkbookError(f"the part {part!r} would not be well-formed XML ({exc})") from exc


#: no bound on what we wrote ourselves: its sizes were checked against the reader's limits before writing
_UNBOUNDED = Limits(max_file_bytes=1 << 62, max_parts=1 << 62, max_total_bytes=1 << 62, max_part_bytes=1 << 62,
                    max_ratio=float("inf"), ratio_floor_bytes=1 << 62)


def verify_package(data: bytes | Path, expected_names: Iterable[str], copied: Collection[str] = ()) -> None:
    """Re-open a written package: the parts as planned, each one's local header where the directory
    says (signature and name), and every part up to FULL_CHECK_BYTES inflating to its declared size and
    CRC. Bytes are checked in memory; a file (too large to load, see ``lossless``) is streamed through
    zipfile. Parts in ``copied`` are the source's compressed bytes written unchanged, already proven by
    the CRC of the whole file: only their local header is checked, inflating them would prove nothing new."""
    if isinstance(data, Path):
        _verify_streamed(data, list(expected_names), copied)
        return
    try:
        pkg = Package(data, _UNBOUNDED)
    except WorkbookError as exc:
        raise WorkbookError(f"verification failed: the written package is damaged ({exc})") from exc
    if pkg.names != list(expected_names):
        raise WorkbookError("verification failed: the written package has unexpected parts")
    if (misnamed := pkg.misnamed_part()) is not None:
        raise WorkbookError(f"verification failed: the local header of {misnamed!r} names another part")
    for name in pkg.names:
        if name not in copied and pkg.size(name) <= FULL_CHECK_BYTES:
            try:
                pkg.read(name)  # inflated to its declared size, its CRC checked
            except WorkbookError as exc:
                raise WorkbookError(f"verification failed: the written package is damaged ({exc})") from exc


def _verify_streamed(path: Path, expected_names: list[str], copied: Collection[str]) -> None:
    """``verify_package`` for a file too large to load: zipfile reads one part at a time."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if [i.filename for i in infos] != expected_names:
                raise WorkbookError("verification failed: the written package has unexpected parts")
            for info in infos:
                with zf.open(info) as stream:  # checks the local header and its name
                    if info.file_size <= FULL_CHECK_BYTES and info.filename not in copied:
                        while stream.read(1 << 20):  # the CRC is checked at the end of the stream
                            pass
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise WorkbookError(f"verification failed: the written package is damaged ({exc})") from exc


copied_by_fields(__name__)
