"""Freed memory goes back to the system between the phases of a large refresh."""

from __future__ import annotations

import sys

import pytest

from wbs_tools.heap import LARGE_PLAN_TASKS, release_freed


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_pages_freed_between_survivors_go_back_after_a_large_phase() -> None:
    """Objects freed around a few that survive leave the process holding their pages; releasing them
    brings the resident size down by most of what was freed."""
    allocated = [bytes([n % 251]) * 2000 for n in range(100_000)]  # ~200 MB from the C allocator
    survivors = allocated[::200]
    del allocated
    before = _rss_mb()
    assert release_freed(LARGE_PLAN_TASKS)
    assert _rss_mb() < before - 100
    assert len(survivors) == 500


def test_a_small_plan_does_not_pay_for_it() -> None:
    assert not release_freed(LARGE_PLAN_TASKS - 1)
