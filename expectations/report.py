"""A static HTML report of gate results (the Data Docs of this lakehouse), one page per run."""

from __future__ import annotations

import html
from pathlib import Path

from expectations.gate import GateReport, load_reports

_STYLE = (
    "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}"
    ".FAILED{background:#fdd}.passed{background:#dfd}"
)


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


def page_name(report: GateReport) -> str:
    return f"{report.suite}-{report.validated_at.replace(':', '')}-{report.run_id[:8]}.html"


def render(report: GateReport) -> str:
    """One validation: every expectation with its severity, verdict, observation and sample."""
    rows = []
    for o in report.outcomes:
        verdict = "passed" if o.success else "FAILED"
        cells = [
            o.expectation,
            o.column or "",
            "blocking" if o.blocking else "warning",
            verdict,
            "" if o.observed is None else str(o.observed),
            "" if o.unexpected_count is None else str(o.unexpected_count),
            str(o.sample) if o.sample else "",
        ]
        tds = "".join(f"<td>{html.escape(c)}</td>" for c in cells)
        rows.append(f"<tr class='{verdict}'>{tds}</tr>")
    head = (
        f"<p>range {report.start or 'whole table'}..{report.end or ''}; run {report.run_id}; "
        f"validated {report.validated_at}</p><table><tr><th>expectation</th><th>column</th>"
        "<th>severity</th><th>result</th><th>observed</th><th>unexpected</th><th>sample</th></tr>"
    )
    return _page(
        f"{report.suite}", head + "".join(rows) + "</table><p><a href='index.html'>all runs</a></p>"
    )


def publish(report: GateReport, docs: Path, results: Path) -> Path:
    """Write ``report``'s page and rebuild the index; returns the page."""
    docs.mkdir(parents=True, exist_ok=True)
    page = docs / page_name(report)
    page.write_text(render(report))
    items = []
    for r in reversed(load_reports(results)):
        failed = len(r.failed(True)) + len(r.failed(False))
        state = "passed" if not failed else "FAILED"
        items.append(
            f"<tr class='{state}'><td><a href='{page_name(r)}'>{html.escape(r.suite)}</a></td>"
            f"<td>{r.start or ''}..{r.end or ''}</td><td>{r.validated_at}</td>"
            f"<td>{failed}</td></tr>"
        )
    table = "<table><tr><th>suite</th><th>range</th><th>validated</th><th>failed</th></tr>"
    (docs / "index.html").write_text(_page("Data quality", table + "".join(items) + "</table>"))
    return page
