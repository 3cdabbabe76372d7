"""Builds the engine as C extensions with mypyc when a wheel is built (``pip install .``).

The scheduler, the workbook reader and the lossless writer are plain typed Python; mypyc compiles
them, which takes about 14% off the CPU a refresh costs (``BENCHMARKS.md``), with byte-identical results
(``tests/test_compiled.py``). The Python sources stay the reference:

- an editable install (``pip install -e .``) is never compiled, so an edit takes effect at once;
- ``WBS_TOOLS_COMPILE=0`` builds a pure-Python wheel, ``=1`` insists on compiling (the build fails
  without a C compiler); unset, it compiles where a C compiler and the Python headers are found
  (Windows: only with ``=1``, once the Visual C++ Build Tools are installed).
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import sysconfig
import tempfile
from pathlib import Path

#: the packages a refresh runs through; the front ends, reports and batch runner stay interpreted
PACKAGES = ["wbs_tools/core", "wbs_tools/workbook"]
#: modules of those packages that stay interpreted, and why
INTERPRETED = {
    "wbs_tools/core/date_words.py": "subclasses a dateutil class",
    "wbs_tools/core/status/rules.py": "reads its own type hints to coerce settings; once per refresh",
    "wbs_tools/workbook/lossless.py": "a few calls per refresh; the tests replace its steps to fail them",
    "wbs_tools/workbook/template.py": "builds new workbooks through XlsxWriter, not on the refresh path",
    "wbs_tools/workbook/sample.py": "the sample plan's data",
    "wbs_tools/workbook/layout_doc.py": "writes the layout's documentation",
}
HERE = Path(__file__).resolve().parent


def compiled_sources() -> list[str]:
    """The modules mypyc compiles, as paths relative to this folder."""
    root = HERE / "src"
    found = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            name = path.relative_to(root).as_posix()
            if path.name != "__init__.py" and name not in INTERPRETED:
                found.append(f"src/{name}")
    return found


def _c_compiler_found() -> bool:
    compiler = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()[0]
    headers = Path(sysconfig.get_paths()["include"], "Python.h")
    return os.name == "posix" and shutil.which(compiler) is not None and headers.is_file()


def _compiling(argv: list[str]) -> bool:
    choice = os.environ.get("WBS_TOOLS_COMPILE", "")
    # the PEP 517 hooks run this file once per step: only a build step compiles (metadata steps need
    # nothing; an editable install's step is ``editable_wheel``, never compiled)
    building = any(arg in ("bdist_wheel", "build", "build_ext", "install") for arg in argv[1:])
    if choice == "0" or not building:
        return False
    return choice == "1" or _c_compiler_found()


def main() -> None:
    from setuptools import setup

    # a fresh build folder each time: a module moved to INTERPRETED must not ship as a stale extension
    build = tempfile.mkdtemp(prefix="wbs_tools-build-")
    atexit.register(shutil.rmtree, build, True)
    ext_modules = []
    if _compiling(sys.argv):
        from mypyc.build import mypycify

        running = f"{sys.version_info.major}.{sys.version_info.minor}"  # pyproject's is the oldest supported
        ext_modules = mypycify(["--config-file", str(HERE / "pyproject.toml"), "--python-version", running,
                                *compiled_sources()], opt_level="3", multi_file=True,
                               target_dir=os.path.join(build, "mypyc"))
    setup(ext_modules=ext_modules,
          options={"build": {"build_base": build}, "build_ext": {"parallel": os.cpu_count() or 1}})


if __name__ == "__main__":  # setuptools runs this file as __main__; the tests read its lists
    main()
