"""Files replaced whole: every report, export and workbook goes through a temporary file and a rename."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from wbs_tools.files import replace_file, sync_while


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_a_new_file_gets_the_umask_mode_and_a_replaced_one_keeps_its_own(tmp_path: Path) -> None:
    mask = os.umask(0o077)
    try:
        created = replace_file(tmp_path / "sub" / "report.json", b"{}")
    finally:
        os.umask(mask)
    assert created.read_bytes() == b"{}" and stat.S_IMODE(created.stat().st_mode) == 0o600
    created.chmod(0o664)
    replace_file(created, b"[1]")
    assert created.read_bytes() == b"[1]" and stat.S_IMODE(created.stat().st_mode) == 0o664
    assert [p.name for p in created.parent.iterdir()] == ["report.json"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "plan.csv"
    target.write_bytes(b"old")

    with pytest.raises(TypeError):  # fails after the temporary file was created
        replace_file(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["plan.csv"]


def test_a_flush_overlapped_with_work_finishes_before_it_returns(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The flush runs on a thread beside the work (it waits here until the work has started); both are
    done on return, and no thread is left over (a batch forks its workers only from a lone thread)."""
    threads = threading.active_count()
    started, flushed = threading.Event(), []
    real = os.fsync

    def flush(fd: int) -> None:
        assert started.wait(10)
        real(fd)
        flushed.append(threading.current_thread() is not threading.main_thread())

    monkeypatch.setattr(os, "fsync", flush)
    with (tmp_path / "f.bin").open("wb") as handle:
        handle.write(b"x" * 100_000)
        handle.flush()
        assert sync_while(handle.fileno(), lambda: started.set() or 7) == 7
    assert flushed == [True] and threading.active_count() == threads


def test_a_failed_flush_is_raised_and_the_work_s_own_error_wins(tmp_path: Path) -> None:
    read, write = os.pipe()  # fsync refuses a pipe
    try:
        done: list[bool] = []
        with pytest.raises(OSError):
            sync_while(write, lambda: done.append(True))
        assert done == [True]
        with pytest.raises(ZeroDivisionError):
            sync_while(write, lambda: 1 // 0)
    finally:
        os.close(read)
        os.close(write)
