"""Where each field of a task row was read, without a dict of addresses per task.

A 100,000-row plan would otherwise hold two million "Tasks!F12" strings that only a finding ever
looks at. ``RowCells`` keeps the row number and the table's shared column prefixes ("Tasks!F") and
builds an address when it is asked for; it reads, compares and prints like the dict it stands for.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping

_GONE = ""  # an address taken out with ``del``: no real address is empty


class RowCells(MutableMapping[str, str]):
    """field -> cell address for one row: ``prefixes[field] + row``, with ``extra`` set or replacing some."""

    __slots__ = ("extra", "prefixes", "row")

    def __init__(self, prefixes: dict[str, str], row: int, extra: dict[str, str] | None = None) -> None:
        self.prefixes, self.row, self.extra = prefixes, row, extra

    @property
    def single_row(self) -> int | None:
        """The row every address is on when no field was set apart (as the reader makes them), else None."""
        return self.row if self.extra is None and self.prefixes else None

    def __getitem__(self, key: str) -> str:
        extra = self.extra
        if extra is not None and key in extra:
            found = extra[key]
            if found is _GONE:
                raise KeyError(key)
            return found
        return self.prefixes[key] + str(self.row)

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        extra = self.extra
        if extra is not None and key in extra:
            found = extra[key]
            return default if found is _GONE else found
        prefix = self.prefixes.get(key)
        return default if prefix is None else prefix + str(self.row)

    def __contains__(self, key: object) -> bool:
        extra = self.extra
        if extra is not None and key in extra:
            return extra[key] is not _GONE  # type: ignore[index]
        return key in self.prefixes

    def __iter__(self) -> Iterator[str]:
        extra = self.extra
        if extra is None:
            yield from self.prefixes
            return
        for key in self.prefixes:
            if extra.get(key) is not _GONE:
                yield key
        for key, value in extra.items():
            if key not in self.prefixes and value is not _GONE:
                yield key

    def __len__(self) -> int:
        return sum(1 for _ in self) if self.extra is not None else len(self.prefixes)

    def __setitem__(self, key: str, value: str) -> None:
        if self.extra is None:
            self.extra = {}
        self.extra[key] = value

    def __delitem__(self, key: str) -> None:
        if key not in self:
            raise KeyError(key)
        self[key] = _GONE

    def __repr__(self) -> str:
        return repr(dict(self))

    def __reduce__(self) -> tuple[type[dict[str, str]], tuple[dict[str, str]]]:
        return dict, (dict(self),)  # a copy or a pickle is the plain dict it stands for
