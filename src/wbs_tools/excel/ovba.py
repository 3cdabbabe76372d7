"""MS-OVBA algorithms needed to write a VBA project: compression (2.4.1) and data encryption (2.4.3).

Office stores the ``dir`` stream and every module's source in the MS-OVBA compressed container
format. The compressor here is an LZ77 coder that follows the specification's rules: 4096-byte
chunks, copy tokens whose offset/length split depends on the position inside the chunk, and raw
chunks only where compression does not fit. Output depends only on the input bytes, so a
``vbaProject.bin`` built twice is byte-identical.

The encryption (2.4.3) obfuscates the protection fields of the ``PROJECT`` stream (CMG, DPB, GC);
it is needed to write "no protection" values in the form Office expects.
"""

from __future__ import annotations

import struct

CHUNK_SIZE = 4096
"""Decompressed bytes per chunk; every chunk but the last covers exactly this many."""

_MAX_CHUNK_DATA = 4096
"""Largest CompressedChunkData: CompressedChunkSize holds size - 3 in 12 bits, header included."""

_LITERAL_ONLY_SPAN = 3640
"""Bytes that still fit in one chunk as literal tokens: 3640 + 3640 / 8 flag bytes <= 4096."""

_MIN_MATCH = 3


def _copy_token_split(difference: int) -> tuple[int, int]:
    """Return (bit count of the offset, maximum length) at ``difference`` bytes into a chunk.

    MS-OVBA 2.4.1.3.19.1 (CopyToken Help): the offset field grows with the position so that it can
    reach the chunk start, and the length field gets the remaining bits.
    """
    bit_count = max((difference - 1).bit_length(), 4)
    return bit_count, (0xFFFF >> bit_count) + 3


def _longest_match(data: bytes, start: int, pos: int, end: int, chain: list[int]) -> tuple[int, int]:
    """Find the longest earlier match for ``data[pos:]`` inside the chunk; return (length, offset).

    ``chain`` holds earlier chunk positions that start with the same three bytes, oldest first. The
    nearest candidate wins ties, as in MS-OVBA 2.4.1.3.19.4 (Matching).
    """
    _, max_length = _copy_token_split(pos - start)
    limit = min(max_length, end - pos)
    best_length, best_offset = 0, 0
    for candidate in reversed(chain):
        if best_length and data[candidate + best_length] != data[pos + best_length]:
            continue
        length = _MIN_MATCH
        while length < limit and data[candidate + length] == data[pos + length]:
            length += 1
        if length > best_length:
            best_length, best_offset = length, pos - candidate
            if length == limit:
                break
    return best_length, best_offset


def _compress_tokens(data: bytes, start: int, end: int) -> bytes:
    """Encode ``data[start:end]`` as MS-OVBA token sequences (CompressedChunkData, flag = 1)."""
    out = bytearray()
    chains: dict[bytes, list[int]] = {}
    pos = start
    while pos < end:
        flag_index = len(out)
        out.append(0)
        flags = 0
        for bit in range(8):
            if pos >= end:
                break
            length, offset = 0, 0
            if pos + _MIN_MATCH <= end and pos > start:
                chain = chains.get(data[pos : pos + _MIN_MATCH])
                if chain:
                    length, offset = _longest_match(data, start, pos, end, chain)
            if length >= _MIN_MATCH:
                bit_count, _ = _copy_token_split(pos - start)
                out += struct.pack("<H", ((offset - 1) << (16 - bit_count)) | (length - _MIN_MATCH))
                flags |= 1 << bit
                step = length
            else:
                out.append(data[pos])
                step = 1
            for index in range(pos, min(pos + step, end - _MIN_MATCH + 1)):
                chains.setdefault(data[index : index + _MIN_MATCH], []).append(index)
            pos += step
        out[flag_index] = flags
    return bytes(out)


def _chunk(payload: bytes, compressed: bool) -> bytes:
    """Prefix a chunk body with its CompressedChunkHeader (size - 3, signature 0b011, flag)."""
    header = (len(payload) + 2 - 3) | 0x3000 | (0x8000 if compressed else 0)
    return struct.pack("<H", header) + payload


def compress(data: bytes) -> bytes:
    """Compress ``data`` into an MS-OVBA CompressedContainer.

    A chunk whose tokens do not fit in 4096 bytes is stored raw when it is a full 4096-byte chunk.
    A short final chunk cannot be stored raw without padding the decompressed data with zeros, so
    an incompressible tail (never seen with source text) is split into literal-only chunks instead.
    """
    data = bytes(data)
    out = bytearray(b"\x01")
    for start in range(0, len(data), CHUNK_SIZE):
        end = min(start + CHUNK_SIZE, len(data))
        tokens = _compress_tokens(data, start, end)
        if len(tokens) <= _MAX_CHUNK_DATA:
            out += _chunk(tokens, compressed=True)
        elif end - start == CHUNK_SIZE:
            out += _chunk(data[start:end], compressed=False)
        else:
            for piece in range(start, end, _LITERAL_ONLY_SPAN):
                piece_end = min(piece + _LITERAL_ONLY_SPAN, end)
                literals = bytearray()
                for group in range(piece, piece_end, 8):
                    literals.append(0)
                    literals += data[group : min(group + 8, piece_end)]
                out += _chunk(bytes(literals), compressed=True)
    return bytes(out)


def encrypt(data: bytes, project_id: str, seed: int) -> str:
    """Encrypt ``data`` per MS-OVBA 2.4.3.2 and return the hex text stored in the PROJECT stream.

    The project key is the byte sum of the ProjectId text (braces included). A fixed ``seed``
    keeps the output deterministic; Office accepts any seed.
    """
    if not 0 <= seed <= 0xFF:
        raise ValueError(f"seed must be a byte, got {seed}")
    project_key = sum(project_id.encode("ascii")) & 0xFF
    version_enc = seed ^ 2
    project_key_enc = seed ^ project_key
    out = bytearray([seed, version_enc, project_key_enc])
    unencrypted_1, encrypted_1, encrypted_2 = project_key, project_key_enc, version_enc
    ignored = bytes((seed & 6) // 2)
    for byte in ignored + struct.pack("<I", len(data)) + bytes(data):
        byte_enc = byte ^ ((encrypted_2 + unencrypted_1) & 0xFF)
        out.append(byte_enc)
        encrypted_2, encrypted_1, unencrypted_1 = encrypted_1, byte_enc, byte
    return out.hex().upper()
