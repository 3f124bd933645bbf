"""The writes that change an index and its corpus folder, and what the app shows about the folder.

A mixin of Assistant (it reads `settings`, `store` and the reading methods of Assistant). Ingest
modules are imported inside each method, so answering a question never loads them.
"""
from __future__ import annotations

from pathlib import Path

from .records import Progress, innermost, silent


class Upkeep:
    """Build, update and verify the index; add and remove corpus files."""

    def build(self, progress: Progress = silent, notify=None, wait: float | None = None):
        """Rebuild the whole index from the corpus folder; returns a BuildReport."""
        from .index import build_index

        return build_index(self.settings, progress, notify, wait)

    def update(self, progress: Progress = silent, notify=None, wait: float | None = None):
        """Bring the index in line with the corpus folder, embedding only what changed."""
        from .index import update_index

        return update_index(self.settings, progress, notify, wait)

    def ensure_index(self, progress: Progress = silent, notify=None):
        """Build the index when there is none (the first `serve`); the BuildReport, or None."""
        if self.has_index():
            return None
        if notify:
            notify(f"no index at {self.store.location()} yet; building it from {self.settings.corpus_dir}")
        return self.build(progress, notify)

    def verify(self):
        """Check the live version against its manifest, model and the corpus; a Verification."""
        from .verify import verify_index

        return verify_index(self.settings)

    def add_file(self, source: Path, name: str, replace: bool = False, *, title: str = "", publisher: str = "",
                 date: str = "", url: str = "", added_by: str = "") -> Path:
        """Copy an uploaded file into the corpus folder after checking careqa can read it; the
        metadata given (any of title, publisher, date, url), who added it and when become its
        sources.toml entry (a replaced file keeps nothing of the old one's)."""
        from .corpus import add_file

        meta = {"title": title, "publisher": publisher, "date": date, "url": url}
        return add_file(self.settings, source, name, replace, meta=meta, added_by=added_by)

    def provenance(self) -> dict[str, tuple[str, str]]:
        """(who added it, when) for each corpus file added through careqa, by path."""
        from .corpus import provenance

        return provenance(self.settings)

    def remove_document(self, path: str) -> Path:
        """Delete a corpus file and its metadata entry (the index drops it at the next update)."""
        from .corpus import remove_document

        return remove_document(self.settings, path)

    def folder_changes(self, indexed: list[str] | None = None) -> tuple[list[str], list[str]]:
        """Corpus files not indexed yet, and indexed files no longer in the folder (`indexed`: the
        indexed files' paths, when the caller has read the documents already)."""
        from .corpus import folder_changes

        if indexed is None:
            indexed = [d.path for d in self.documents()] if self.has_index() else []
        return folder_changes(self.settings, indexed)

    def original_file(self, doc_id: str) -> Path:
        """The file an indexed document was read from, refused unless it is inside the corpus folder."""
        from .corpus import document_file

        return document_file(self.settings, self.document(doc_id)["path"])

    def examples(self, limit: int = 3) -> list[str]:
        """Example questions for a first screen, from sources.toml and question-shaped headings."""
        from .corpus import example_questions

        headings = [innermost(section) for section, _ in self.sections()] if self.has_index() else []
        return example_questions(self.settings, headings, limit)
