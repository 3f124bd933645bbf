"""HTML for the corpus: the covered-documents line, the corpus summary and table, the index
status, the rebuild progress bar and the rebuild report. HTML rather than Markdown, so a file
name reads exactly as it is (Markdown would show its escapes or act on its characters)."""
from __future__ import annotations

from .render import esc

# The order a build reports its stages in (careqa.index); a stage not listed here counts as
# coming after these, so the bar still only moves forward.
COVERED_TITLE_CHARS = 48  # a long title is cut in the one-line list, so several fit on it
STAGES = ("reading documents", "embedding passages", "embedding sentences", "writing index")
COLUMNS = ["Title", "File", "Publisher", "Date", "Passages", "Indexed", "Added by"]
CANCEL = "Cancel rebuild"


def when(stamp: str) -> str:
    """'2024-05-01 14:03 UTC' from '2024-05-01T14:03:22Z'."""
    return f"{stamp[:16].replace('T', ' ')} UTC" if stamp else "never"


def header_html(docs: list[dict], model: bool = False) -> str:
    """careqa's name, what it does (a model's sentences are checked, not quoted), and one line
    naming the documents covered (short names when the metadata has them)."""
    how = "checked against" if model else "quoted from"
    brand = ('<div id="brand"><h1>careqa</h1><p>Cited answers from health and social care policy documents: '
             f"every sentence is {how} a source you can open.</p></div>")
    if not docs:
        return brand + '<p class="covered">No documents indexed yet: add some in the Corpus tab.</p>'
    titles = [d.get("short") or d["title"] for d in docs]
    shown = [t if len(t) <= COVERED_TITLE_CHARS else t[:COVERED_TITLE_CHARS - 1].rstrip() + "…" for t in titles]
    return (brand + f'<p class="covered" title="{esc("; ".join(titles))}"><b>Covers {len(docs)} '
            f'document{"s" if len(docs) != 1 else ""}:</b> {" · ".join(esc(t) for t in shown)}</p>')


def names(paths: list[str]) -> str:
    return ", ".join(f"<code>{esc(p)}</code>" for p in paths)


def added_by(path: str, added: dict[str, tuple[str, str]]) -> str:
    """'analyst, 2024-05-01 14:03 UTC' for a file added through careqa; '' for one that was not."""
    if path not in added:
        return ""
    user, stamp = added[path]
    return ", ".join(x for x in (user, when(stamp)) if x)


def corpus_summary(docs: list[dict], status: dict | None, pending: list[str], gone: list[str],
                   added: dict[str, tuple[str, str]] | None = None) -> str:
    chunks = sum(d["chunks"] for d in docs)
    built = when(status["built_at"]) if status else "never"
    lines = [f"<p><b>{len(docs)} documents, {chunks} passages</b> in the index, built {built}.</p>"]
    if pending:
        shown = [f"<code>{esc(p)}</code>" + (f" (added by {esc(added_by(p, added or {}))})" if p in (added or {})
                                             else "") for p in pending]
        lines.append(f"<p>Not in the index yet: {', '.join(shown)}. Rebuild to include them.</p>")
    if gone:
        lines.append(f"<p>Removed from the folder but still indexed: {names(gone)}. Rebuild to drop them.</p>")
    return '<div class="summary">' + "".join(lines) + "</div>"


def document_rows(docs: list[dict], added: dict[str, tuple[str, str]] | None = None) -> list[list]:
    """The corpus table's rows (COLUMNS): who added a document and when, for those added through careqa."""
    return [[d["title"], d["path"], d["publisher"], d["date"], d["chunks"], when(d["indexed_at"]),
             added_by(d["path"], added or {})] for d in docs]


def status_html(status: dict | None, error: str = "") -> str:
    if status is None:
        return f'<p class="status"><b>No index yet.</b> {esc(error)} Open the Corpus tab and rebuild.</p>'
    chunker = status["chunker"]
    rows = [("Index", f"<code>{esc(status['index'])}</code>"), ("Version", f"<code>{esc(status['version'])}</code>"),
            ("Built", when(status["built_at"])),
            ("Embedding model", f"{esc(status['embedding_model'])} ({status['dimension']} dimensions)"),
            ("Documents", status["documents"]), ("Passages", status["chunks"]),
            ("Chunking", f"{chunker['target_tokens']} tokens, {chunker['overlap_tokens']} overlap "
                         f"({chunker['encoding']})")]
    rows += [("Skipped", f"<code>{esc(s['path'])}</code>: {esc(s['reason'])}") for s in status.get("skipped", [])]
    return '<table class="status">' + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows) + "</table>"


def fraction(stage: str, done: int, total: int) -> float:
    """How far a build is, 0 to 1: each stage an equal share, its own count within it."""
    order = list(STAGES) if stage in STAGES else [*STAGES, stage]
    within = done / total if total > 0 else 0.0
    return (order.index(stage) + min(1.0, within)) / len(order)


def progress_html(stage: str, done: int, total: int, value: float, note: str = "") -> str:
    """The one progress bar of a rebuild: its stage and counts, as a native <progress>."""
    counts = f" {done} of {total}" if total > 1 else ""
    label = f"{stage[:1].upper()}{stage[1:]}{counts}" if stage else "Starting"
    extra = f'<p class="note">{esc(note)}</p>' if note else ""
    return (f'<div class="rebuild"><label for="rebuild-bar">{esc(label)}</label>'
            f'<progress id="rebuild-bar" max="1000" value="{round(value * 1000)}"></progress>{extra}</div>')


def report_html(report) -> str:
    """What a finished rebuild did, in a few lines."""
    items = [esc(line) for line in report.summary().splitlines()]
    for label, paths in (("Added", report.added), ("Changed", report.changed), ("Removed", report.removed)):
        if paths and len(paths) <= 12:
            items.append(f"{label}: {names(paths)}")
    return (f"<p><b>Index rebuilt in {report.seconds:.1f} s.</b></p><ul>"
            + "".join(f"<li>{x}</li>" for x in items) + "</ul>")
