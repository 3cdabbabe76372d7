"""Serializing a :class:`~wbs_tools.workbook.package.Package` into a zip, part after part, to any stream.

Untouched parts are copied as their original compressed bytes; edited parts are deflated anew. A
large edited part may be held as a list of chunks rather than one ``bytes``: it is deflated chunk by
chunk, each chunk let go once compressed, so the inflated part and its compressed form never both
exist whole. A million-row worksheet comes already deflated as it was patched (:class:`Deflater`).
Sizes and CRC go into the local header (no data descriptor), so a part's compressed bytes are
complete before its header is written.

Deflate and CRC-32 come from :mod:`deflate` (ISA-L where installed). A part deflated in a background
thread keeps zlib, which lets go of the interpreter while it works (ISA-L's binding holds it), so it
runs on the second core. Verification re-reads the written file with the standard library's
``zipfile`` and zlib, so the proof does not rest on the code that wrote it.
"""

from __future__ import annotations

import queue
import threading
import zipfile
import zlib
from collections.abc import Iterable
from typing import BinaryIO, ClassVar, Protocol

from wbs_tools.workbook import deflate
from wbs_tools.workbook import package as pk

Chunk = bytes | memoryview


class Sink(Protocol):
    def write(self, data: Chunk, /) -> int: ...


class _Counter:
    """A sink that tracks how many bytes went through it (the offsets the central directory needs).

    Writes below a block are gathered and handed on a block at a time: a package is mostly headers
    and small parts, and the sink (a checksumming file) costs a call each."""

    BLOCK: ClassVar[int] = 1 << 20

    def __init__(self, sink: Sink) -> None:
        self.sink, self.offset = sink, 0
        self._held: list[Chunk] = []
        self._held_size = 0

    def write(self, data: Chunk) -> None:
        size = len(data)
        self.offset += size
        if size >= self.BLOCK:
            self.flush()
            self.sink.write(data)
            return
        self._held.append(data)
        self._held_size += size
        if self._held_size >= self.BLOCK:
            self.flush()

    def flush(self) -> None:
        if self._held:
            self.sink.write(b"".join(self._held))
            self._held, self._held_size = [], 0


def _deflate(chunks: list[Chunk], release: bool) -> tuple[list[bytes], int, int]:
    """(compressed pieces, inflated size, CRC) of a part given as chunks; ``release``: each chunk is
    freed as soon as it is compressed."""
    deflater = Deflater()
    if release:
        chunks.reverse()  # popped from the end
        while chunks:
            deflater.add(chunks.pop())
    else:
        for chunk in chunks:
            deflater.add(chunk)
    return deflater.finish()


class Deflater:
    """Deflates a part's content as it is produced, in order, so a million-row worksheet is never held
    inflated: pieces of raw deflate, with the size and CRC of what went in.

    ``background``: the CRC and deflate run in a thread of their own, through zlib (which lets go of the
    interpreter while it works), so a large part is compressed on the second core while the next rows
    are built.
    At most ``AHEAD`` chunks wait for it, which bounds the memory this costs.
    """

    AHEAD = 8

    def __init__(self, *, background: bool = False, spill: BinaryIO | None = None) -> None:
        self._packer = zlib.compressobj(1, zlib.DEFLATED, -15) if background else deflate.compressor()
        self._crc32 = zlib.crc32 if background else deflate.crc32
        self.pieces: list[bytes] = []
        self.size = self.crc = 0
        self._spill, self._spilled = spill, 0  # a temporary file taking the deflated bytes
        self._queue: queue.Queue[Chunk | None] | None = None
        self._worker: threading.Thread | None = None
        self._failure: BaseException | None = None
        if background:
            self._queue = queue.Queue(self.AHEAD)
            self._worker = threading.Thread(target=self._drain, name="wbs-deflate", daemon=True)
            self._worker.start()

    def _pack(self, chunk: Chunk) -> None:
        self.size += len(chunk)
        self.crc = self._crc32(chunk, self.crc)
        if piece := self._packer.compress(chunk):
            self._keep(piece)

    def _keep(self, piece: bytes) -> None:
        if self._spill is None:
            self.pieces.append(piece)
        else:
            self._spill.write(piece)
            self._spilled += len(piece)

    def _drain(self) -> None:
        assert self._queue is not None
        while (chunk := self._queue.get()) is not None:
            if self._failure is None:
                try:
                    self._pack(chunk)
                except BaseException as exc:  # raised again in the producer's thread
                    self._failure = exc

    def add(self, chunk: Chunk) -> None:
        if self._queue is None:
            self._pack(chunk)
        else:
            self._queue.put(chunk)

    def cancel(self) -> None:
        """Stop the background thread without the result (the part is being abandoned)."""
        if self._worker is not None:
            self._failure = self._failure or RuntimeError("deflate cancelled")  # what is queued is skipped
            self._stop()
            if self._spill is not None:
                self._spill.close()

    def _settle(self) -> None:
        """Wait for the background thread to take in everything added."""
        self._stop()
        if self._failure is not None:
            raise self._failure

    def _stop(self) -> None:
        if self._worker is not None:
            assert self._queue is not None
            self._queue.put(None)
            self._worker.join()
            self._worker = self._queue = None

    def finish(self) -> tuple[list[bytes], int, int]:
        """(pieces, size, CRC) of what was added, as one deflate stream."""
        if self._spill is not None:
            raise ValueError("a spilling deflater gives its part through after()")
        self._settle()
        if piece := self._packer.flush():
            self.pieces.append(piece)
        return self.pieces, self.size, self.crc

    def after(self, head: bytes) -> pk.Deflated:
        """The whole part: ``head`` (known last: it holds the ``<dimension>`` box) and then what was added.

        Raw deflate streams ending on a sync flush can be concatenated: the head is deflated on its
        own, then come the pieces added, then an empty final block; the CRC is the two combined."""
        self._settle()
        self._keep(self._packer.flush(zlib.Z_SYNC_FLUSH))
        first = deflate.compressor()
        lead = first.compress(head) + first.flush(zlib.Z_SYNC_FLUSH)
        crc = deflate.crc32_combine(deflate.crc32(head), self.crc, self.size)
        body: list[bytes | pk.SpilledPieces] = list(self.pieces)
        if self._spill is not None:
            self._spill.flush()
            body = [pk.SpilledPieces(self._spill, self._spilled)]
        return pk.Deflated([lead, *body, _FINAL_BLOCK], len(head) + self.size, crc, head)


_FINAL_BLOCK = b"\x03\x00"  # an empty last block (fixed Huffman codes): ends a deflate stream


def write_members(members: Iterable[tuple[str, pk._Member]], comment: bytes, sink: Sink, *,
                  release: bool = False) -> list[pk.Stamp]:
    """Write the zip of ``members`` (in order) to ``sink`` and return their stamps; ``release`` lets
    chunked parts go as they are written (the package cannot be written again)."""
    out = _Counter(sink)
    central = bytearray()
    stamps: list[pk.Stamp] = []
    count = 0
    for name, member in members:
        count += 1
        info = member.info
        flags = info.flag_bits & ~0x8  # sizes go into the local header: no data descriptor
        pieces: list[Chunk] | list[bytes | pk.SpilledPieces] | list[bytes]
        if member.raw is not None:
            pieces = [member.raw]
            crc, size, method = info.CRC, info.file_size, info.compress_type
        elif member.deflated is not None:
            done = member.deflated
            pieces = done.pieces if release else list(done.pieces)  # released: each piece goes once written
            size, crc, method = done.size, done.crc, zipfile.ZIP_DEFLATED
            flags = (flags & ~0x6) | 0x6
            if release:
                member.deflated = done = None  # type: ignore[assignment]
        else:
            method = info.compress_type
            chunks: list[Chunk] = member.chunks if member.chunks is not None else [member.data or b""]
            flags &= ~0x6
            if method == zipfile.ZIP_DEFLATED:  # Excel's own choice: fastest deflate, flagged so
                pieces, size, crc = _deflate(chunks, release and member.chunks is not None)
                flags |= 0x6
            else:
                stored = [bytes(c) for c in chunks]
                size = sum(map(len, stored))
                crc = 0
                for block in stored:
                    crc = deflate.crc32(block, crc)
                pieces = stored
            if release and member.chunks is not None:
                member.chunks = None
        packed = sum(map(len, pieces))
        if size >= 0xFFFFFFFF or packed >= 0xFFFFFFFF or out.offset >= 0xFFFFFFFF:
            raise pk.WorkbookError("the result would need zip64, which is not supported")
        try:
            encoded = name.encode("ascii")
        except UnicodeEncodeError:
            encoded, flags = name.encode("utf-8"), flags | 0x800
        if flags & 0x800:
            encoded = name.encode("utf-8")
        extra = pk._filtered_extra(info.extra)
        dostime, dosdate = pk._dos_time(info.date_time)
        version = max(info.extract_version, 20 if method == zipfile.ZIP_DEFLATED else 10)
        offset = out.offset
        out.write(pk._LOCAL_HEADER.pack(b"PK\x03\x04", version, 0, flags, method, dostime, dosdate,
                                        crc, packed, size, len(encoded), len(extra)))
        out.write(encoded + extra)
        pieces.reverse()
        while pieces:
            piece = pieces.pop()
            if isinstance(piece, pk.SpilledPieces):
                for block in piece.blocks():
                    out.write(block)
                if release:
                    piece.close()
            else:
                out.write(piece)
        central += pk._CENTRAL_HEADER.pack(
            b"PK\x01\x02", info.create_version, info.create_system, version, 0, flags, method,
            dostime, dosdate, crc, packed, size, len(encoded), len(extra), len(info.comment),
            0, info.internal_attr, info.external_attr, offset,
        )
        central += encoded + extra + info.comment
        stamps.append((name, crc, size))
    start = out.offset
    out.write(bytes(central))
    out.write(pk._END_RECORD.pack(b"PK\x05\x06", 0, 0, count, count, len(central), start, len(comment)))
    out.write(comment)
    out.flush()
    return stamps
