"""The Corpus tab's events: what the index covers, adding and removing files, and rebuilding
with one progress bar, its estimate and a way to cancel it. Every call goes through the Assistant."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import gradio as gr
from gradio.utils import get_upload_folder

from careqa.assistant import Assistant
from careqa.errors import BuildCancelled, CareqaError
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
        self.cancel = threading.Event()

    def __call__(self, stage: str, done: int, total: int) -> None:
        """Progress from the build; stops it (BuildCancelled) once asked to, until it writes."""
        if self.cancel.is_set():
            raise BuildCancelled("the rebuild was cancelled before anything was written")
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
        if self.error and self.cancel.is_set():
            return "<p><b>Rebuild cancelled</b> before anything was written: the previous index is still in use.</p>"
        if self.error:
            return f"<p><b>Rebuild failed:</b> {esc(self.error)} The previous index is still in use.</p>"
        return corpus_view.report_html(self.report)


class CorpusEvents:
    """Handlers of the Corpus and Status tabs, and of everything shown that a rebuild changes."""

    def __init__(self, assistant: Assistant):
        self.assistant = assistant
        self.building: BuildTracker | None = None

    def documents(self) -> list[dict]:
        try:
            return [d.to_dict() for d in self.assistant.documents()]
        except CareqaError:
            return []

    def choices(self, docs: list[dict]) -> dict[str, list]:
        """What the pickers offer: files to remove, documents and sections to filter by."""
        pending, gone = self.assistant.folder_changes([d["path"] for d in docs])
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
        added = self.assistant.provenance()
        return (corpus_view.header_html(docs, bool(self.assistant.settings.llm_url)),
                corpus_view.corpus_summary(docs, status, offered["pending"], offered["gone"], added),
                corpus_view.document_rows(docs, added), gr.update(choices=offered["files"], value=None),
                gr.update(choices=offered["docs"]), gr.update(choices=offered["sections"]), status_html)

    def add(self, files: list[str] | None, title: str, publisher: str, date: str, url: str, replace: bool,
            request: gr.Request):
        """Add uploaded files with the metadata given, noting who added them; outputs: the result,
        and whether any was added. An added file's upload is deleted at once (the corpus has its copy)."""
        if not files:
            raise gr.Error("Choose one or more files to add first.")
        if len(files) > 1 and (title.strip() or url.strip()):
            raise gr.Error(f"A title or web address belongs to one file: add the {len(files)} files one at a time.")
        lines = []
        for path in files:
            name = Path(path).name
            try:
                self.assistant.add_file(Path(path), name, replace=replace, title=title, publisher=publisher,
                                        date=date, url=url, added_by=who(request))
                forget_upload(Path(path))
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
        """Bring the index up to date in a thread; yields (progress bar, result, cancel button) as
        it goes, so the table and everything else stay on screen until the new version is live."""
        tracker = self.building = BuildTracker()
        worker = threading.Thread(target=tracker.run, args=(self.assistant,), name="careqa-rebuild", daemon=True)
        worker.start()
        shown = gr.update(visible=True, value=corpus_view.CANCEL, interactive=True)
        while worker.is_alive():
            yield tracker.progress(), gr.skip(), shown
            shown = gr.skip()
            worker.join(POLL_SECONDS)
        self.building = None
        yield "", tracker.outcome(), gr.update(visible=False)

    def cancel(self):
        """Ask the rebuild in flight to stop (it stops before writing; the live index stays)."""
        tracker = self.building
        if tracker is None:
            return gr.update(visible=False)
        tracker.cancel.set()
        return gr.update(value="Cancelling…", interactive=False)


def who(request: gr.Request | None) -> str:
    """Who is adding a file: the logged-in user, else the address the request came from."""
    if request is None:
        return ""
    return getattr(request, "username", None) or (request.client.host if request.client else "")


def forget_upload(path: Path) -> None:
    """Delete an upload from Gradio's cache (and its folder when empty); nothing outside it."""
    cache = Path(get_upload_folder()).resolve()
    path = path.resolve()
    if cache not in path.parents:
        return
    path.unlink(missing_ok=True)
    if path.parent != cache and not any(path.parent.iterdir()):
        os.rmdir(path.parent)
