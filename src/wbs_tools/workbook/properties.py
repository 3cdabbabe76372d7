"""Document properties of a workbook package (who saved it last), read safely and cheaply."""

from __future__ import annotations

import os
import zipfile

from lxml import etree

from wbs_tools.workbook.errors import WorkbookError
from wbs_tools.workbook.package import Package

_CORE = "docProps/core.xml"
_NS = "{http://schemas.openxmlformats.org/package/2006/metadata/core-properties}"
_MAX = 1 << 20  # a core-properties part is a few hundred bytes; anything huge is not one


def last_modified_by(path: str | os.PathLike[str]) -> str | None:
    """The saved workbook's "last modified by" (credited with requirement changes nobody signed), or None."""
    try:
        with zipfile.ZipFile(path) as package:
            info = package.getinfo(_CORE)
            if info.file_size > _MAX:
                return None
            data = package.read(info)
    except (KeyError, OSError, zipfile.BadZipFile, RuntimeError):
        return None
    return _modified_by(data)


def package_modified_by(pkg: Package) -> str | None:
    """:func:`last_modified_by` of a package the reader has open already (no second pass over the zip)."""
    if _CORE not in pkg or pkg.size(_CORE) > _MAX:
        return None
    try:
        data = pkg.read(_CORE)
    except WorkbookError:
        return None
    return _modified_by(data)


def _modified_by(core: bytes) -> str | None:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(core, parser)
    except etree.XMLSyntaxError:
        return None
    element = root.find(f"{_NS}lastModifiedBy")
    text = (element.text or "").strip() if element is not None else ""
    return text or None
