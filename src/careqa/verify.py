"""Checking the live index: whole, consistent with its manifest, its model and the corpus folder.

Each problem is one line in plain words saying what is wrong and what to run; an empty list
means the index answers from exactly the documents in the corpus, as the manifest says.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import store
from .chunk import contextual_header
from .config import Settings
from .errors import CareqaError
from .index import corpus_state

SAMPLE_CHUNKS = 3
MIN_SIMILARITY = 0.99


@dataclass
class Verification:
    """What verify found: problems (the index cannot be trusted as it is) and notes (it can)."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checked: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_index(settings: Settings) -> Verification:
    """Check the live version of settings.index_dir against its manifest, model and corpus."""
    result = Verification()
    leftovers = sorted(p.name for p in settings.index_dir.glob("tmp-*"))
    if leftovers:
        result.notes.append(f"{len(leftovers)} unfinished version folder(s) from an interrupted run "
                            "(the next build or update removes them)")
    try:
        stored = store.load_version(store.live_dir(settings.index_dir))
    except CareqaError as exc:
        result.problems.append(str(exc))
        return result
    m = stored.manifest
    result.problems += check_parts(stored) + check_model(stored, settings) + check_corpus(stored, settings, result.notes)
    result.checked = (f"version {stored.version}: {len(stored.documents)} documents, {len(stored.chunks)} chunks, "
                      f"{m.get('sentences', 0)} sentences, model {m.get('embedding_model')} "
                      f"(dimension {m.get('dimension')}), corpus {settings.corpus_dir}")
    return result


def check_parts(stored: store.StoredIndex) -> list[str]:
    """The version's parts agree with each other and with the manifest."""
    m, problems = stored.manifest, []
    dim = stored.faiss_index.d
    if dim != m.get("dimension"):
        problems.append(f"vectors have dimension {dim} but the manifest says {m.get('dimension')}")
    if stored.sentence_vectors is not None and len(stored.sentence_vectors) and stored.sentence_vectors.shape[1] != dim:
        problems.append(f"sentence vectors have dimension {stored.sentence_vectors.shape[1]}, passages {dim}")
    listed = {e["doc_id"]: e for e in m.get("documents", {}).values()}
    if set(listed) != set(stored.documents):
        extra, missing = set(stored.documents) - set(listed), set(listed) - set(stored.documents)
        problems.append(f"documents.jsonl and the manifest disagree (only in documents.jsonl: "
                        f"{sorted(extra) or 'none'}; only in the manifest: {sorted(missing) or 'none'})")
    counts: dict[str, int] = {}
    for c in stored.chunks:
        counts[c.doc_id] = counts.get(c.doc_id, 0) + 1
        doc = stored.documents.get(c.doc_id)
        if doc is None or doc["text"][c.start:c.end] != c.text:
            problems.append(f"chunk {c.chunk_id} does not match its document's text")
    if len({c.chunk_id for c in stored.chunks}) != len(stored.chunks):
        problems.append("some chunk ids appear twice")
    for doc_id, entry in listed.items():
        if counts.get(doc_id, 0) != entry.get("chunks"):
            problems.append(f"{entry.get('title') or doc_id}: {counts.get(doc_id, 0)} chunks stored, "
                            f"the manifest says {entry.get('chunks')}")
    vectors = stored.faiss_index.reconstruct_n(0, stored.faiss_index.ntotal) if stored.faiss_index.ntotal else None
    if vectors is not None and not np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3):
        problems.append("some passage vectors are not unit length (damaged vectors.faiss)")
    spans, texts = stored.sentence_spans, [d["text"] for d in stored.documents.values()]
    if spans is not None and len(spans) and (spans[:, 0].max() >= len(texts) or any(
            not 0 <= a < b <= len(texts[o]) for o, a, b in spans.tolist())):
        problems.append("the sentence table points outside the documents")
    return problems


def check_model(stored: store.StoredIndex, settings: Settings) -> list[str]:
    """The index was built by the configured model: a few stored vectors are re-embedded and compared."""
    from .embed import get_embedder

    built_with = stored.manifest.get("embedding_model")
    if built_with != settings.model:
        return [f"the index was built with model {built_with} but the settings ask for {settings.model}: "
                "run `careqa index update` (it rebuilds fully)"]
    try:
        embedder = get_embedder(built_with)
    except CareqaError as exc:
        return [str(exc)]
    if embedder.dim != stored.faiss_index.d:
        return [f"model {built_with} makes vectors of dimension {embedder.dim}, the index holds {stored.faiss_index.d}"]
    n = len(stored.chunks)
    picks = sorted({0, n // 2, n - 1})[:SAMPLE_CHUNKS] if n else []
    texts = [contextual_header(stored.documents[stored.chunks[i].doc_id]["title"], stored.chunks[i].section)
             + stored.chunks[i].text for i in picks]
    fresh = embedder.encode(texts)
    problems = []
    for i, vec in zip(picks, fresh):
        similarity = float(vec @ stored.faiss_index.reconstruct(i))
        if similarity < MIN_SIMILARITY:
            problems.append(f"the stored vector of chunk {stored.chunks[i].chunk_id} does not match model "
                            f"{built_with} (similarity {similarity:.2f}): rebuild with `careqa index build`")
    return problems


def check_corpus(stored: store.StoredIndex, settings: Settings, notes: list[str]) -> list[str]:
    """Every corpus file is indexed with its current content, and nothing else is."""
    try:
        state = corpus_state(settings)
    except CareqaError as exc:
        return [str(exc)]
    skipped = {s["path"]: s["reason"] for s in stored.manifest.get("skipped", [])}
    problems = []
    for path, entry in stored.manifest["documents"].items():
        if path not in state:
            problems.append(f"{path}: indexed but no longer in the corpus; run `careqa index update`")
        elif state[path][0] != entry.get("sha256"):
            if path in skipped:
                problems.append(f"{path}: changed but cannot be read ({skipped[path]}); fix or remove the file")
            else:
                problems.append(f"{path}: changed since it was indexed; run `careqa index update`")
        elif state[path][1] != entry.get("meta_sha256"):
            problems.append(f"{path}: its sources.toml entry changed since it was indexed; run `careqa index update`")
    for path in sorted(set(state) - set(stored.manifest["documents"])):
        if path in skipped:
            notes.append(f"{path}: not indexed ({skipped[path]})")
        else:
            problems.append(f"{path}: in the corpus but not indexed; run `careqa index update`")
    return problems
