"""The vbaProject.bin builder, checked by independent readers.

olefile must parse the compound file strictly, oletools must decompress every stream and parse the
``dir`` stream strictly and olevba must extract each module's exact text from an .xlsm made with
XlsxWriter. LibreOffice (headless, through UNO) must load the project, bind each button to its
macro and, with a stand-in RunPython, run the macros and record the exact Python commands.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import io
import json
import math
import random
import re
import struct
import zipfile
from pathlib import Path

import olefile
import pytest
import xlsxwriter
from oletools.olevba import VBA_Parser, VBA_Project, decompress_stream

from support.libreoffice import libreoffice_missing, run_uno_probe
from wbs_tools.excel import cfb, ovba
from wbs_tools.excel.vba_project import (
    BUTTONS,
    ModuleKind,
    VbaModule,
    build_macro_project,
    build_vba_project,
    macro_modules,
    wbs_buttons_source,
    xlwings_module_source,
)

REPO = Path(__file__).resolve().parents[1]
SHEETS = ("Sheet1",)
_DOCUMENT_BASIC = "?language=Basic&location=document"
XLWINGS_DIR = Path(importlib.util.find_spec("xlwings").origin).parent


def _chunks(container: bytes) -> list[tuple[bool, int]]:
    """(compressed flag, decompressed size) of each chunk in an MS-OVBA CompressedContainer."""
    found, pos = [], 1
    while pos < len(container):
        header = struct.unpack_from("<H", container, pos)[0]
        size = (header & 0x0FFF) + 3
        found.append((bool(header & 0x8000), len(decompress_stream(b"\x01" + container[pos : pos + size]))))
        pos += size
    return found


def _decrypt(hex_text: str) -> tuple[int, int, bytes]:
    """MS-OVBA 2.4.3.3 data decryption: return (version, project key, data)."""
    raw = bytes.fromhex(hex_text)
    seed, version_enc, key_enc = raw[:3]
    unencrypted_1, encrypted_1, encrypted_2 = seed ^ key_enc, key_enc, version_enc
    plain = bytearray()
    for byte_enc in raw[3:]:
        byte = byte_enc ^ ((encrypted_2 + unencrypted_1) & 0xFF)
        plain.append(byte)
        encrypted_2, encrypted_1, unencrypted_1 = encrypted_1, byte_enc, byte
    ignored = (seed & 6) // 2
    length = int.from_bytes(plain[ignored : ignored + 4], "little")
    assert len(plain) == ignored + 4 + length
    return seed ^ version_enc, seed ^ key_enc, bytes(plain[ignored + 4 :])


def _xlsm(path: Path, project: bytes) -> Path:
    """An .xlsm made the way the template builder makes it: XlsxWriter, code names, one button per macro."""
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Plan")
    workbook.set_vba_name("ThisWorkbook")
    sheet.set_vba_name(SHEETS[0])
    workbook.add_vba_project(io.BytesIO(project), is_stream=True)
    for row, button in enumerate(BUTTONS):
        sheet.insert_button(row * 3, 1, {"macro": button.macro, "caption": button.caption, "width": 160})
    workbook.close()
    return path


# --- MS-OVBA compression ---------------------------------------------------------------------


def test_compression_matches_the_specification_examples() -> None:
    # MS-OVBA 3.2.1 (no compression) and 3.2.2 (normal compression)
    assert ovba.compress(b"abcdefghijklmnopqrstuv.") == bytes.fromhex(
        "01 19 B0 00 61 62 63 64 65 66 67 68 00 69 6A 6B 6C 6D 6E 6F 70 00 71 72 73 74 75 76 2E"
    )
    assert ovba.compress(b"#aaabcdefaaaaghijaaaaaklaaamnopqaaaaaaaaaaaarstuvwxyzaaa") == bytes.fromhex(
        "01 2F B0 00 23 61 61 61 62 63 64 65 82 66 00 70 61 67 68 69 6A 01 38 08 61 6B 6C 00 20 6D 6E 6F"
        " 70 06 71 02 70 04 00 72 73 74 75 76 10 77 78 79 7A 00 2C"
    )


def _samples(size: int) -> dict[str, bytes]:
    rng = random.Random(size)
    text = xlwings_module_source().encode("cp1252")
    return {
        "random": rng.randbytes(size),
        "one byte": b"a" * size,
        "period 7": (b"RunPyt" + b"\n") * (size // 7) + b"R" * (size % 7),
        "low entropy": bytes(rng.choice(b"ab \r\n") for _ in range(size)),
        "vba text": (text * (size // len(text) + 1))[:size],
    }


@pytest.mark.parametrize("size", [0, 1, 2, 3, 4095, 4096, 4097, 8191, 8193, 100_000])
def test_compression_round_trips_through_oletools(size: int) -> None:
    for kind, data in _samples(size).items():
        container = ovba.compress(data)
        assert decompress_stream(container) == data, (kind, size)
        chunks = _chunks(container)
        assert all(decompressed == ovba.CHUNK_SIZE for _, decompressed in chunks[:-1]) or kind == "random"
        if kind != "random":
            assert all(compressed for compressed, _ in chunks), kind
            assert len(chunks) == math.ceil(size / ovba.CHUNK_SIZE)


def test_incompressible_full_chunks_are_stored_raw() -> None:
    data = random.Random(1).randbytes(3 * ovba.CHUNK_SIZE)
    assert _chunks(ovba.compress(data)) == [(False, ovba.CHUNK_SIZE)] * 3


def test_xlwings_module_compresses_into_full_compressed_chunks() -> None:
    source = xlwings_module_source().encode("cp1252")
    chunks = _chunks(ovba.compress(source))
    full = len(chunks) - 1
    assert len(source) > 40_000
    assert chunks == [(True, ovba.CHUNK_SIZE)] * full + [(True, len(source) - full * ovba.CHUNK_SIZE)]


def test_incompressible_tail_is_split_rather_than_padded() -> None:
    """A raw chunk always holds 4096 bytes; a short incompressible tail goes into literal-only chunks."""
    data = random.Random(2).randbytes(ovba.CHUNK_SIZE + 4000)
    chunks = _chunks(ovba.compress(data))
    assert chunks[0] == (False, ovba.CHUNK_SIZE) and all(compressed for compressed, _ in chunks[1:])
    assert sum(size for _, size in chunks) == len(data)


# --- MS-OVBA encryption of the PROJECT protection fields ---------------------------------------


def test_decryption_reads_an_office_written_project() -> None:
    """The decryptor used below agrees with a PROJECT stream that Office wrote (xlwings' quickstart)."""
    with zipfile.ZipFile(XLWINGS_DIR / "quickstart_standalone.xlsm") as package:
        ole = olefile.OleFileIO(package.read("xl/vbaProject.bin"))
    text = ole.openstream("PROJECT").read().decode("cp1252")
    fields = dict(re.findall(r'^(\w+)="([^"]*)"', text, re.MULTILINE))
    key = sum(fields["ID"].encode()) & 0xFF
    assert _decrypt(fields["CMG"]) == (2, key, bytes(4))
    assert _decrypt(fields["DPB"]) == (2, key, b"\0")
    assert _decrypt(fields["GC"]) == (2, key, b"\xff")


@pytest.mark.parametrize("seed", [0, 1, 2, 4, 6, 0x42, 0xFF])
def test_encryption_round_trips(seed: int) -> None:
    project_id = "{5CF9CDAB-B77B-4FE4-BD7E-D29900070E1B}"
    for data in (b"", b"\0", b"\xff", bytes(4), b"secret text"):
        assert _decrypt(ovba.encrypt(data, project_id, seed)) == (2, sum(project_id.encode()) & 0xFF, data)


# --- MS-CFB ------------------------------------------------------------------------------------


def _check_red_black(ole: olefile.OleFileIO) -> None:
    """Every storage's children form a binary search tree in CFB name order, validly red-black."""
    entries = ole.direntries

    def walk(sid: int, parent_red: bool) -> tuple[list[str], int]:
        if sid == cfb.NOSTREAM:
            return [], 1
        entry = entries[sid]
        red = entry.color == 0
        assert not (red and parent_red), "two red nodes in a row"
        left, left_black = walk(entry.sid_left, red)
        right, right_black = walk(entry.sid_right, red)
        assert left_black == right_black, "unequal black heights"
        return [*left, entry.name, *right], left_black + (0 if red else 1)

    for entry in entries:
        if entry is not None and entry.entry_type in (olefile.STGTY_STORAGE, olefile.STGTY_ROOT):
            assert entry.sid_child == cfb.NOSTREAM or entries[entry.sid_child].color == 1
            names, _ = walk(entry.sid_child, False)
            keys = [(len(name), name.upper()) for name in names]
            assert keys == sorted(keys) and len(set(keys)) == len(keys)


@pytest.mark.parametrize("count", [0, 1, 2, 3, 4, 5, 7, 8, 9, 30])
def test_compound_file_parses_strictly(count: int) -> None:
    rng = random.Random(count)
    sizes = [0, 5, 64, 4095, 4096, 9000]
    streams = {f"S/M{i:02d}x{'y' * (i % 5)}": rng.randbytes(rng.choice(sizes)) for i in range(count)}
    streams |= {"PROJECT": b"text", "VBA/dir": b"d" * 4096, "VBA/_VBA_PROJECT": b"\xcc\x61\xff\xff\0\0\0"}
    data = cfb.build_compound_file(streams)
    assert len(data) % cfb.SECTOR_SIZE == 0
    ole = olefile.OleFileIO(data, raise_defects=olefile.DEFECT_INCORRECT)
    for path, content in streams.items():
        assert ole.openstream(path).read() == content
    assert {"/".join(p) for p in ole.listdir()} == set(streams)
    header = (ole.header_signature, ole.dll_version, ole.minor_version, ole.sector_size, ole.mini_sector_size)
    assert header == (olefile.MAGIC, 3, 0x3E, 512, 64)
    assert ole.root.clsid == "" and all(not e.createTime and not e.modifyTime for e in ole.direntries if e)
    _check_red_black(ole)


def test_compound_file_rejects_bad_names() -> None:
    for path in ("VBA/" + "x" * 32, "VBA/a:b", "VBA/", "PROJECT/inner"):
        with pytest.raises(ValueError):
            cfb.build_compound_file({"PROJECT": b"", path: b""})


# --- the VBA project ---------------------------------------------------------------------------


def test_dir_stream_and_project_parse_strictly() -> None:
    data = build_macro_project(SHEETS)
    ole = olefile.OleFileIO(data, raise_defects=olefile.DEFECT_INCORRECT)
    project = VBA_Project(ole, "", "PROJECT", "VBA/dir", relaxed=False)
    project.parse_project_stream()
    codes = {module: code for _, module, code in project.parse_modules()}
    assert (project.syskind, project.lcid, project.codepage, project.projectname) == (1, 0x409, 1252, "VBAProject")
    described = {m.name: (m.streamname, m.textoffset, m.type) for m in project.modules}
    assert described == {
        "ThisWorkbook": ("ThisWorkbook", 0, 0x22),
        "Sheet1": ("Sheet1", 0, 0x22),
        "WbsButtons": ("WbsButtons", 0, 0x21),
        "xlwings": ("xlwings", 0, 0x21),
    }
    assert set(codes) == {"ThisWorkbook.cls", "Sheet1.cls", "WbsButtons.bas", "xlwings.bas"}
    assert ole.openstream("VBA/_VBA_PROJECT").read() == bytes.fromhex("CC61FFFF000000")
    assert ole.openstream("PROJECTwm").read().startswith(b"ThisWorkbook\0T\0h\0")
    text = ole.openstream("PROJECT").read().decode("cp1252")
    fields = dict(re.findall(r'^(\w+)="([^"]*)"', text, re.MULTILINE))
    key = sum(fields["ID"].encode()) & 0xFF
    assert _decrypt(fields["CMG"]) == (2, key, bytes(4))  # no protection
    assert _decrypt(fields["DPB"]) == (2, key, b"\0")  # no password
    assert _decrypt(fields["GC"]) == (2, key, b"\xff")  # visible
    assert "Document=ThisWorkbook/&H00000000\r\nDocument=Sheet1/&H00000000\r\nModule=WbsButtons\r\n" in text
    assert "\r\n[Host Extender Info]\r\n" in text and text.endswith("xlwings=0, 0, 0, 0, C\r\n")


def test_builds_are_byte_identical() -> None:
    first, second = build_macro_project(SHEETS), build_macro_project(SHEETS)
    assert first == second
    assert build_macro_project(("Sheet1", "Sheet2")) != first


def test_olevba_extracts_every_module_exactly_from_an_xlsm(tmp_path: Path) -> None:
    path = _xlsm(tmp_path / "plan.xlsm", build_macro_project(SHEETS))
    parser = VBA_Parser(str(path))
    assert parser.detect_vba_macros()
    extracted = {stream: code for _, stream, _, code in parser.extract_macros()}
    parser.close()
    modules = macro_modules(SHEETS)
    assert extracted == {f"VBA/{m.name}": m.stored_text() for m in modules}
    assert extracted["VBA/xlwings"] == (XLWINGS_DIR / "xlwings.bas").read_bytes().decode("cp1252")
    assert extracted["VBA/WbsButtons"] == (REPO / "macros" / "WbsButtons.bas").read_bytes().decode("cp1252")
    assert extracted["VBA/ThisWorkbook"].startswith(
        'Attribute VB_Name = "ThisWorkbook"\r\nAttribute VB_Base = "0{00020819-0000-0000-C000-000000000046}"\r\n'
    )
    with zipfile.ZipFile(path) as package:
        content_types = package.read("[Content_Types].xml").decode()
        vml = package.read("xl/drawings/vmlDrawing1.vml").decode()
    assert "application/vnd.ms-excel.sheet.macroEnabled.main+xml" in content_types
    assert re.findall(r"<x:FmlaMacro>\[0\]!(\w+)</x:FmlaMacro>", vml) == [b.macro for b in BUTTONS]


def test_olevba_extracts_large_class_and_non_ascii_modules(tmp_path: Path) -> None:
    big = "".join(f'Public Sub Step{i}()\r\n    Debug.Print "step {i} of the plan"\r\nEnd Sub\r\n' for i in range(3000))
    modules = [
        VbaModule("ThisWorkbook", "Private Sub Workbook_Open()\r\nEnd Sub\r\n", ModuleKind.DOCUMENT),
        VbaModule("Sheet1", "", ModuleKind.DOCUMENT),
        VbaModule("Tracker", "Public Owner As String ' Responsable: Zoë, 5 €\r\n", ModuleKind.CLASS),
        VbaModule("Steps", big),
    ]
    assert len(big) > 150_000
    path = _xlsm(tmp_path / "big.xlsm", build_vba_project(modules))
    parser = VBA_Parser(str(path))
    extracted = {stream: code for _, stream, _, code in parser.extract_macros()}
    parser.close()
    assert extracted == {f"VBA/{m.name}": m.stored_text() for m in modules}
    assert "Zoë, 5 €" in extracted["VBA/Tracker"]


# --- sources -----------------------------------------------------------------------------------


def test_button_macros_call_runpython_once_each() -> None:
    shipped = (REPO / "src/wbs_tools/excel/macros/WbsButtons.bas").read_bytes()
    assert (REPO / "macros" / "WbsButtons.bas").read_bytes() == shipped, (
        "src/wbs_tools/excel/macros/WbsButtons.bas is the source of truth: copy it to macros/WbsButtons.bas"
    )
    text = wbs_buttons_source()
    assert text.startswith('Attribute VB_Name = "WbsButtons"\r\n') and "\n" not in text.replace("\r\n", "")
    subs = re.findall(r'^Public Sub (\w+)\(\)\r\n    RunPython "([^"]+)"\r\nEnd Sub\r\n', text, re.MULTILINE)
    assert subs == [(b.macro, b.python) for b in BUTTONS]
    assert len(re.findall(r"\bSub\b", text)) == 2 * len(BUTTONS)


def test_xlwings_module_is_the_installed_version() -> None:
    source = xlwings_module_source()
    version = importlib.metadata.version("xlwings")
    assert source.startswith('Attribute VB_Name = "xlwings"\r\n')
    assert f"'Version: {version}\r\n" in source and f'XLWINGS_VERSION As String = "{version}"' in source
    assert "Function RunPython(" in source and f"xlwings64-{version}.dll" in source


def test_module_text_gets_the_attributes_its_kind_needs() -> None:
    assert VbaModule("M", "Sub a()\nEnd Sub").stored_text() == 'Attribute VB_Name = "M"\r\nSub a()\r\nEnd Sub\r\n'
    document = VbaModule("Sheet2", "", ModuleKind.DOCUMENT).stored_text()
    assert 'VB_Base = "0{00020820-0000-0000-C000-000000000046}"\r\n' in document
    exported_class = 'VERSION 1.0 CLASS\nBEGIN\n  MultiUse = -1  \'True\nEND\nAttribute VB_Name = "C"\nPublic x\n'
    assert VbaModule("C", exported_class, ModuleKind.CLASS).stored_text() == 'Attribute VB_Name = "C"\r\nPublic x\r\n'


@pytest.mark.parametrize(
    ("modules", "message"),
    [
        ([VbaModule("Module1", "")], "ThisWorkbook"),
        ([VbaModule("ThisWorkbook", "", ModuleKind.DOCUMENT), VbaModule("1bad", "")], "invalid"),
        ([VbaModule("ThisWorkbook", "", ModuleKind.DOCUMENT), VbaModule("thisworkbook", "")], "duplicate"),
        ([VbaModule("ThisWorkbook", "", ModuleKind.DOCUMENT), VbaModule("M", "' \u2192")], "code page"),
        ([VbaModule("ThisWorkbook", "", ModuleKind.DOCUMENT), VbaModule("M", 'Attribute VB_Name = "N"')], "VB_Name"),
    ],
)
def test_invalid_projects_are_refused(modules: list[VbaModule], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_vba_project(modules)


# --- LibreOffice as the stand-in for Excel -----------------------------------------------------

_UNO_PROBE = '''
"""Open workbooks in a private headless LibreOffice; report VBA modules and button macros as JSON."""
import json, subprocess, sys, time, uuid
import uno
from com.sun.star.beans import PropertyValue


def prop(name, value):
    result = PropertyValue()
    result.Name, result.Value = name, value
    return result


job = json.loads(sys.argv[1])
pipe = "wbs" + uuid.uuid4().hex
office = subprocess.Popen(
    ["soffice", "--headless", "--invisible", "--norestore", "--nologo", "--nodefault",
     "-env:UserInstallation=" + uno.systemPathToFileUrl(job["profile"]), "--accept=pipe,name=%s;urp;" % pipe],
    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
desktop, reports = None, []
try:
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.monotonic() + 25
    while True:
        try:
            ctx = resolver.resolve("uno:pipe,name=%s;urp;StarOffice.ComponentContext" % pipe)
            break
        except Exception:
            if time.monotonic() > deadline or office.poll() is not None:
                raise
            time.sleep(0.2)
    desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    for path, press_buttons in job["documents"]:
        # MacroExecutionMode 4: ALWAYS_EXECUTE_NO_WARN
        args = (prop("Hidden", True), prop("MacroExecutionMode", 4))
        doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(path), "_blank", 0, args)
        libraries = doc.BasicLibraries
        library = libraries.getByName("VBAProject")
        report = {
            "vba_mode": libraries.VBACompatibilityMode,
            "sources": {name: library.getByName(name) for name in library.getElementNames()},
            "buttons": [],
            "pressed": {},
        }
        for index in range(doc.Sheets.Count):
            forms = doc.Sheets.getByIndex(index).DrawPage.Forms
            for form in (forms.getByIndex(f) for f in range(forms.Count)):
                for c in range(form.Count):
                    events = [(e.EventMethod, e.ScriptCode) for e in form.getScriptEvents(c)]
                    report["buttons"].append([form.getByIndex(c).Label, events])
        if press_buttons:
            provider = doc.getScriptProvider()
            for label, events in report["buttons"]:
                for method, url in events:
                    if method == "actionPerformed":
                        try:
                            provider.getScript(url).invoke((), (), ())
                            report["pressed"][label] = "ok"
                        except Exception as error:
                            report["pressed"][label] = "%s: %s" % (type(error).__name__, error)
        doc.close(True)
        reports.append(report)
finally:
    if desktop is not None:
        try:
            desktop.terminate()
        except Exception:
            pass
    try:
        office.wait(10)
    except subprocess.TimeoutExpired:
        office.kill()
print(json.dumps(reports))
'''


def _stand_in_runpython(log: Path) -> VbaModule:
    """An xlwings module whose RunPython appends its argument to ``log``: LibreOffice cannot compile
    the real xlwings.bas, and this proves what each button would hand to Python."""
    return VbaModule(
        "xlwings",
        f"Function RunPython(PythonCommand As String)\n    Dim f As Integer\n    f = FreeFile\n"
        f'    Open "{log}" For Append As #f\n    Print #f, PythonCommand\n    Close #f\nEnd Function\n',
    )


@pytest.fixture(scope="module")
def libreoffice(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Open the real macro workbook and a stand-in one in one LibreOffice run; return its reports."""
    reason = libreoffice_missing()
    if reason:
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("libreoffice")
    log = folder / "runpython.log"
    real = _xlsm(folder / "real.xlsm", build_macro_project(SHEETS))
    stand_in_modules = macro_modules(SHEETS, runpython_module=_stand_in_runpython(log))
    stand_in = _xlsm(folder / "stand_in.xlsm", build_vba_project(stand_in_modules))
    job = {"profile": str(folder / "profile"), "documents": [[str(real), False], [str(stand_in), True]]}
    stdout = run_uno_probe(_UNO_PROBE, job, timeout=60)
    real_report, stand_in_report = json.loads(stdout)
    calls = log.read_text(encoding="cp1252").splitlines() if log.exists() else []
    return {"real": real_report, "stand_in": stand_in_report, "calls": calls, "stand_in_modules": stand_in_modules}


def _as_libreoffice_shows(module: VbaModule) -> str:
    """LibreOffice's view of an imported module: a VBA-mode header, Attribute lines dropped, LF lines."""
    kind = "VBADocumentModule" if module.kind is ModuleKind.DOCUMENT else "VBAModule"
    lines = [line for line in module.stored_text().split("\r\n") if not line.startswith("Attribute ")]
    return f"Rem Attribute VBA_ModuleType={kind}\nOption VBASupport 1\n" + "\n".join(lines) + "\n"


@pytest.mark.libreoffice
def test_libreoffice_loads_every_module_of_the_real_project(libreoffice: dict) -> None:
    report = libreoffice["real"]
    assert report["vba_mode"] is True
    assert report["sources"] == {m.name: _as_libreoffice_shows(m) for m in macro_modules(SHEETS)}


@pytest.mark.libreoffice
def test_libreoffice_binds_each_button_to_its_macro(libreoffice: dict) -> None:
    for report in (libreoffice["real"], libreoffice["stand_in"]):
        expected = [
            [b.caption, [["actionPerformed", f"vnd.sun.star.script:VBAProject.WbsButtons.{b.macro}{_DOCUMENT_BASIC}"]]]
            for b in BUTTONS
        ]
        assert report["buttons"] == expected


@pytest.mark.libreoffice
def test_pressing_each_button_hands_its_command_to_runpython(libreoffice: dict) -> None:
    report = libreoffice["stand_in"]
    assert report["sources"] == {m.name: _as_libreoffice_shows(m) for m in libreoffice["stand_in_modules"]}
    assert report["pressed"] == {b.caption: "ok" for b in BUTTONS}
    assert libreoffice["calls"] == [b.python for b in BUTTONS]
    in_source = re.findall(r'^    RunPython "([^"]+)"\r$', wbs_buttons_source(), re.MULTILINE)
    assert libreoffice["calls"] == in_source
