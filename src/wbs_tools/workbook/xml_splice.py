"""Byte-level XML of package parts: start tags and attribute lists rewritten in place, and small parts
(workbook.xml, .rels, content types) edited by splicing, so their untouched bytes stay as they are."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from lxml import etree

from wbs_tools.workbook.errors import WorkbookError

if TYPE_CHECKING:
    from wbs_tools.workbook.package import Package


ATTRS = rb"(?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*"
_ATTR = re.compile(rb"([^\s=/>]+)\s*=\s*(\"[^\"]*\"|'[^']*')")


def start_tag(prefix: bytes, local: str) -> re.Pattern[bytes]:
    """``<prefix:local attrs>`` or ``<prefix:local attrs/>``; group 1 = attributes, group 2 = '/'."""
    return re.compile(rb"<" + re.escape(prefix + local.encode()) + rb"(" + ATTRS + rb")\s*(/?)>")


def get_attrs(raw: bytes) -> dict[str, str]:
    """Attribute values, unescaped, keyed by qualified name."""
    return {m.group(1).decode(): html.unescape(m.group(2)[1:-1].decode()) for m in _ATTR.finditer(raw)}


def set_attrs(raw: bytes, changes: Mapping[str, str | None]) -> bytes:
    """Rewrite an attribute list: replace in place, append new ones, drop those mapped to None.

    Untouched attributes keep their exact bytes, including the whitespace before them.
    """
    out: list[bytes] = []
    pending = dict(changes)
    pos = 0
    for m in _ATTR.finditer(raw):
        gap, pos = raw[pos : m.start()], m.end()
        name = m.group(1).decode()
        if name not in pending:
            out += [gap, m.group(0)]
        elif (new := pending.pop(name)) is not None:
            out += [gap, m.group(1) + b'="' + escape_attr(new) + b'"']
    out += [b" " + k.encode() + b'="' + escape_attr(v) + b'"' for k, v in pending.items() if v is not None]
    return b"".join(out) + raw[pos:]


def retag(m: re.Match[bytes], changes: Mapping[str, str | None]) -> bytes:
    """A start tag matched by :func:`start_tag` with some attributes changed, all else byte-identical."""
    tag, begin = m.group(0), m.start(1) - m.start()
    return tag[:begin] + set_attrs(m.group(1), changes) + tag[m.end(1) - m.start() :]


def escape_attr(value: str) -> bytes:
    return html.escape(value, quote=True).replace("&#x27;", "&apos;").encode()


class _Trickle:
    """A part handed to the parser a little at a time: it stops at the root's start tag, having parsed a
    few hundred bytes rather than the whole part (which it reads ahead in blocks of 32 kB otherwise)."""

    STEP = 512

    def __init__(self, data: bytes) -> None:
        self.view, self.pos = memoryview(data), 0

    def read(self, size: int = -1) -> bytes:
        step = self.STEP if size < 0 else min(size, self.STEP)
        chunk = bytes(self.view[self.pos : self.pos + step])
        self.pos += len(chunk)
        return chunk


#: the root's start tag as Excel and wbs_tools write it: an XML declaration at most before it, its
#: namespace declared on it (anything else, a comment or another encoding, goes to the parser)
_ROOT_TAG = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*(?:<\?xml\s[^<>]*\?>\s*)?<(?:([A-Za-z_][\w.-]*):)?[A-Za-z_][\w.-]*("
                       + ATTRS + rb")\s*/?>")


def root_prefix(data: bytes, part: str) -> tuple[bytes, str]:
    """The prefix (``b''`` or ``b'x:'``) and namespace of the root element, read from its start tag."""
    m = _ROOT_TAG.match(data, 0, 4096)
    if m is not None:
        prefix = m.group(1) or b""
        ns = get_attrs(m.group(2)).get("xmlns:" + prefix.decode() if prefix else "xmlns")
        if ns is not None and "&" not in ns:
            return (prefix + b":" if prefix else b""), ns
    try:
        for _event, el in etree.iterparse(_Trickle(data), events=("start",), resolve_entities=False,
                                          no_network=True, load_dtd=False, huge_tree=True):
            ns = etree.QName(el).namespace or ""
            return (el.prefix.encode() + b":" if el.prefix else b""), ns
    except etree.XMLSyntaxError as exc:
        raise WorkbookError(f"the part {part!r} is not well-formed XML ({exc})") from exc
    raise WorkbookError(f"the part {part!r} is empty")


class SplicedPart:
    """A small XML part (workbook.xml, .rels, content types) edited by splicing its bytes."""

    def __init__(self, pkg: Package, name: str) -> None:
        self.pkg, self.name = pkg, name
        self.data = pkg.read(name)
        self.original = self.data
        self.p, _ns = root_prefix(self.data, name)

    def close_tag(self, local: str) -> int:
        pos = self.data.rfind(b"</" + self.p + local.encode() + b">")
        if pos < 0:
            raise WorkbookError(f"the part {self.name!r} has no </{local}>")
        return pos

    def splice(self, start: int, end: int, new: bytes) -> None:
        self.data = self.data[:start] + new + self.data[end:]

    def tags(self, local: str, within: str | None = None) -> list[re.Match[bytes]]:
        """Start tags of ``local`` elements, optionally only inside the first ``within`` element."""
        begin, end = 0, len(self.data)
        if within is not None:
            outer = start_tag(self.p, within).search(self.data)
            begin, end = (outer.end(), self.close_tag(within)) if outer else (0, 0)
        return list(start_tag(self.p, local).finditer(self.data, begin, end))

    def insert_before_first(self, locals_: Sequence[str], after: int, fragment: bytes, root: str) -> None:
        """Insert before the first of ``locals_`` found after ``after`` (schema order), else before </root>."""
        found = [m.start() for loc in locals_ if (m := start_tag(self.p, loc).search(self.data, after))]
        at = min(found) if found else self.close_tag(root)
        self.splice(at, at, fragment)

    def remove_where(self, local: str, attr: str, value: str) -> None:
        for m in reversed(self.tags(local)):
            if get_attrs(m.group(1)).get(attr) == value:
                end = m.end() if m.group(2) else self.data.index(b">", self.data.index(
                    b"</" + self.p + local.encode(), m.end())) + 1
                self.splice(m.start(), end, b"")

    def save(self) -> bool:
        if self.data != self.original:
            self.pkg.write(self.name, self.data)
            return True
        return False
