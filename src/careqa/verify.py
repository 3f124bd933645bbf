"""Checking the live index: whole, consistent with its manifest, its model and the corpus folder.

Each problem is one line in plain words saying what is wrong and what to run; an empty list
means the index answers from exactly the documents in the corpus, as the manifest says.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .chunk import embedded_text
from .config import Settings
from .errors import CareqaError
from .index import corpus_state
from .store import StoredIndex, open_store

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
    """Check the live version of the configured store against its manifest, model and corpus."""
    result = Verification()
    store = open_store(settings)
    leftovers = store.leftovers()
    if leftovers:
        result.notes.append(f"{len(leftovers)} unfinished version folder(s) from an interrupted run "
                            "(the next build or update removes them)")
    try:
        stored = store.load()
    except CareqaError as exc:
        result.problems.append(str(exc))
        return result
    m = stored.manifest
    result.problems += store.verify(stored) + check_model(stored, settings) + check_corpus(stored, settings, result.notes)
    result.checked = (f"version {stored.version}: {len(stored.documents)} documents, {stored.num_chunks} chunks, "
                      f"{m.get('sentences', 0)} sentences, model {m.get('embedding_model')} "
                      f"(dimension {m.get('dimension')}), corpus {settings.corpus_dir}")
    return result


def check_model(stored: StoredIndex, settings: Settings) -> list[str]:
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
    dimension = stored.manifest.get("dimension")
    if embedder.dim != dimension:
        return [f"model {built_with} makes vectors of dimension {embedder.dim}, the index holds {dimension}"]
    n = stored.num_chunks
    picks = sorted({0, n // 2, n - 1})[:SAMPLE_CHUNKS] if n else []
    chunks = stored.passages(picks)
    fresh = embedder.encode([embedded_text(stored.documents[c.doc_id]["title"], c) for c in chunks])
    held = [float(stored.dense_scores(vec, np.array([i]))[0]) for i, vec in zip(picks, fresh)]
    return [f"the stored vector of chunk {c.chunk_id} does not match model {built_with} (similarity "
            f"{similarity:.2f}): rebuild with `careqa index build`"
            for c, similarity in zip(chunks, held) if similarity < MIN_SIMILARITY]


def check_corpus(stored: StoredIndex, settings: Settings, notes: list[str]) -> list[str]:
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
