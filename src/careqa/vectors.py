"""Passage vectors in FAISS: exact search while it is fast enough, HNSW past a measured size.

Both kinds keep the vectors themselves uncompressed (IndexFlatIP, IndexHNSWFlat), so the index is
the only copy: scores of any passage are read back exactly, and an update reuses them as they
were embedded. Loaded memory-mapped, a serving process keeps only the pages it touches.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .config import Settings

ADD_BATCH = 65536  # vectors added per call: large enough for FAISS to use every core
GATHER_MAX = 50_000  # filtered searches over at most this many passages are exact (a 75 MB read)


def choose(settings: Settings, count: int) -> dict:
    """The vector index for `count` passages and its parameters, as recorded in the manifest."""
    kind = settings.vector_index
    if kind == "auto":
        kind = "flat" if count <= settings.exact_max else "hnsw"
    if kind == "flat":
        return {"kind": "flat", "exact": True}
    return {"kind": "hnsw", "exact": False, "m": settings.hnsw_m,
            "ef_construction": settings.hnsw_ef_construction, "ef_search": settings.hnsw_ef_search}


def build(params: dict, dimension: int, blocks) -> object:
    """An index of the given kind filled from an iterable of (n, dimension) float32 blocks."""
    import faiss

    faiss.omp_set_num_threads(os.cpu_count() or 1)  # building uses every core (search sets 1)
    if params["kind"] == "flat":
        index = faiss.IndexFlatIP(dimension)
    else:
        index = faiss.IndexHNSWFlat(dimension, params["m"], faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = params["ef_construction"]
    pending, size = [], 0
    for block in blocks:
        pending.append(np.ascontiguousarray(block, dtype="float32"))
        size += len(block)
        if size >= ADD_BATCH:
            index.add(np.concatenate(pending))
            pending, size = [], 0
    if pending:
        index.add(np.concatenate(pending))
    return index


def write(index, path: Path) -> None:
    import faiss

    faiss.write_index(index, str(path))


def read(path: Path):
    """Memory-mapped: opening costs nothing and only the vectors searched become resident."""
    import faiss

    return faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY)


def top(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k highest scores, best first, ties by position (as a stable sort would
    give), in O(n): a partition, then only the scores above the k-th and the first equal ones."""
    if len(scores) <= k:
        keep = np.arange(len(scores))
    else:
        # the k-th largest, selected from the front: numpy's introselect is slow (200 ms on 1M)
        # selecting near the end of an array with many equal values (BM25 zeros)
        kth = -np.partition(-scores, k - 1)[k - 1]
        above = np.flatnonzero(scores > kth)
        keep = np.concatenate([above, np.flatnonzero(scores == kth)[:k - len(above)]])
    return keep[np.lexsort((keep, -scores[keep]))]


def gather(index, rows: np.ndarray) -> np.ndarray:
    """The stored vectors of the given rows (exact for both kinds)."""
    if not len(rows):
        return np.zeros((0, index.d), dtype="float32")
    return index.reconstruct_batch(np.ascontiguousarray(rows, dtype="int64"))


def search(index, params: dict, query: np.ndarray, k: int, allowed: np.ndarray | None,
           ef_search: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(rows, inner products) of the k nearest passages within `allowed` (None: all).

    A filter narrow enough is searched exactly over its own vectors: a graph search restricted to
    a few passages can miss them. Wider filters go through the index with a selector (exact for
    the flat index).
    """
    import faiss

    # one question, one thread: FAISS's OpenMP team waits on every core, and with the cores busy
    # (other questions, other processes) a 0.3 ms search took 24 ms; the setting is per thread
    faiss.omp_set_num_threads(1)
    q = np.ascontiguousarray(query, dtype="float32").reshape(1, -1)
    if allowed is not None and len(allowed) <= GATHER_MAX:
        scores = gather(index, allowed) @ q[0]
        best = top(scores, k)
        return allowed[best], scores[best]
    k = min(k, index.ntotal if allowed is None else len(allowed))
    selector = None if allowed is None else faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype="int64"))
    if params["kind"] == "flat":
        search_params = faiss.SearchParameters(sel=selector) if selector is not None else None
    else:
        ef = max(ef_search or params["ef_search"], k)
        search_params = faiss.SearchParametersHNSW(sel=selector, efSearch=ef)
    scores, ids = index.search(q, k, params=search_params)
    keep = ids[0] >= 0
    return ids[0][keep].astype("int64"), scores[0][keep]
