"""Document properties of a workbook package (who saved it last), read safely and cheaply."""

from __future__ import annotations

import io
import os
import zipfile

from lxml import etree

_CORE = "docProps/core.xml"
_NS = "{http://schemas.openxmlformats.org/package/2006/metadata/core-properties}"
_MAX = 1 << 20  # a core-properties part is a few hundred bytes; anything huge is not one


def last_modified_by(path: str | os.PathLike[str], data: bytes | None = None) -> str | None:
    """The workbook's "last modified by" (credited with requirement changes nobody signed), or None;
    read from ``data``, the file's bytes, when the caller has them."""
    try:
        with zipfile.ZipFile(path if data is None else io.BytesIO(data)) as package:
            info = package.getinfo(_CORE)
            if info.file_size > _MAX:
                return None
            data = package.read(info)
    except (KeyError, OSError, zipfile.BadZipFile, RuntimeError):
        return None
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError:
        return None
    element = root.find(f"{_NS}lastModifiedBy")
    text = (element.text or "").strip() if element is not None else ""
    return text or None
