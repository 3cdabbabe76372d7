"""What the LibreOffice tests need: soffice, and a Python that can import LibreOffice's UNO bridge."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from wbs_tools.processes import run_bounded

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


def run_uno_probe(script: str, job: dict[str, object], *, timeout: float, attempts: int = 2) -> str:
    """Run ``script`` (it starts its own soffice) with the UNO Python and ``job`` as JSON; its stdout.
    A run that finishes and fails is never retried: its error is the test's failure."""
    done = _retried(lambda n: [UNO_PYTHON, "-c", script, json.dumps(dict(job, profile=f"{job['profile']}-{n}"))],
                    timeout, attempts)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def soffice(args: list[str], profile: Path, *, timeout: float, attempts: int = 2,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``soffice --headless --norestore`` on a private profile with ``args`` (a conversion)."""
    return _retried(lambda n: ["soffice", "--headless", "--norestore",
                               f"-env:UserInstallation=file://{profile}-{n}", *args], timeout, attempts, env)


def _retried(command: Callable[[int], list[str]], timeout: float, attempts: int,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """A headless soffice now and then hangs while it starts or closes, however simple the document:
    a run that does not finish in ``timeout`` is killed with every process it started and run once
    more (``command(n)`` for run ``n``, on a fresh profile)."""
    for attempt in range(1, attempts + 1):
        done = run_bounded(command(attempt), timeout, env=env)
        if done is not None:
            return done
    pytest.fail(f"LibreOffice did not finish within {timeout:.0f} s, {attempts} times")
