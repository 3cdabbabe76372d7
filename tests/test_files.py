"""Files replaced whole: every report, export and workbook goes through a temporary file and a rename."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from wbs_tools.files import replace_file


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
