"""What the LibreOffice tests need: soffice, and a Python that can import LibreOffice's UNO bridge."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

UNO_PYTHON = "/usr/bin/python3"  # Debian's python3-uno installs the bridge for the system Python only


def libreoffice_missing() -> str | None:
    """Why the LibreOffice tests cannot run here (a skip reason naming the package), or None."""
    if shutil.which("soffice") is None:
        return "LibreOffice is not installed (apt-get install libreoffice-calc-nogui)"
    has_uno = (
        Path(UNO_PYTHON).exists()
        and not subprocess.run([UNO_PYTHON, "-c", "import uno"], capture_output=True, check=False).returncode
    )
    if not has_uno:
        return f"{UNO_PYTHON} cannot import uno (apt-get install python3-uno)"
    return None
