"""The errors a workbook read or write raises for the workbook's content or state."""

from __future__ import annotations


class WorkbookError(Exception):
    """The workbook cannot be read or written safely; the file on disk was not changed."""


class WorkbookLockedError(WorkbookError):
    """The workbook is open in Excel or LibreOffice (a lock file sits beside it)."""
