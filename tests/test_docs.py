"""Generated reference pages must match the code they are generated from."""

from pathlib import Path

from wbs_tools.core.findings import findings_markdown

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_findings_page_is_up_to_date():
    assert (DOCS / "findings.md").read_text() == findings_markdown(), "regenerate docs/findings.md"
