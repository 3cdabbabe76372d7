"""Vetting and parsing an MSPDI document, and the element access its readers share.

Customer files are untrusted: a document is size-bounded, refused when it declares a DTD (how entity
expansion and external-entity attacks arrive), and parsed with entity expansion and network access off.
"""

from __future__ import annotations

import os
import re

from lxml import etree

from wbs_tools.mspdi.values import MSPDI_NS, ValueFormatError, parse_bool

#: Files above this size are refused rather than parsed (the largest real plans are tens of MB).
MAX_BYTES = 200 * 1024 * 1024


class MspdiError(ValueError):
    """The input is not a readable MSPDI document (not XML, not a Project, too large, or hostile)."""


_DTD_IN_PROLOG = re.compile(rb"^(?:\s|<\?.*?\?>|<!--.*?-->)*<!DOCTYPE", re.DOTALL)
_NO_DTD = "not an MSPDI file: it declares a DTD, which Microsoft Project never writes"


# --- parsing --------------------------------------------------------------------------------------


def _safe_parser() -> etree.XMLParser:
    """A parser that never expands entities, loads a DTD or touches the network."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
        remove_comments=False,
    )


def _read_bytes(source: str | os.PathLike[str] | bytes) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        path = os.fspath(source)
        size = os.path.getsize(path)
        if size > MAX_BYTES:
            raise MspdiError(f"{path}: {size} bytes is over the {MAX_BYTES} byte limit for MSPDI files")
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise MspdiError(f"the document is over the {MAX_BYTES} byte limit for MSPDI files")
    return data


def _declares_dtd(data: bytes) -> bool:
    """Spot a DOCTYPE before handing bytes to the parser, so an entity bomb is refused by name
    rather than by whichever parser limit trips first."""
    head = data[: 1 << 20]
    for bom, codec in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):
            head = head[len(bom) : len(bom) + (len(head) - len(bom)) // 2 * 2].decode(codec, "replace").encode()
            break
    return bool(_DTD_IN_PROLOG.match(head.removeprefix(b"\xef\xbb\xbf")))


def parse_document(source: str | os.PathLike[str] | bytes) -> etree._ElementTree:
    """Parse and vet an MSPDI document: ``bytes`` are the document, a ``str`` or path names a file.

    A document carrying a DTD is refused: MSPDI never has one, and a DTD is how entity-expansion
    ("billion laughs") and external-entity attacks are delivered.
    """
    data = _read_bytes(source)
    if _declares_dtd(data):
        raise MspdiError(_NO_DTD)
    try:
        tree = etree.ElementTree(etree.fromstring(data, _safe_parser()))
    except etree.XMLSyntaxError as exc:
        raise MspdiError(f"not an MSPDI file: the XML cannot be parsed ({exc})") from None
    docinfo = tree.docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise MspdiError(_NO_DTD)
    root = tree.getroot()
    tag = root.tag if isinstance(root.tag, str) else ""
    namespace, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    if local != "Project" or namespace not in ("", MSPDI_NS):
        raise MspdiError(f"not an MSPDI file: the root element is <{tag}>, not a Microsoft Project <Project>")
    return tree


# --- element access -------------------------------------------------------------------------------


def child_elements(element: etree._Element, tags: tuple[str, ...] = ()) -> dict[str, etree._Element]:
    """First child element per local name, in one pass; ``tags`` (qualified names) lets lxml skip
    the many children a reader does not need (a task has about a hundred)."""
    result: dict[str, etree._Element] = {}
    for child in element.iterchildren(*tags) if tags else element:
        tag = child.tag
        if isinstance(tag, str):
            result.setdefault(tag.rpartition("}")[2], child)
    return result


def field_text(fields: dict[str, etree._Element], name: str) -> str | None:
    """Stripped text of a field, or None when it is absent or empty."""
    element = fields.get(name)
    if element is None or element.text is None:
        return None
    text = element.text.strip()
    return text or None


def field_flag(fields: dict[str, etree._Element], name: str, default: bool) -> bool:
    """A boolean field; absent or unreadable gives ``default``."""
    text = field_text(fields, name)
    try:
        return parse_bool(text) if text is not None else default
    except ValueFormatError:
        return default
