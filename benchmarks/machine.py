"""What every benchmark prints about where its figures come from: commit, code, hardware, Python."""

from __future__ import annotations

import os
import platform
import resource
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], capture_output=True, text=True, cwd=HERE, check=False).stdout.strip()


def machine() -> dict[str, str]:
    """The commit and the code actually imported (a frozen copy or a dirty tree is said), and the machine."""
    import wbs_tools

    try:
        memory = f"{os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE') / 2**30:.0f} GiB"
    except (ValueError, OSError):
        memory = "unknown"
    code = Path(wbs_tools.__file__).resolve().parent
    commit = _git("rev-parse", "--short", "HEAD") or "unknown"
    if code != HERE.parent / "src" / "wbs_tools":
        commit += " (the working tree's; the code imported is not its src/)"
    elif _git("status", "--porcelain", "--untracked-files=no", "--", str(code)):
        commit += " with uncommitted changes in src/"
    return {"commit": commit, "code": str(code), "platform": platform.platform(),
            "cpu": cpu_model(), "cores": str(os.cpu_count()), "memory": memory,
            "python": f"{platform.python_implementation()} {platform.python_version()}"}
