"""Batch refresh and portfolio of a folder of plan workbooks, on local processes or a Dask cluster.

>>> report = refresh_paths(["plans/"], recursive=True, jobs=4)  # doctest: +SKIP
>>> report.counts["refreshed"], report.exit_code  # doctest: +SKIP
(212, 0)
"""

from wbs_tools.batch.report import BatchReport
from wbs_tools.batch.runner import (
    ExecutorError,
    FileOutcome,
    FileRecord,
    Job,
    collect,
    discover,
    fingerprint,
    inspect,
    is_plan,
    refresh_one,
    refresh_paths,
    run_jobs,
)

__all__ = [
    "BatchReport",
    "ExecutorError",
    "FileOutcome",
    "FileRecord",
    "Job",
    "collect",
    "discover",
    "fingerprint",
    "inspect",
    "is_plan",
    "refresh_one",
    "refresh_paths",
    "run_jobs",
]
