"""One version of the FAISS store, opened for reading (format: store.py). The vector index and
the passage table are memory-mapped, the sentence table, sentence vectors and BM25 postings are
read by row range, and documents come from SQLite on demand, so a serving process holds only what
its questions touch, at any collection size."""
from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Mapping
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from . import vectors
from .lexical import BM25, bm25_scores, document_frequency
from .records import Chunk
from .store import DocumentContents, StoredIndex

TEXT_CACHE = 16  # documents whose text a process keeps decoded: those of the last few answers
META = ("doc_id", "path", "title", "publisher", "date", "kind", "url", "short", "sha256")


class DiskArray:
    """A .npy file read by row ranges with pread: nothing of it is mapped into the process, so a
    serving process's memory does not grow with what it has read (the page cache keeps it)."""

    def __init__(self, path: Path):
        with open(path, "rb") as fh:
            major, _ = np.lib.format.read_magic(fh)
            read = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
            self.shape, fortran, self.dtype = read(fh)
            self.offset = fh.tell()
        if fortran:
            raise ValueError(f"{path.name} is not in row order")
        self.row_bytes = int(np.prod(self.shape[1:], dtype="int64")) * self.dtype.itemsize
        self.file = open(path, "rb", buffering=0)
        self.lock = threading.Lock()  # where os.pread is missing (Windows), seek + read take turns

    def __len__(self) -> int:
        return self.shape[0]

    def _read(self, size: int, offset: int) -> bytes:
        if hasattr(os, "pread"):
            return os.pread(self.file.fileno(), size, offset)
        with self.lock:
            self.file.seek(offset)
            return self.file.read(size)

    def __getitem__(self, rows: slice) -> np.ndarray:
        start, stop, _ = rows.indices(self.shape[0])
        count = max(stop - start, 0)
        data = self._read(count * self.row_bytes, self.offset + start * self.row_bytes) if count else b""
        return np.frombuffer(data, dtype=self.dtype).reshape((count, *self.shape[1:]))


class DocumentDB:
    """documents.sqlite of one version, read-only: one connection per thread, small caches."""

    def __init__(self, path: Path):
        self.uri = f"{path.absolute().as_uri()}?mode=ro&immutable=1"  # a relative index folder too
        self._local = threading.local()
        self.full_text = lru_cache(maxsize=TEXT_CACHE)(self._full_text)
        self.record = lru_cache(maxsize=4096)(self._record)
        self.section_path = lru_cache(maxsize=65536)(self._section_path)

    def sql(self, query: str, args: tuple = ()) -> list[tuple]:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = sqlite3.connect(self.uri, uri=True)
        return db.execute(query, args).fetchall()

    def _one(self, query: str, doc_id: str) -> tuple:
        rows = self.sql(query, (doc_id,))
        if not rows:
            raise KeyError(doc_id)
        return rows[0]

    def _record(self, doc_id: str) -> tuple[dict, tuple[int, int, int, int]]:
        """(metadata, (passage_from, passage_to, sentence_from, sentence_to)) of a document."""
        r = self._one(f"SELECT {', '.join(META)}, abbreviations, passage_from, passage_to, sentence_from, "
                      "sentence_to FROM documents WHERE doc_id = ?", doc_id)
        meta = dict(zip(META, r)) | {"abbreviations": json.loads(r[len(META)] or "{}")}
        return meta, tuple(int(x) for x in r[len(META) + 1:])

    def _full_text(self, doc_id: str) -> str:
        return self._one("SELECT text FROM documents WHERE doc_id = ?", doc_id)[0]

    def _section_path(self, number: int) -> str:
        rows = self.sql("SELECT path FROM sections WHERE id = ?", (int(number),))
        return rows[0][0] if rows else ""

    def document(self, doc_id: str) -> dict:
        r = self._one(f"SELECT {', '.join(META)}, headings, abbreviations, text FROM documents "
                      "WHERE doc_id = ?", doc_id)
        return dict(zip(META, r)) | {"headings": json.loads(r[-3]), "abbreviations": json.loads(r[-2]),
                                     "text": r[-1]}

    @cached_property
    def doc_ids(self) -> list[str]:
        return [r[0] for r in self.sql("SELECT doc_id FROM documents ORDER BY rowid")]

    @cached_property
    def doc_numbers(self) -> dict[str, int]:
        return {d: i for i, d in enumerate(self.doc_ids)}

    def sections_containing(self, needle: str) -> list[int]:
        """Ids of the section paths containing `needle`, case-insensitively (Unicode-aware)."""
        return [i for i, path in self.sql("SELECT id, path FROM sections") if needle.lower() in path.lower()]


class DocumentTable(Mapping):
    """Documents' metadata by doc_id, read from SQLite on demand (no text), in index order."""

    def __init__(self, db: DocumentDB):
        self.db = db

    def __getitem__(self, doc_id: str) -> dict:
        return dict(self.db.record(doc_id)[0])

    def __iter__(self):
        return iter(self.db.doc_ids)

    def __len__(self) -> int:
        return len(self.db.doc_ids)

    def __contains__(self, doc_id) -> bool:
        return doc_id in self.db.doc_numbers

    def items(self):
        rows = self.db.sql(f"SELECT {', '.join(META)} FROM documents ORDER BY rowid")
        return [(r[0], dict(zip(META, r))) for r in rows]


class FaissIndex(StoredIndex):
    """One version folder, opened read-only."""

    def __init__(self, path: Path, manifest: dict, ef_search: int | None = None):
        self.path, self.manifest, self.ef_search = path, manifest, ef_search
        self.db = DocumentDB(path / "documents.sqlite")
        self.table = np.load(path / "passages.npy", mmap_mode="r")
        self.index = vectors.read(path / "vectors.faiss")
        self.params = manifest["vectors"]
        self.spans = self.codes = None
        if manifest["sentences"]:
            self.spans = DiskArray(path / "sentences.npy")
            self.codes = DiskArray(path / "sentence_vectors.npy")

    @cached_property
    def bm25(self) -> BM25:
        vocab = json.loads((self.path / "bm25_vocab.json").read_text(encoding="utf-8"))
        return BM25(vocab, np.load(self.path / "bm25_indptr.npy"), DiskArray(self.path / "bm25_indices.npy"),
                    DiskArray(self.path / "bm25_data.npy"), self.num_chunks)

    @property
    def version(self) -> str:
        return self.path.name

    # --- what answers read -----------------------------------------------------------------
    @property
    def documents(self) -> Mapping[str, dict]:
        return DocumentTable(self.db)

    @cached_property
    def abbreviations(self) -> dict[str, str]:
        return dict(self.db.sql("SELECT short, long FROM abbreviations ORDER BY rowid"))

    def text(self, doc_id: str, start: int = 0, end: int | None = None) -> str:
        return self.db.full_text(doc_id)[start:end]

    def sentences(self, doc_id: str, start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.db.record(doc_id)[1][2:]
        if self.spans is None or lo == hi:
            return np.zeros((0, 2), "int64"), np.zeros((0, self.manifest["dimension"]), "float32")
        spans = self.spans[lo:hi]
        a = int(np.searchsorted(spans[:, 0], start))
        b = int(np.searchsorted(spans[:, 0], end, side="right"))
        spans = spans[a:b]
        inside = spans[:, 1] <= end
        return spans[inside], self.codes[lo + a:lo + b][inside].astype("float32")

    def doc_frequency(self, term: str) -> int:
        return document_frequency(self.bm25, term)

    def document(self, doc_id: str) -> dict:
        return self.db.document(doc_id)

    def sections(self) -> list[tuple[str, int]]:
        numbers = np.asarray(self.table["section"])
        found, first, counts = np.unique(numbers, return_index=True, return_counts=True)
        order = np.argsort(first, kind="stable")
        out = [(self.db.section_path(found[i]), int(counts[i])) for i in order]
        return [(path, n) for path, n in out if path]

    # --- what retrieval reads --------------------------------------------------------------
    def select(self, doc_ids: set[str] | None, section: str | None) -> np.ndarray | None:
        rows = None
        if doc_ids is not None:
            ranges = sorted(self.db.record(d)[1][:2] for d in doc_ids)
            rows = np.concatenate([np.arange(a, b) for a, b in ranges] or [np.zeros(0, "int64")])
        if section:
            hit = np.flatnonzero(np.isin(np.asarray(self.table["section"]), self.db.sections_containing(section)))
            rows = hit if rows is None else np.intersect1d(rows, hit)
        return None if rows is None else rows.astype("int64")

    def dense(self, query: np.ndarray, k: int, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        return vectors.search(self.index, self.params, query, k, allowed, self.ef_search)

    def dense_scores(self, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return vectors.gather(self.index, rows) @ np.asarray(query, dtype="float32")

    def lexical(self, question: str, k: int, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        scores = bm25_scores(self.bm25, question)
        rows = np.flatnonzero(scores) if allowed is None else allowed[np.flatnonzero(scores[allowed])]
        best = vectors.top(scores[rows], k)
        return rows[best], scores[rows][best]

    def lexical_scores(self, question: str, rows: np.ndarray) -> np.ndarray:
        return bm25_scores(self.bm25, question, np.asarray(rows, dtype="int64"))

    def passages(self, rows: Sequence[int]) -> list[Chunk]:
        out = []
        for row in rows:
            doc, section, start, end, tokens = self.table[int(row)].tolist()
            doc_id = self.db.doc_ids[doc]
            first = self.db.record(doc_id)[1][0]
            out.append(Chunk(f"{doc_id}#{int(row) - first}", doc_id, self.db.section_path(section), start, end,
                             self.text(doc_id, start, end), tokens))
        return out

    def contents(self, doc_id: str) -> DocumentContents:
        p_from, p_to, s_from, s_to = self.db.record(doc_id)[1]
        rows = np.arange(p_from, p_to)
        sentences = sentence_vectors = None
        if self.spans is not None:
            sentences = self.spans[s_from:s_to].copy()
            sentence_vectors = self.codes[s_from:s_to].astype("float32")
        return DocumentContents(self.document(doc_id), self.passages(rows), vectors.gather(self.index, rows),
                                sentences, sentence_vectors)
