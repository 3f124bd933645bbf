"""The Corpus tab's events: what the index covers, adding and removing files, and rebuilding
with one progress bar. Every call goes through the Assistant."""
from __future__ import annotations

import threading
from pathlib import Path

import gradio as gr

from careqa.assistant import Assistant
from careqa.errors import CareqaError
from careqa.records import section_parts

from . import corpus_view
from .render import esc

POLL_SECONDS = 0.25  # how often the page's progress bar is brought up to date during a rebuild
SECTION_LABEL_CHARS = 90  # a section path longer than this is cut in the picker (the value keeps it whole)


def section_choices(sections: list[tuple[str, int]]) -> list[tuple[str, str]]:
    """Picker entries: 'Eastland — Country profiles (3 passages)' for each section path."""
    out = []
    for path, count in sections:
        parts = section_parts(path)
        label = parts[-1] + (f" — {' › '.join(parts[:-1])}" if len(parts) > 1 else "")
        if len(label) > SECTION_LABEL_CHARS:
            label = label[:SECTION_LABEL_CHARS - 1].rstrip() + "…"
        out.append((f"{label} ({count} passage{'s' if count != 1 else ''})", path))
    return out


class BuildTracker:
    """A rebuild run in a thread, watched by the page: its stage, counts and a bar that only
    moves forward; then its report or its error."""

    def __init__(self):
        self.stage, self.done, self.total, self.value = "", 0, 0, 0.0
        self.notes: list[str] = []
        self.report = None
        self.error = ""

    def __call__(self, stage: str, done: int, total: int) -> None:
        self.stage, self.done, self.total = stage, done, total
        self.value = max(self.value, corpus_view.fraction(stage, done, total))

    def run(self, assistant: Assistant) -> None:
        try:
            self.report = assistant.update(self, notify=self.notes.append)
        except CareqaError as exc:
            self.error = str(exc)

    def progress(self) -> str:
        return corpus_view.progress_html(self.stage, self.done, self.total, self.value,
                                         self.notes[-1] if self.notes else "")

    def outcome(self) -> str:
        if self.error:
            return f"<p><b>Rebuild failed:</b> {esc(self.error)} The previous index is still in use.</p>"
        return corpus_view.report_html(self.report)


class CorpusEvents:
    """Handlers of the Corpus and Status tabs, and of everything shown that a rebuild changes."""

    def __init__(self, assistant: Assistant):
        self.assistant = assistant

    def documents(self) -> list[dict]:
        try:
            return [d.to_dict() for d in self.assistant.documents()]
        except CareqaError:
            return []

    def choices(self, docs: list[dict]) -> dict[str, list]:
        """What the pickers offer: files to remove, documents and sections to filter by."""
        pending, gone = self.assistant.folder_changes()
        try:
            sections = self.assistant.sections()
        except CareqaError:
            sections = []
        return {"files": sorted({d["path"] for d in docs} - set(gone) | set(pending)),
                "docs": [(d["title"], d["doc_id"]) for d in docs], "sections": section_choices(sections),
                "pending": pending, "gone": gone}

    def views(self):
        """Outputs: header, summary, table, remove picker, document filter, section picker, status."""
        docs = self.documents()
        offered = self.choices(docs)
        try:
            status = self.assistant.status()
            status_html = corpus_view.status_html(status)
        except CareqaError as exc:
            status, status_html = None, corpus_view.status_html(None, str(exc))
        return (corpus_view.header_html(docs, bool(self.assistant.settings.llm_url)),
                corpus_view.corpus_summary(docs, status, offered["pending"], offered["gone"]),
                corpus_view.document_rows(docs), gr.update(choices=offered["files"], value=None),
                gr.update(choices=offered["docs"]), gr.update(choices=offered["sections"]), status_html)

    def add(self, files: list[str] | None, title: str, publisher: str, date: str, url: str, replace: bool):
        """Add uploaded files with the metadata given; outputs: the result, and whether any was added."""
        if not files:
            raise gr.Error("Choose one or more files to add first.")
        if len(files) > 1 and (title.strip() or url.strip()):
            raise gr.Error(f"A title or web address belongs to one file: add the {len(files)} files one at a time.")
        lines = []
        for path in files:
            name = Path(path).name
            try:
                self.assistant.add_file(Path(path), name, replace=replace, title=title, publisher=publisher,
                                        date=date, url=url)
                lines.append(f"<li>Added <code>{esc(name)}</code>.</li>")
            except CareqaError as exc:
                message = str(exc)
                lines.append(f"<li>{esc(message[:1].upper() + message[1:])}</li>")
        added = any(line.startswith("<li>Added") for line in lines)
        tail = "<p>Rebuild the index to make the new documents answerable.</p>" if added else ""
        return f"<ul>{''.join(lines)}</ul>{tail}", added

    @staticmethod
    def after_add(added: bool):
        """The upload form cleared once something was added (kept for correction otherwise)."""
        return (None, "", "", "", "", False) if added else (gr.skip(),) * 6

    def remove(self, path: str | None) -> str:
        if not path:
            raise gr.Error("Choose a document to remove first.")
        try:
            self.assistant.remove_document(path)
        except CareqaError as exc:
            return f"<p>{esc(str(exc))}</p>"
        return f"<p>Removed <code>{esc(path)}</code> from the corpus folder. Rebuild the index to drop it.</p>"

    def rebuild(self):
        """Bring the index up to date in a thread; yields (progress bar, result) as it goes, so
        the table and everything else stay on screen until the new version is live."""
        tracker = BuildTracker()
        worker = threading.Thread(target=tracker.run, args=(self.assistant,), name="careqa-rebuild", daemon=True)
        worker.start()
        while worker.is_alive():
            yield tracker.progress(), gr.skip()
            worker.join(POLL_SECONDS)
        yield "", tracker.outcome()
