"""The one object the CLI and UI talk to: ask, inspect, build; follows index version switches."""
from __future__ import annotations

import threading
import time
from pathlib import Path

from . import store
from .answer import Answer, Answerer
from .config import Settings
from .embed import get_embedder
from .errors import CareqaError
from .index import BuildReport, Progress, _silent, build_index, update_index
from .retrieve import Passage, Searcher


class Assistant:
    """Question answering over the live index version, reloaded when a writer switches it."""

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or Settings.from_env()
        self._lock = threading.Lock()
        self._loaded: tuple[str, Searcher, Answerer] | None = None

    # --- reading ---------------------------------------------------------------------------
    def _live(self) -> tuple[Searcher, Answerer]:
        version = store.current_version(self.settings.index_dir)
        loaded = self._loaded
        if loaded is not None and loaded[0] == version:
            return loaded[1], loaded[2]
        with self._lock:
            if self._loaded is None or self._loaded[0] != version:
                stored = store.load_live(self.settings.index_dir)
                self._loaded = (stored.version, Searcher(stored), Answerer(stored))
            return self._loaded[1], self._loaded[2]

    @property
    def manifest(self) -> dict:
        return self._live()[0].stored.manifest

    def embed_query(self, question: str):
        return get_embedder(self.manifest["embedding_model"]).encode([question])[0]

    def search(self, question: str, k: int = 5, docs: list[str] | None = None,
               section: str | None = None) -> list[Passage]:
        searcher, _ = self._live()
        return searcher.search(self.embed_query(question), question, k, docs, section)

    def ask(self, question: str, k: int = 5, docs: list[str] | None = None,
            section: str | None = None) -> Answer:
        """Answer a question with cited sentences, or abstain; filters narrow the passages."""
        question = " ".join((question or "").split())
        if not question:
            raise CareqaError("the question is empty")
        if k < 1:
            raise CareqaError(f"k must be at least 1 (got {k})")
        searcher, answerer = self._live()
        vector = self.embed_query(question)
        passages = searcher.search(vector, question, k, docs, section)
        result = answerer.answer(question, vector, passages)
        result.filters = {"k": k, "docs": list(docs or []), "section": section or ""}
        return result

    # --- inspecting ------------------------------------------------------------------------
    def documents(self) -> list[dict]:
        """Indexed documents with their metadata, chunk counts and when each was last embedded."""
        manifest = self.manifest
        docs = self._live()[0].stored.documents
        entries = {v["doc_id"]: v for v in manifest["documents"].values()}
        return [{k: v for k, v in d.items() if k not in ("text", "headings", "source_map")}
                | {"chunks": entries.get(doc_id, {}).get("chunks", 0),
                   "indexed_at": entries.get(doc_id, {}).get("indexed_at", manifest["built_at"])}
                for doc_id, d in docs.items()]

    def document(self, doc_id: str) -> dict:
        """One document's metadata, text and headings, as indexed."""
        docs = self._live()[0].stored.documents
        if doc_id not in docs:
            raise CareqaError(f"no document '{doc_id}' in the index")
        return docs[doc_id]

    def status(self) -> dict:
        m = self.manifest
        return {"index": str(self.settings.index_dir), "version": m["version"],
                "embedding_model": m["embedding_model"], "dimension": m["dimension"],
                "documents": len(m["documents"]), "chunks": m["chunks"], "built_at": m["built_at"],
                "chunker": m["chunker"], "skipped": m.get("skipped", [])}

    # --- writing ---------------------------------------------------------------------------
    def build(self, progress: Progress = _silent, notify=None) -> BuildReport:
        return build_index(self.settings, progress, notify)

    def has_index(self) -> bool:
        version = store.current_version(self.settings.index_dir)
        return version is not None and (self.settings.index_dir / version).is_dir()

    def update(self, progress: Progress = _silent, notify=None) -> BuildReport:
        """Bring the index in line with the corpus folder, embedding only what changed."""
        return update_index(self.settings, progress, notify)
