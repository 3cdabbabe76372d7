"""Every part a write produces is proven well-formed before the file is replaced; a DTD is refused."""

from __future__ import annotations

import pytest

from wbs_tools.workbook import package
from wbs_tools.workbook.package import WorkbookError, check_well_formed

PART = "xl/worksheets/sheet1.xml"
GOOD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="urn:x">'
        b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>a &amp; b &#x1F600;</t></is></c></row>'
        b"</sheetData></worksheet>")


def test_a_well_formed_part_passes() -> None:
    check_well_formed(GOOD, PART)


@pytest.mark.parametrize("data", [
    b"<a><b></a>", b"<a>&undefined;</a>", b"<a>\x01</a>", b"<a/><b/>", b"", b'<a x="1" x="2"/>',
    b"<a>\xff</a>", b"<a>&#0;</a>", GOOD[:-3],
])
def test_a_malformed_part_is_refused_with_its_name(data: bytes) -> None:
    with pytest.raises(WorkbookError, match=r"sheet1\.xml.*would not be well-formed"):
        check_well_formed(data, PART)


def test_a_part_declaring_a_dtd_is_refused() -> None:
    with pytest.raises(WorkbookError, match="declares a DTD"):
        check_well_formed(b'<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>', PART)


def test_a_huge_part_is_only_checked_to_start_as_xml(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(package, "FULL_CHECK_BYTES", 10)
    check_well_formed(b"  <a><b>", PART, size=11)
    with pytest.raises(WorkbookError, match="would not be XML"):
        check_well_formed(b"garbage", PART, size=11)
