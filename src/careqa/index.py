"""Building and updating an index: load, chunk, embed, write a new version, switch to it.

`update_index` compares the corpus folder with the live version's manifest by content hash (and
sources.toml entry) and embeds only added and changed documents; chunks, vectors and sentence
vectors of unchanged documents are copied from the live version, so their chunk ids stay stable.
A different embedding model or chunker setting makes the stored vectors unusable: that is a full
rebuild, and the report says why. `build_index` is the same path, reusing nothing.

A file indexed before that can no longer be read keeps its indexed version (reported as skipped,
"kept the version indexed before"): a bad copy over a good file must not lose content. So does a
file whose text is over the embedding budget (budget.py). The progress callback may raise
BuildCancelled until the new version is written: the build stops and the live version stays.
"""
from __future__ import annotations

import hashlib
import platform
import time
from dataclasses import dataclass, field
from importlib import metadata
from typing import Callable

import numpy as np

from .budget import build_estimate, over_budget
from .chunk import chunk_document, embedded_text
from .tokens import ENCODING
from .clean import Heading
from .config import Settings
from .embed import Embedder, get_embedder, get_query_embedder
from .errors import BuildCancelled, CareqaError, DocumentError
from .lexical import build_bm25
from .load import Document, Skipped, corpus_files, load_corpus, meta_hash, over_limit, read_file, read_metadata
from .records import Chunk, Progress, silent
from .sentences import sentence_spans
from .store import NewVersion, Store, StoredIndex, open_store


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
    rebuilt: list[str] = field(default_factory=list)  # unchanged, but embedded again (a full build)
    full_rebuild_reason: str = ""
    up_to_date: bool = False

    def summary(self) -> str:
        again = f", {len(self.rebuilt)} re-embedded" if self.rebuilt else ""
        lines = [f"{len(self.added)} added, {len(self.changed)} changed, {len(self.removed)} removed, "
                 f"{len(self.unchanged)} unchanged{again}; {self.embedded} chunks embedded; "
                 f"{self.documents} documents, {self.chunks} chunks in {self.seconds:.1f} s"]
        if self.full_rebuild_reason:
            lines.insert(0, f"full rebuild: {self.full_rebuild_reason}")
        if self.up_to_date:
            lines.append(f"index already up to date (version {self.version}); nothing written")
        lines += [f"skipped {s}" for s in self.skipped]
        return "\n".join(lines)


def chunker_settings(settings: Settings) -> dict:
    return {"encoding": ENCODING, "target_tokens": settings.chunk_tokens,
            "overlap_tokens": settings.chunk_overlap, "contextual_header": True}


def package_versions() -> dict:
    names = ("careqa", "sentence-transformers", "torch", "onnxruntime", "faiss-cpu", "tiktoken", "numpy")
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def embed_texts(settings: Settings, texts: list[str], progress: Progress, stage: str) -> np.ndarray:
    """Embeddings in batches, longest texts first (batches pad to similar lengths, as a single
    sentence-transformers call would), reporting progress after each batch."""
    embedder = get_query_embedder(settings.model, settings.cache_dir) if settings.index_embedder == "onnx" \
        else get_embedder(settings.model)
    batch = 64
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    out = np.zeros((len(texts), embedder.dim), dtype="float32")
    progress(stage, 0, len(texts))
    for i in range(0, len(texts), batch):
        rows = order[i:i + batch]
        out[rows] = embedder.encode([texts[r] for r in rows])
        progress(stage, min(i + batch, len(texts)), len(texts))
    return out


@dataclass
class Part:
    """One document of the version being written; arrays are None until embedded."""

    doc: Document
    chunks: list[Chunk]
    vectors: np.ndarray | None = None
    sentences: np.ndarray | None = None
    sentence_vectors: np.ndarray | None = None
    indexed_at: str = ""

    def texts(self) -> list[str]:
        """What is embedded and indexed by BM25 for each chunk (chunk.embedded_text)."""
        return [embedded_text(self.doc.title, c) for c in self.chunks]


def new_part(settings: Settings, doc: Document) -> Part:
    return Part(doc, chunk_document(doc, settings.chunk_tokens, settings.chunk_overlap))


def sentence_rows(doc: Document, chunks: list[Chunk]) -> np.ndarray:
    """(start, end) of every sentence inside some chunk of the document, unique, in text order."""
    rows = {span for c in chunks for span in sentence_spans(doc.text, c.start, c.end)}
    return np.array(sorted(rows), dtype="int64").reshape(-1, 2)


def stored_parts(stored: StoredIndex) -> dict[str, Part]:
    """Every document of a loaded version with its chunks and vectors, keyed by corpus path."""
    entries = {e["doc_id"]: e for e in stored.manifest["documents"].values()}
    parts = {}
    for doc_id in stored.documents:
        held = stored.contents(doc_id)
        row, entry = held.record, entries.get(doc_id, {})
        doc = Document(doc_id, row["path"], row["title"], row["text"], [Heading(*h) for h in row["headings"]],
                       row["sha256"], row.get("publisher", ""), row.get("date", ""), row.get("kind", ""),
                       entry.get("meta_sha256", ""), row.get("url", ""), row.get("short", ""),
                       row.get("abbreviations", {}))
        parts[doc.path] = Part(doc, held.chunks, held.vectors, held.sentences, held.sentence_vectors,
                               entry.get("indexed_at", stored.manifest["built_at"]))
    return parts


def embed_parts(settings: Settings, parts: list[Part], progress: Progress, sentences: bool = True) -> int:
    """Embed the chunks (and sentences) of parts that lack vectors; the number of chunks embedded."""
    todo = [p for p in parts if p.vectors is None]
    texts = [t for p in todo for t in p.texts()]
    embedded = len(texts)
    if texts:
        vectors = embed_texts(settings, texts, progress, "embedding passages")
        for p, block in zip(todo, np.split(vectors, np.cumsum([len(p.chunks) for p in todo])[:-1])):
            p.vectors = block
    if sentences:
        todo = [p for p in parts if p.sentence_vectors is None]
        for p in todo:
            p.sentences = sentence_rows(p.doc, p.chunks) if p.sentences is None else p.sentences
        texts = [p.doc.text[a:b] for p in todo for a, b in p.sentences]
        if texts:
            vectors = embed_texts(settings, texts, progress, "embedding sentences")
            for p, block in zip(todo, np.split(vectors, np.cumsum([len(p.sentences) for p in todo])[:-1])):
                p.sentence_vectors = block
    return embedded


def version_manifest(settings: Settings, parts: list[Part], skipped: list[Skipped], started: float,
                     embedded: int) -> dict:
    """What a version records about how it was built and from which documents."""
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return {
        "name": settings.index_name,
        "embedding_model": settings.model,
        "chunker": chunker_settings(settings),
        "packages": package_versions(),
        "corpus": str(settings.corpus_dir),
        "documents": {p.doc.path: {"doc_id": p.doc.doc_id, "sha256": p.doc.sha256,
                                   "meta_sha256": p.doc.meta_sha256, "title": p.doc.title,
                                   "chunks": len(p.chunks), "indexed_at": p.indexed_at or now}
                      for p in parts},
        "skipped": [{"path": s.path, "reason": s.reason} for s in skipped],
        "embedded": embedded,
        "built_at": now,
        "build_seconds": round(time.time() - started, 2),
    }


def write_version(settings: Settings, store: Store, parts: list[Part], skipped: list[Skipped],
                  started: float, embedded: int) -> str:
    """Write the parts as a new version and make it live (writer lock held); its name."""
    manifest = version_manifest(settings, parts, skipped, started, embedded)
    lexical = build_bm25(t for p in parts for t in p.texts())
    return store.write(NewVersion(manifest, parts, lexical))


def export_for_questions(settings: Settings) -> None:
    """Make the ONNX export questions are embedded with, while the torch model is loaded anyway;
    a model that cannot be exported keeps answering through torch."""
    embedder = get_embedder(settings.model)
    if isinstance(embedder, Embedder):
        try:
            embedder.export_onnx(settings.cache_dir)
        except CareqaError:
            pass


def embed_and_write(settings: Settings, store: Store, parts: list[Part], skipped: list[Skipped],
                    started: float, progress: Progress, sentences: bool = True) -> tuple[str, int]:
    """Embed what the parts lack and write them as the new live version (writer lock held)."""
    embedded = embed_parts(settings, parts, progress, sentences)
    progress("writing index", 0, 1)  # the last moment a build can be cancelled
    version = write_version(settings, store, parts, skipped, started, embedded)
    try:
        progress("writing index", 1, 1)
    except BuildCancelled:
        pass  # too late: the new version is live
    if embedded:
        export_for_questions(settings)
    return version, embedded


def build_from_documents(settings: Settings, docs: list[Document], skipped: list[Skipped] | None = None,
                         progress: Progress = silent, sentences: bool = True,
                         notify: Callable[[str], None] | None = None) -> BuildReport:
    """Chunk and embed the given documents (not read from the corpus), write them as the new version."""
    started = time.time()
    store = open_store(settings)
    with store.writing(notify=notify):
        parts = [new_part(settings, d) for d in docs]
        version, embedded = embed_and_write(settings, store, parts, skipped or [], started, progress, sentences)
    return BuildReport(version, len(parts), embedded, embedded, time.time() - started,
                       skipped=list(skipped or []), added=[d.path for d in docs])


def live_for_reuse(settings: Settings, store: Store | None = None) -> tuple[StoredIndex | None, str]:
    """The live version (None when there is none or it is unreadable) and why its vectors cannot
    be reused ('' when they can)."""
    store = store or open_store(settings)
    if store.current() is None:
        return None, "no index yet"
    try:
        stored = store.load()
    except CareqaError as exc:
        return None, f"the live version cannot be read ({exc})"
    m = stored.manifest
    if m.get("embedding_model") != settings.model:
        return stored, f"embedding model changed from {m.get('embedding_model')} to {settings.model}"
    old, new = m.get("chunker", {}), chunker_settings(settings)
    diffs = [f"{k} {old.get(k)} -> {v}" for k, v in new.items() if old.get(k) != v]
    if diffs:
        return stored, f"chunker settings changed ({', '.join(diffs)})"
    return stored, ""


def corpus_state(settings: Settings) -> dict[str, tuple[str, str]]:
    """(content sha256, sources.toml entry hash) of each corpus file by relative path.

    Files over the size limit get an empty hash: they are never read whole, only reported.
    """
    corpus_dir = settings.corpus_dir
    metadata = read_metadata(corpus_dir)
    state = {}
    for path in corpus_files(corpus_dir):
        rel = path.relative_to(corpus_dir).as_posix()
        try:
            too_big = over_limit(path, settings.max_file_mb)
            digest = "" if too_big else hashlib.sha256(read_file(path, corpus_dir)).hexdigest()
        except (DocumentError, OSError):
            digest = ""  # read again when loading, which reports why it cannot be
        state[rel] = (digest, meta_hash(metadata.get(rel)))
    return state


def assemble(settings: Settings, live: StoredIndex | None, reuse: bool, report: BuildReport,
             progress: Progress = silent) -> list[Part]:
    """The documents of the next version in path order, loaded anew or (when `reuse`) taken from
    the live version; fills the report's added, changed, unchanged (or rebuilt), removed and
    skipped lists."""
    old = stored_parts(live) if live is not None else {}
    state = corpus_state(settings)
    same = {rel for rel, (sha, meta) in state.items()
            if rel in old and (old[rel].doc.sha256, old[rel].doc.meta_sha256) == (sha, meta)}
    loaded = load_corpus(settings, only=set(state) - same if reuse else None, progress=progress)
    parts: dict[str, Part] = {}
    for d in loaded.documents:
        too_large = over_budget(settings, len(d.text))
        part = None if too_large else new_part(settings, d)
        if part is None or not part.chunks:
            loaded.skipped.append(Skipped(d.path, too_large or "no passages to index (only headings)"))
            continue
        parts[d.path] = part
        (report.rebuilt if d.path in same else report.changed if d.path in old else report.added).append(d.path)
    for rel in sorted(same - {s.path for s in loaded.skipped} - set(parts)):
        parts[rel] = old[rel]
        report.unchanged.append(rel)
    taken = {p.doc.doc_id for p in parts.values()}
    for s in sorted(loaded.skipped, key=lambda s: s.path):
        kept = old.get(s.path)
        affordable = kept is not None and (reuse or not over_budget(settings, len(kept.doc.text)))
        if affordable and kept.doc.doc_id not in taken:
            kept = kept if reuse else new_part(settings, kept.doc)  # a full build embeds it again
            if kept.chunks:
                parts[s.path] = kept
                s = Skipped(s.path, f"{s.reason}; kept the version indexed before")
        report.skipped.append(s)
    report.removed = sorted(set(old) - set(state))
    if not parts:
        raise DocumentError(f"{settings.corpus_dir}: no readable documents to index"
                            + "".join(f"; {s}" for s in report.skipped[:3]))
    return [parts[rel] for rel in sorted(parts)]


def announce(parts: list[Part], notify: Callable[[str], None] | None) -> None:
    """Say how much embedding is ahead, and about how long it takes, before it starts."""
    todo = [p for p in parts if p.vectors is None]
    if notify is None or not todo:
        return
    for p in todo:
        p.sentences = sentence_rows(p.doc, p.chunks)
    notify(build_estimate(sum(len(p.chunks) for p in todo), sum(len(p.sentences) for p in todo)))


def refresh(settings: Settings, progress: Progress, notify: Callable[[str], None] | None,
            incremental: bool, wait: float | None) -> BuildReport:
    """Bring the index in line with the corpus; `incremental` reuses what the live version holds.

    The writer lock is held throughout: the live version read at the start is the one replaced.
    """
    started = time.time()
    store = open_store(settings)
    with store.writing(wait, notify):
        live, reason = live_for_reuse(settings, store)
        reuse = incremental and not reason
        report = BuildReport("", 0, 0, 0, 0.0, full_rebuild_reason=reason if incremental else "")
        progress("reading documents", 0, 1)
        parts = assemble(settings, live, reuse, report, progress)
        progress("reading documents", 1, 1)
        report.documents, report.chunks = len(parts), sum(len(p.chunks) for p in parts)
        skipped = [{"path": s.path, "reason": s.reason} for s in report.skipped]
        if reuse and not (report.added or report.changed or report.removed) and live.manifest.get("skipped") == skipped:
            report.version, report.up_to_date = live.version, True
        else:
            announce(parts, notify)
            report.version, report.embedded = embed_and_write(settings, store, parts, report.skipped,
                                                              started, progress)
    report.seconds = time.time() - started
    return report


def build_index(settings: Settings, progress: Progress = silent,
                notify: Callable[[str], None] | None = None, wait: float | None = None) -> BuildReport:
    """Full rebuild of the index from the corpus folder: every document read and embedded again."""
    return refresh(settings, progress, notify, incremental=False, wait=wait)


def update_index(settings: Settings, progress: Progress = silent,
                 notify: Callable[[str], None] | None = None, wait: float | None = None) -> BuildReport:
    """Embed only what changed in the corpus since the live version (a full build when needed)."""
    return refresh(settings, progress, notify, incremental=True, wait=wait)
