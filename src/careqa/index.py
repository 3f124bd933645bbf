"""Building an index: load, chunk, embed, write a new version, switch to it."""
from __future__ import annotations

import platform
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Callable

import numpy as np

from . import store
from .chunk import ENCODING, Chunk, chunk_document, contextual_header
from .config import Settings
from .embed import get_embedder
from .lexical import build_bm25
from .load import Document, Skipped, load_corpus
from .sentences import sentence_spans

Progress = Callable[[str, int, int], None]


@dataclass
class BuildReport:
    """What a build or update did, for the CLI and UI to print."""

    version: str
    documents: int
    chunks: int
    embedded: int
    seconds: float
    skipped: list[Skipped] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    full_rebuild_reason: str = ""

    def summary(self) -> str:
        lines = [f"{len(self.added)} added, {len(self.changed)} changed, {len(self.removed)} removed, "
                 f"{len(self.unchanged)} unchanged; {self.embedded} chunks embedded; "
                 f"{self.documents} documents, {self.chunks} chunks in {self.seconds:.1f} s"]
        if self.full_rebuild_reason:
            lines.insert(0, f"full rebuild: {self.full_rebuild_reason}")
        lines += [f"skipped {s}" for s in self.skipped]
        return "\n".join(lines)


def _silent(stage: str, done: int, total: int) -> None:
    pass


def chunker_settings(settings: Settings) -> dict:
    return {"encoding": ENCODING, "target_tokens": settings.chunk_tokens,
            "overlap_tokens": settings.chunk_overlap, "contextual_header": True}


def package_versions() -> dict:
    names = ("careqa", "sentence-transformers", "torch", "faiss-cpu", "bm25s", "tiktoken", "numpy")
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def embed_texts(settings: Settings, texts: list[str], progress: Progress, stage: str) -> np.ndarray:
    """Embeddings in batches, reporting progress after each batch."""
    embedder = get_embedder(settings.model)
    batch = 64
    parts = []
    progress(stage, 0, len(texts))
    for i in range(0, len(texts), batch):
        parts.append(embedder.encode(texts[i:i + batch]))
        progress(stage, min(i + batch, len(texts)), len(texts))
    return np.concatenate(parts) if parts else np.zeros((0, embedder.dim), dtype="float32")


def sentence_table(docs: list[Document], chunks: list[Chunk]) -> np.ndarray:
    """(doc ordinal, start, end) of every sentence inside some chunk, unique, in text order."""
    order = {d.doc_id: i for i, d in enumerate(docs)}
    by_doc = {d.doc_id: d for d in docs}
    rows = set()
    for c in chunks:
        for a, b in sentence_spans(by_doc[c.doc_id].text, c.start, c.end):
            rows.add((order[c.doc_id], a, b))
    return np.array(sorted(rows), dtype="int64").reshape(-1, 3)


def make_faiss(vectors: np.ndarray):
    """Exact inner product on normalised vectors: cosine similarity, no recall lost."""
    import faiss

    index = faiss.IndexFlatIP(vectors.shape[1])
    if len(vectors):
        index.add(vectors)
    return index


def write_version(settings: Settings, docs: list[Document], chunks: list[Chunk], vectors: np.ndarray,
                  sent_spans: np.ndarray | None, sent_vectors: np.ndarray | None,
                  skipped: list[Skipped], started: float, extra: dict | None = None) -> Path:
    """Write a complete version folder and make it live. Call with the writer lock held."""
    import faiss

    index_dir = settings.index_dir
    version, tmp = store.new_version_dir(index_dir)
    try:
        titles = {d.doc_id: d.title for d in docs}
        faiss.write_index(make_faiss(vectors), str(tmp / "vectors.faiss"))
        bm25 = build_bm25([contextual_header(titles[c.doc_id], c.section) + c.text for c in chunks])
        bm25.save(str(tmp / "bm25"), show_progress=False)
        store.write_jsonl(tmp / "chunks.jsonl", (c.to_dict() for c in chunks))
        store.write_jsonl(tmp / "documents.jsonl", (
            {**d.meta(), "sha256": d.sha256, "text": d.text,
             "headings": [[h.title, h.level, h.start, h.end] for h in d.headings],
             "source_map": d.source_map} for d in docs))
        if sent_spans is not None:
            np.save(tmp / "sentences.npy", sent_spans)
            np.save(tmp / "sentence_vectors.npy", sent_vectors)
        counts: dict[str, int] = {}
        for c in chunks:
            counts[c.doc_id] = counts.get(c.doc_id, 0) + 1
        manifest = {
            "format": store.FORMAT_VERSION,
            "name": settings.index_name,
            "version": version,
            "embedding_model": settings.model,
            "dimension": int(vectors.shape[1]) if vectors.ndim == 2 else 0,
            "chunker": chunker_settings(settings),
            "packages": package_versions(),
            "corpus": str(settings.corpus_dir),
            "documents": {d.path: {"doc_id": d.doc_id, "sha256": d.sha256, "title": d.title,
                                   "chunks": counts.get(d.doc_id, 0)} for d in docs},
            "chunks": len(chunks),
            "sentences": 0 if sent_spans is None else int(len(sent_spans)),
            "skipped": [{"path": s.path, "reason": s.reason} for s in skipped],
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "build_seconds": round(time.time() - started, 2),
            **(extra or {}),
        }
        store.write_json(tmp / "manifest.json", manifest)
        return store.publish(index_dir, tmp, version)
    except BaseException:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
        raise


def build_from_documents(settings: Settings, docs: list[Document], skipped: list[Skipped] | None = None,
                         progress: Progress = _silent, sentences: bool = True,
                         notify: Callable[[str], None] | None = None) -> BuildReport:
    """Chunk and embed every document, write a new version and switch to it."""
    started = time.time()
    with store.writer_lock(settings.index_dir, notify=notify):
        store.clean_leftovers(settings.index_dir)
        chunks = [c for d in docs for c in chunk_document(d, settings.chunk_tokens, settings.chunk_overlap)]
        titles = {d.doc_id: d.title for d in docs}
        texts = [contextual_header(titles[c.doc_id], c.section) + c.text for c in chunks]
        vectors = embed_texts(settings, texts, progress, "embedding passages")
        spans = sent_vectors = None
        if sentences:
            spans = sentence_table(docs, chunks)
            sent_vectors = embed_texts(settings, [docs[o].text[a:b] for o, a, b in spans], progress,
                                       "embedding sentences")
        progress("writing index", 0, 1)
        path = write_version(settings, docs, chunks, vectors, spans, sent_vectors, skipped or [], started)
        progress("writing index", 1, 1)
    return BuildReport(path.name, len(docs), len(chunks), len(chunks), time.time() - started,
                       skipped=list(skipped or []), added=[d.path for d in docs])


def build_index(settings: Settings, progress: Progress = _silent,
                notify: Callable[[str], None] | None = None) -> BuildReport:
    """Full rebuild of the index from the corpus folder."""
    progress("reading documents", 0, 1)
    loaded = load_corpus(settings.corpus_dir, settings.max_file_mb)
    progress("reading documents", 1, 1)
    return build_from_documents(settings, loaded.documents, loaded.skipped, progress, notify=notify)
