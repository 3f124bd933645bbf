"""The one object the CLI and the app call: ask, inspect, build, update, verify, change the corpus.

Reading follows the live index version (reloaded when a writer switches it) and is safe from
several threads at once. Writing (upkeep.py) holds the index's writer lock; `wait` bounds how
long a second writer waits for it. Ingest modules (loading, chunking, indexing) are imported
only by the writing methods, so answering a question never loads them.
"""
from __future__ import annotations

import threading
from typing import Iterator

from .answer import combine, find, respond
from .config import Settings
from .embed import get_query_embedder
from .errors import CareqaError
from .followup import in_context, rewrite
from .grounded import model_answer
from .llm import Endpoint
from .question import analyse, split_compound
from .records import Answer, DocumentInfo, Passage
from .retrieve import Searcher
from .store import open_store
from .upkeep import Upkeep


def checked_question(question: str, limit: int, what: str = "the question") -> str:
    """The question on one line; CareqaError, one line, when it is empty, longer than `limit`
    characters (checked before any work, so a pasted document costs nothing) or has no word in it."""
    question = "" if question is None else question
    if not isinstance(question, str):
        raise CareqaError(f"{what} must be text (got {type(question).__name__})")
    if len(question) > limit:
        raise CareqaError(f"{what} is {len(question):,} characters long, over the {limit:,}-character limit "
                          "(CAREQA_MAX_QUESTION_CHARS); ask it in fewer words")
    question = " ".join(question.split())
    if not question:
        raise CareqaError(f"{what} is empty")
    if not any(c.isalnum() for c in question):
        raise CareqaError(f"{what} has no words in it ({question[:20]!r}); ask about something the documents cover")
    return question


class Assistant(Upkeep):
    """Question answering over the live index version; the writes that change it: Upkeep."""

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or Settings.from_env()
        self.store = open_store(self.settings)
        self._lock = threading.Lock()
        self._loaded: tuple[str, Searcher] | None = None

    # --- reading ---------------------------------------------------------------------------
    def _live(self) -> Searcher:
        version = self.store.current()
        loaded = self._loaded
        if loaded is not None and loaded[0] == version:
            return loaded[1]
        with self._lock:
            if self._loaded is None or self._loaded[0] != version:
                stored = self.store.load()
                self._loaded = (stored.version, Searcher(stored, self.settings.fusion, self.settings.fusion_weight))
            return self._loaded[1]

    @property
    def manifest(self) -> dict:
        return self._live().stored.manifest

    def embed_query(self, question: str):
        """The question's vector, from the model that built the index (ONNX Runtime, no torch)."""
        return get_query_embedder(self.manifest["embedding_model"], self.settings.cache_dir).encode([question])[0]

    def _k(self, k: int | None) -> int:
        k = self.settings.k if k is None else k
        if not 1 <= k <= 100:
            raise CareqaError(f"k must be from 1 to 100 (got {k})")
        return k

    def search(self, question: str, k: int | None = None, docs: list[str] | None = None,
               section: str | None = None) -> list[Passage]:
        return self._live().search(self.embed_query(question), question, self._k(k), docs, section)

    def ask(self, question: str, k: int | None = None, docs: list[str] | None = None,
            section: str | None = None, history: list[str] | None = None, use_llm: bool = True) -> Answer:
        """Answer a question with cited sentences, or abstain; filters narrow the passages.
        `history` holds the conversation's earlier questions, oldest first, for follow-ups.
        With a model server configured (and `use_llm`), the model writes the answer and careqa
        checks it (see ask_stream)."""
        *_, answer = self.ask_stream(question, k, docs, section, history, use_llm)
        return answer

    def ask_stream(self, question: str, k: int | None = None, docs: list[str] | None = None,
                   section: str | None = None, history: list[str] | None = None,
                   use_llm: bool = True) -> Iterator[str | Answer]:
        """As `ask`, as it happens: pieces of the model's draft text (str, citation markers held
        back) while it writes, then the final Answer, always last and always once. Without a model
        server (or with use_llm=False) the Answer alone, exactly the extractive one."""
        limit = self.settings.max_question_chars
        question = checked_question(question, limit)
        earlier = [h for h in history or [] if isinstance(h, str) and h.strip()][-1:]  # follow-ups read the last
        k = self._k(k)
        endpoint = Endpoint.from_settings(self.settings) if use_llm else None
        searcher = self._live()
        encode = get_query_embedder(searcher.stored.manifest["embedding_model"], self.settings.cache_dir).encode
        asked = rewrite(question, [checked_question(h, limit, "the earlier question") for h in earlier],
                        searcher.stored)
        analysis = analyse(asked, searcher.stored)
        q = encode([asked])[0]
        found = find(searcher, asked, q, analysis, k, docs, section)
        result = respond(searcher, asked, q, analysis, k, docs, section, found)
        parts = split_compound(asked)
        if len(parts) > 1:
            asked_parts = [in_context(p, parts[0], searcher.stored) if i else p for i, p in enumerate(parts)]
            answers = [respond(searcher, p, encode([p])[0], analyse(p, searcher.stored), k, docs, section)
                       for p in asked_parts]
            result = combine(result, answers)
        result.question, result.rewritten = question, (asked if asked != question else "")
        result.filters = {"k": k, "docs": list(docs or []), "section": section or "", **result.filters}
        if endpoint is None:
            yield result
        else:
            yield from model_answer(endpoint, encode, asked, analysis, found, result, self.settings.llm_passage_tokens)

    # --- inspecting ------------------------------------------------------------------------
    def documents(self) -> list[DocumentInfo]:
        """Indexed documents with their metadata, passage counts and when each was last embedded."""
        stored = self._live().stored
        manifest = stored.manifest
        entries = {v["doc_id"]: v for v in manifest["documents"].values()}
        out = []
        for doc_id, d in stored.documents.items():
            entry = entries.get(doc_id, {})
            out.append(DocumentInfo(doc_id=doc_id, path=d["path"], title=d["title"], publisher=d.get("publisher", ""),
                                    date=d.get("date", ""), url=d.get("url", ""), kind=d.get("kind", ""),
                                    short=d.get("short", ""), chunks=entry.get("chunks", 0),
                                    indexed_at=entry.get("indexed_at", manifest["built_at"])))
        return out

    def document(self, doc_id: str) -> dict:
        """One document's metadata, text and headings, as indexed."""
        stored = self._live().stored
        if doc_id not in stored.documents:
            raise CareqaError(f"no document '{doc_id}' in the index")
        return stored.document(doc_id)

    def sections(self) -> list[tuple[str, int]]:
        """Every section path of the index with its number of passages, in document order."""
        return self._live().stored.sections()

    def status(self) -> dict:
        """What the live manifest says (read alone: no index part is opened)."""
        m = self.store.manifest()
        return {"index": self.store.location(), "version": m["version"],
                "embedding_model": m["embedding_model"], "dimension": m["dimension"],
                "documents": len(m["documents"]), "chunks": m["chunks"], "built_at": m["built_at"],
                "chunker": m["chunker"], "skipped": m.get("skipped", [])}

    def has_index(self) -> bool:
        return self.store.current() is not None
