"""Hybrid retrieval: dense (FAISS) and BM25 candidates, fused, filtered by document or section."""
from __future__ import annotations

import numpy as np

from .errors import CareqaError
from .lexical import bm25_scores
from .records import Chunk, Passage
from .store import StoredIndex

FUSION_WEIGHT = 0.5  # see Settings.fusion_weight
RRF_K = 60  # the constant of Cormack et al. (2009); ranks past ~60 contribute little
POOL = 100  # candidates taken from each side before fusion: far more than any k shown


def _minmax(x: np.ndarray) -> np.ndarray:
    lo, hi = float(x.min()), float(x.max())
    return np.zeros_like(x) if hi - lo < 1e-9 else (x - lo) / (hi - lo)


def fuse(dense: np.ndarray, lexical: np.ndarray, method: str = "weighted",
         weight: float = FUSION_WEIGHT) -> np.ndarray:
    """Fused scores for candidates: min-max weighted sum, reciprocal rank fusion, or one side
    alone ("dense", "bm25") for comparison."""
    if method == "dense":
        return dense.astype("float64")
    if method == "bm25":
        return lexical.astype("float64")
    if method == "rrf":
        ranks_d = np.argsort(np.argsort(-dense))
        ranks_l = np.argsort(np.argsort(-lexical))
        lex_rr = np.where(lexical > 0, 1.0 / (RRF_K + ranks_l + 1), 0.0)
        return 1.0 / (RRF_K + ranks_d + 1) + lex_rr
    return weight * _minmax(dense) + (1 - weight) * _minmax(lexical)


class Searcher:
    """Search over one loaded index version."""

    def __init__(self, stored: StoredIndex, method: str = "weighted", weight: float = FUSION_WEIGHT):
        self.stored = stored
        self.method, self.weight = method, weight
        self.chunks: list[Chunk] = stored.chunks
        self.vectors = stored.faiss_index.reconstruct_n(0, stored.faiss_index.ntotal) \
            if stored.faiss_index.ntotal else np.zeros((0, 1), dtype="float32")
        self.chunk_docs = np.array([c.doc_id for c in self.chunks], dtype=object)
        self.sections_lower = [c.section.lower() for c in self.chunks]

    def doc_ids_matching(self, wanted: list[str]) -> set[str]:
        """Document ids named by id, file path, file name or file stem; error on unknown ones."""
        found, unknown = set(), []
        for w in wanted:
            hits = {d for d, meta in self.stored.documents.items()
                    if w in (d, meta["path"], d.rsplit("/", 1)[-1], meta["path"].rsplit("/", 1)[-1])}
            if not hits:
                unknown.append(w)
            found |= hits
        if unknown:
            raise CareqaError(f"no document named {', '.join(repr(u) for u in unknown)} in the index "
                              f"(see `careqa index status` for the list)")
        return found

    def mask(self, docs: list[str] | None = None, section: str | None = None) -> np.ndarray:
        keep = np.ones(len(self.chunks), dtype=bool)
        if docs:
            keep &= np.isin(self.chunk_docs, list(self.doc_ids_matching(docs)))
        if section:
            needle = section.lower()
            keep &= np.array([needle in s for s in self.sections_lower], dtype=bool)
        return keep

    def search(self, query_vector: np.ndarray, question: str, k: int = 5, docs: list[str] | None = None,
               section: str | None = None, pool: int = POOL) -> list[Passage]:
        """Top-k passages for the question, best first, within the filters."""
        keep = self.mask(docs, section)
        allowed = np.flatnonzero(keep)
        if not len(allowed):
            return []
        dense_all = self._dense_candidates(query_vector, allowed, pool)
        lexical_all = bm25_scores(self.stored.bm25, question)
        lex_top = allowed[np.argsort(-lexical_all[allowed], kind="stable")[:pool]]
        lex_top = lex_top[lexical_all[lex_top] > 0]
        cand = np.unique(np.concatenate([np.fromiter(dense_all, dtype="int64"), lex_top]))
        dense = self.vectors[cand] @ query_vector
        lexical = lexical_all[cand]
        fused = fuse(dense, lexical, self.method, self.weight)
        order = np.lexsort((cand, -fused))[:k]
        return [self._passage(int(cand[i]), float(fused[i]), float(dense[i]), float(lexical[i]), r + 1)
                for r, i in enumerate(order)]

    def _dense_candidates(self, q: np.ndarray, allowed: np.ndarray, pool: int) -> set[int]:
        import faiss

        n = min(pool, len(allowed))
        params = None
        if len(allowed) < len(self.chunks):
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(allowed.astype("int64")))
        _, ids = self.stored.faiss_index.search(q.reshape(1, -1), n, params=params)
        return {int(i) for i in ids[0] if i >= 0}

    def _passage(self, i: int, score: float, dense: float, lexical: float, rank: int) -> Passage:
        c = self.chunks[i]
        meta = self.stored.documents[c.doc_id]
        return Passage(c.chunk_id, c.doc_id, meta["path"], meta["title"], meta.get("publisher", ""),
                       meta.get("date", ""), c.section, c.text, c.start, c.end,
                       round(score, 4), round(dense, 4), round(lexical, 4), rank, meta.get("url", ""))
