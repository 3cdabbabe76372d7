"""Raw deflate, inflate and CRC-32 for package parts.

Through ISA-L (python-isal) where it is installed: the zlib formats, about four times zlib's deflate
speed at level 1 on worksheet XML for output of the same size, and twice its inflate. python-isal has
no wheel for Windows on ARM or 32-bit Windows; there it is not installed and the standard library's
zlib does the same work (``codec`` is then zlib itself).
"""

from __future__ import annotations

import zlib
from types import ModuleType
from typing import Any


def _fastest() -> ModuleType:
    try:
        from isal import isal_zlib
    except ImportError:
        return zlib
    return isal_zlib


codec: ModuleType = _fastest()


def compressor() -> Any:
    """A raw deflate stream at level 1, Excel's own choice: the fastest."""
    return codec.compressobj(1, zlib.DEFLATED, -15)


def decompressor() -> Any:
    return codec.decompressobj(-15)


def crc32(data: bytes | memoryview, value: int = 0) -> int:
    return int(codec.crc32(data, value))


#: what inflating a damaged stream raises (ISA-L's error is not zlib's)
ERRORS: tuple[type[Exception], ...] = (zlib.error, codec.error)


def crc32_combine(crc1: int, crc2: int, length2: int) -> int:
    """CRC-32 of ``a + b`` from ``crc32(a)``, ``crc32(b)`` and ``len(b)``: ISA-L's, or (zlib's module
    does not offer it) ``crc1`` advanced over ``length2`` zero bytes, in GF(2)."""
    combine = getattr(codec, "crc32_combine", None)
    if combine is not None:
        return int(combine(crc1, crc2, length2))

    def times(matrix: list[int], vector: int) -> int:
        total, i = 0, 0
        while vector:
            if vector & 1:
                total ^= matrix[i]
            vector >>= 1
            i += 1
        return total

    def square(matrix: list[int]) -> list[int]:
        return [times(matrix, row) for row in matrix]

    operator = [0xEDB88320] + [1 << n for n in range(31)]  # one zero bit
    for _ in range(3):
        operator = square(operator)  # then two, four, eight: one zero byte
    while length2 > 0:  # the operator squared for each bit of the length, applied where it is set
        if length2 & 1:
            crc1 = times(operator, crc1)
        length2 >>= 1
        if length2:
            operator = square(operator)
    return crc1 ^ crc2
