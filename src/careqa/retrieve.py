"""Hybrid retrieval: dense (FAISS) and BM25 candidates, fused, filtered by document or section."""
from __future__ import annotations

import numpy as np

from .errors import CareqaError
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
    """Search over one loaded index version, through the store interface (store.StoredIndex):
    the dense and lexical candidates come from the store, the fusion is done here, so answers
    do not depend on which store holds the index."""

    def __init__(self, stored: StoredIndex, method: str = "weighted", weight: float = FUSION_WEIGHT):
        self.stored = stored
        self.method, self.weight = method, weight

    def doc_ids_matching(self, wanted: list[str]) -> set[str]:
        """Document ids named by id, file path, file name or file stem; error on unknown ones."""
        found, unknown = set(), []
        for w in wanted:
            hits = self.stored.find_documents(w)
            if not hits:
                unknown.append(w)
            found |= hits
        if unknown:
            raise CareqaError(f"no document named {', '.join(repr(u) for u in unknown)} in the index "
                              f"(see `careqa index status` for the list)")
        return found

    def search(self, query_vector: np.ndarray, question: str, k: int = 5, docs: list[str] | None = None,
               section: str | None = None, pool: int = POOL) -> list[Passage]:
        """Top-k passages for the question, best first, within the filters."""
        allowed = self.stored.select(self.doc_ids_matching(docs) if docs else None, section)
        if allowed is not None and not len(allowed):
            return []
        dense_rows, _ = self.stored.dense(query_vector, pool, allowed)
        lexical_rows, _ = self.stored.lexical(question, pool, allowed)
        cand = np.unique(np.concatenate([dense_rows, lexical_rows]).astype("int64"))
        if not len(cand):
            return []
        dense = self.stored.dense_scores(query_vector, cand)
        lexical = self.stored.lexical_scores(question, cand)
        fused = fuse(dense, lexical, self.method, self.weight)
        order = np.lexsort((cand, -fused))[:k]
        chunks = self.stored.passages([int(cand[i]) for i in order])
        return [self._passage(c, float(fused[i]), float(dense[i]), float(lexical[i]), r + 1)
                for r, (c, i) in enumerate(zip(chunks, order))]

    def _passage(self, c: Chunk, score: float, dense: float, lexical: float, rank: int) -> Passage:
        meta = self.stored.documents[c.doc_id]
        return Passage(doc_id=c.doc_id, path=meta["path"], title=meta["title"], publisher=meta.get("publisher", ""),
                       date=meta.get("date", ""), url=meta.get("url", ""), chunk_id=c.chunk_id, section=c.section,
                       text=c.text, start=c.start, end=c.end, score=round(score, 4), dense=round(dense, 4),
                       lexical=round(lexical, 4), rank=rank)
