"""Build a ``vbaProject.bin`` from VBA source text, without Excel, byte-for-byte reproducibly.

The project follows MS-OVBA: a ``PROJECT`` text stream, ``PROJECTwm``, ``VBA/dir`` (compressed
project, reference and module records), ``VBA/_VBA_PROJECT`` with version 0xFFFF so that Office has
no compiled cache to trust and compiles the modules from source, and one compressed source stream
per module. The workbook template embeds the result with XlsxWriter's ``add_vba_project``.

The macro project for the plan workbook holds ``ThisWorkbook``, one document module per worksheet,
``WbsButtons`` (the button macros, shipped as package data) and the ``xlwings`` module taken from
the installed xlwings package, so that its version always matches the Python side.
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import importlib.util
import re
import struct
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from wbs_tools.excel.cfb import build_compound_file
from wbs_tools.excel.ovba import compress, encrypt

PROJECT_NAME = "VBAProject"
CODE_PAGE = 1252
_ENCODING = "cp1252"
_LCID = 0x0409
_SYSKIND_WIN32 = 0x00000001
_STDOLE_LIBID = r"*\G{00020430-0000-0000-C000-000000000046}#2.0#0#C:\Windows\System32\stdole2.tlb#OLE Automation"
_WORKBOOK_BASE = "0{00020819-0000-0000-C000-000000000046}"
_WORKSHEET_BASE = "0{00020820-0000-0000-C000-000000000046}"
_ENCRYPTION_SEED = 0x42
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,30}")
_VB_NAME = re.compile(r'Attribute VB_Name = "([^"]*)"')


class ModuleKind(str, Enum):
    """VBA module kinds; document modules stand for the workbook and its worksheets."""

    STANDARD = "standard"
    CLASS = "class"
    DOCUMENT = "document"


@dataclass(frozen=True)
class VbaModule:
    """A module's name, its source (as exported to .bas/.cls, or bare code) and its kind."""

    name: str
    source: str
    kind: ModuleKind = ModuleKind.STANDARD

    def stored_text(self) -> str:
        """The text Office keeps for the module: CRLF lines, led by the attributes its kind needs.

        Source that already starts with ``Attribute VB_Name`` (an exported .bas) is kept as is; a
        class export's ``VERSION``/``BEGIN``..``END`` header is dropped, as Office does on import.
        """
        lines = self.source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        if self.kind is ModuleKind.CLASS and lines[0].startswith("VERSION "):
            lines = lines[lines.index("END") + 1 :] if "END" in lines else lines[1:]
        text = "\r\n".join(lines)
        found = _VB_NAME.match(text)
        if found:
            if found.group(1) != self.name:
                raise ValueError(f"module {self.name!r}: its source says Attribute VB_Name = {found.group(1)!r}")
            return text
        body = text if text.endswith("\r\n") or not text else text + "\r\n"
        return "".join(f"Attribute {line}\r\n" for line in self._attributes()) + body

    def _attributes(self) -> list[str]:
        attributes = [f'VB_Name = "{self.name}"']
        if self.kind is ModuleKind.DOCUMENT:
            base = _WORKBOOK_BASE if self.name == "ThisWorkbook" else _WORKSHEET_BASE
            attributes += [f'VB_Base = "{base}"', "VB_GlobalNameSpace = False", "VB_Creatable = False"]
            attributes += ["VB_PredeclaredId = True", "VB_Exposed = True", "VB_TemplateDerived = False"]
            attributes += ["VB_Customizable = True"]
        elif self.kind is ModuleKind.CLASS:
            attributes += ["VB_GlobalNameSpace = False", "VB_Creatable = False"]
            attributes += ["VB_PredeclaredId = False", "VB_Exposed = False"]
        return attributes


@dataclass(frozen=True)
class ButtonMacro:
    """A workbook button: its caption, the ``WbsButtons`` macro it runs and that macro's Python call."""

    caption: str
    macro: str
    python: str


BUTTONS: tuple[ButtonMacro, ...] = tuple(
    ButtonMacro(caption, name, f"import wbs_tools.excel.buttons as b; b.{name}()")
    for caption, name in (
        ("Recompute schedule", "recompute"),
        ("Flag overdue actions", "flag_overdue"),
        ("Export status", "export_status"),
    )
)
"""The buttons of the plan workbook, in display order; ``WbsButtons.bas`` holds one Sub per entry."""


def _record(record_id: int, payload: bytes) -> bytes:
    return struct.pack("<HI", record_id, len(payload)) + payload


def _text_record(record_id: int, reserved: int, text: str) -> bytes:
    """A record holding a string twice: in the project code page, then (after ``reserved``) UTF-16."""
    return _record(record_id, text.encode(_ENCODING)) + _record(reserved, text.encode("utf-16-le"))


def _dir_stream(modules: Sequence[VbaModule]) -> bytes:
    """The decompressed ``dir`` stream (MS-OVBA 2.3.4.2): project information, references, modules."""
    info = [
        _record(0x0001, struct.pack("<I", _SYSKIND_WIN32)),
        _record(0x0002, struct.pack("<I", _LCID)),
        _record(0x0014, struct.pack("<I", _LCID)),
        _record(0x0003, struct.pack("<H", CODE_PAGE)),
        _record(0x0004, PROJECT_NAME.encode(_ENCODING)),
        _text_record(0x0005, 0x0040, ""),  # docstring
        _record(0x0006, b"") + _record(0x003D, b""),  # help file, twice
        _record(0x0007, struct.pack("<I", 0)),  # help context
        _record(0x0008, struct.pack("<I", 0)),  # lib flags
        struct.pack("<HIIH", 0x0009, 4, 1, 0),  # version: Reserved = 4, major 1, minor 0
        _text_record(0x000C, 0x003C, ""),  # conditional compilation constants
    ]
    libid = _STDOLE_LIBID.encode(_ENCODING)
    references = [
        _text_record(0x0016, 0x003E, "stdole"),
        _record(0x000D, struct.pack("<I", len(libid)) + libid + struct.pack("<IH", 0, 0)),
    ]
    records = [struct.pack("<HIH", 0x000F, 2, len(modules)), _record(0x0013, struct.pack("<H", 0xFFFF))]
    for module in modules:
        records += [
            _record(0x0019, module.name.encode(_ENCODING)),
            _record(0x0047, module.name.encode("utf-16-le")),
            _text_record(0x001A, 0x0032, module.name),  # stream name
            _text_record(0x001C, 0x0048, ""),  # docstring
            _record(0x0031, struct.pack("<I", 0)),  # text offset: the stream holds source only
            _record(0x001E, struct.pack("<I", 0)),  # help context
            _record(0x002C, struct.pack("<H", 0xFFFF)),  # cookie
            struct.pack("<HI", 0x0021 if module.kind is ModuleKind.STANDARD else 0x0022, 0),
            struct.pack("<HI", 0x002B, 0),  # terminator
        ]
    return b"".join(info + references + records) + struct.pack("<HI", 0x0010, 0)


def _project_id(modules: Iterable[VbaModule]) -> str:
    """A GUID derived from the module names: stable across builds, distinct between projects."""
    names = ",".join(module.name for module in modules)
    return "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"wbs_tools:{PROJECT_NAME}:{names}")).upper() + "}"


def _project_stream(modules: Sequence[VbaModule]) -> bytes:
    """The ``PROJECT`` text stream (MS-OVBA 2.3.1), unprotected and visible."""
    project_id = _project_id(modules)
    lines = [f'ID="{project_id}"']
    for module in modules:
        if module.kind is ModuleKind.DOCUMENT:
            lines.append(f"Document={module.name}/&H00000000")
        else:
            lines.append(f"{'Module' if module.kind is ModuleKind.STANDARD else 'Class'}={module.name}")
    lines += [f'Name="{PROJECT_NAME}"', 'HelpContextID="0"', 'VersionCompatible32="393222000"']
    for key, value in (("CMG", bytes(4)), ("DPB", bytes(1)), ("GC", b"\xff")):
        # protection state 0 (none), password byte 0 (none), visibility 0xFF (visible)
        lines.append(f'{key}="{encrypt(value, project_id, _ENCRYPTION_SEED)}"')
    lines += ["", "[Host Extender Info]", "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000"]
    lines += ["", "[Workspace]"] + [f"{module.name}=0, 0, 0, 0, C" for module in modules]
    return ("\r\n".join(lines) + "\r\n").encode(_ENCODING)


def _name_map(modules: Sequence[VbaModule]) -> bytes:
    """The ``PROJECTwm`` stream (MS-OVBA 2.3.3): each module name in the code page and in UTF-16."""
    names = (m.name.encode(_ENCODING) + b"\0" + m.name.encode("utf-16-le") + b"\0\0" for m in modules)
    return b"".join(names) + b"\0\0"


def _check_modules(modules: Sequence[VbaModule]) -> None:
    seen: set[str] = set()
    for module in modules:
        if not _IDENTIFIER.fullmatch(module.name) or module.name.casefold() in {"vba", "dir", "_vba_project"}:
            raise ValueError(f"invalid VBA module name {module.name!r}")
        if module.name.casefold() in seen:
            raise ValueError(f"duplicate VBA module name {module.name!r}")
        seen.add(module.name.casefold())
    if not any(m.kind is ModuleKind.DOCUMENT and m.name == "ThisWorkbook" for m in modules):
        raise ValueError("an Excel VBA project needs a ThisWorkbook document module")


def build_vba_project(modules: Sequence[VbaModule]) -> bytes:
    """Return a ``vbaProject.bin`` holding ``modules``; the same modules always give the same bytes.

    Raises ValueError for invalid or duplicate module names, a missing ThisWorkbook document module
    or source text that code page 1252 cannot hold.
    """
    modules = list(modules)
    _check_modules(modules)
    streams = {
        "PROJECT": _project_stream(modules),
        "PROJECTwm": _name_map(modules),
        "VBA/_VBA_PROJECT": struct.pack("<HHBH", 0x61CC, 0xFFFF, 0, 0),
        "VBA/dir": compress(_dir_stream(modules)),
    }
    for module in modules:
        try:
            source = module.stored_text().encode(_ENCODING)
        except UnicodeEncodeError as error:
            raise ValueError(f"module {module.name!r} has text outside code page {CODE_PAGE}: {error}") from error
        streams[f"VBA/{module.name}"] = compress(source)
    return build_compound_file(streams)


def xlwings_module_source() -> str:
    """The standalone VBA module shipped inside the installed xlwings package (``xlwings.bas``).

    Its DLL names and ``XLWINGS_VERSION`` must match the Python package that ``RunPython`` starts,
    so the text is read from the installed package and checked against its version.
    """
    spec = importlib.util.find_spec("xlwings")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("xlwings is not installed: pip install 'wbs_tools[excel]'")
    path = Path(next(iter(spec.submodule_search_locations))) / "xlwings.bas"
    text = path.read_bytes().decode(_ENCODING)
    installed = importlib.metadata.version("xlwings")
    declared = re.search(r'XLWINGS_VERSION As String = "([^"]+)"', text)
    if declared is None or declared.group(1) != installed:
        found = declared.group(1) if declared else "no version"
        raise RuntimeError(f"{path} declares {found} but xlwings {installed} is installed; reinstall xlwings")
    return text


def wbs_buttons_source() -> str:
    """The ``WbsButtons`` module source from package data (``wbs_tools/excel/macros/WbsButtons.bas``).

    That file is the canonical one, since it is what installed copies build workbooks from;
    ``macros/WbsButtons.bas`` at the repository root is a byte-identical copy for importing into
    Excel by hand, and a test keeps the two equal.
    """
    resource = importlib.resources.files("wbs_tools.excel").joinpath("macros/WbsButtons.bas")
    return resource.read_bytes().decode(_ENCODING)


def macro_modules(sheet_codenames: Sequence[str] = (), runpython_module: VbaModule | None = None) -> list[VbaModule]:
    """The plan workbook's modules: ThisWorkbook, one per worksheet, WbsButtons and xlwings.

    ``runpython_module`` replaces the xlwings module (tests use a stand-in that records calls).
    """
    modules = [VbaModule("ThisWorkbook", "", ModuleKind.DOCUMENT)]
    modules += [VbaModule(name, "", ModuleKind.DOCUMENT) for name in sheet_codenames]
    modules.append(VbaModule("WbsButtons", wbs_buttons_source()))
    modules.append(runpython_module or VbaModule("xlwings", xlwings_module_source()))
    return modules


def build_macro_project(sheet_codenames: Sequence[str] = ()) -> bytes:
    """The plan workbook's ``vbaProject.bin``.

    Pass the code names of the workbook's worksheets (XlsxWriter gives ``Sheet1``..``SheetN`` once
    a VBA project is added) so that every sheet has its document module, as in files Excel saves.
    """
    return build_vba_project(macro_modules(sheet_codenames))
