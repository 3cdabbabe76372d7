"""Running a helper program that can hang (a headless browser or office suite): bounded in time.

A run past its timeout is killed with every process it started. Killing the program alone would
leave its children running, holding the output pipes open; on Windows the wait for those pipes
could then last for ever.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from typing import Any


def run_bounded(command: list[str], timeout: float, *, env: dict[str, str] | None = None
                ) -> subprocess.CompletedProcess[str] | None:
    """The finished run (text output), or None when it ran past ``timeout`` and was killed."""
    group: dict[str, Any] = ({"start_new_session": True} if os.name == "posix"
                             else {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)})
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                          text=True, env=env, **group) as run:
        try:
            stdout, stderr = run.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            if os.name == "posix":
                os.killpg(run.pid, signal.SIGKILL)
            else:
                run.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                run.communicate(timeout=10)  # a process that left the group may still hold the pipes
            return None
    return subprocess.CompletedProcess(command, run.returncode, stdout, stderr)
