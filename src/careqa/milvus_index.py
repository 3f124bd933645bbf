"""One version of the Milvus store, opened for reading (layout: milvus_store.py).

Nothing but the manifest is read when a version is opened; the catalogue of documents, the
vocabulary and the section list are read once when first needed, passages, sentences and text
pieces per question. Scores handed to fusion are computed here from the stored vectors and BM25
weights exactly as the FAISS store computes them, so the two stores give the same answers.
"""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from functools import cached_property, lru_cache
from typing import Sequence

import numpy as np

from .faiss_write import META
from .lexical import terms
from .milvus_write import PIECE
from .records import Chunk
from .store import DocumentContents, StoredIndex

PIECE_CACHE = 256  # text pieces a process keeps (4 MB at most): those of the last few answers
ITERATOR_BATCH = 4096  # rows per page when a query may return more than Milvus's 16,384 limit
PASSAGE_FIELDS = ["row", "chunk_id", "doc_id", "section", "start", "end", "tokens", "text"]
CATALOGUE = ("doc_id", *META, "sha256", "length", "passage_from", "passage_to", "sentence_from", "sentence_to")


class Selection(np.ndarray):
    """Passage rows chosen by a filter, carrying the Milvus filter expression that chose them, so
    searches within them send the expression rather than the rows."""

    expr: str = ""


def selection(rows: np.ndarray, expr: str) -> Selection:
    out = np.asarray(rows, dtype="int64").view(Selection)
    out.expr = expr
    return out


def rows_expr(rows: np.ndarray) -> str:
    """A filter for arbitrary rows, as ranges of consecutive rows (a document's rows are one range)."""
    rows = np.unique(np.asarray(rows, dtype="int64"))
    if not len(rows):
        return "row < 0"
    breaks = np.flatnonzero(np.diff(rows) != 1)
    starts, ends = np.r_[rows[0], rows[breaks + 1]], np.r_[rows[breaks], rows[-1]]
    return " or ".join(f"(row >= {a} and row <= {b})" for a, b in zip(starts.tolist(), ends.tolist()))


class CatalogueTable(Mapping):
    """Documents' metadata by doc_id, in index order (from the catalogue read at first use)."""

    def __init__(self, rows: list[list], numbers: dict[str, int]):
        self.rows, self.numbers = rows, numbers

    def __getitem__(self, doc_id: str) -> dict:
        return dict(zip(CATALOGUE[:len(META) + 2], self.rows[self.numbers[doc_id]]))

    def __iter__(self):
        return iter(self.numbers)

    def __len__(self) -> int:
        return len(self.rows)

    def __contains__(self, doc_id) -> bool:
        return doc_id in self.numbers


class MilvusIndex(StoredIndex):
    """One version's three collections, read through a shared MilvusClient (thread-safe)."""

    def __init__(self, client, names, manifest: dict, ef_search: int | None = None):
        self.client, self.names, self.manifest = client, names, manifest
        params = manifest["vectors"]
        self.search_params = {"metric_type": "IP", "params": {}}
        if params["kind"] == "hnsw":
            self.search_params["params"]["ef"] = ef_search or params["ef_search"]
        self.piece = lru_cache(maxsize=PIECE_CACHE)(self._piece)

    # --- reading the documents collection -------------------------------------------------
    def blob(self, kind: str, document: int = -1) -> str:
        rows = self.client.query(self.names.documents, filter=f'kind == "{kind}" and document == {document}',
                                 output_fields=["piece", "body"], limit=16384)
        return "".join(r["body"] for r in sorted(rows, key=lambda r: r["piece"]))

    def _piece(self, document: int, piece: int) -> str:
        return self._pieces(document, piece, piece)[piece]

    def _pieces(self, document: int, first: int, last: int) -> dict[int, str]:
        rows = self.client.query(self.names.documents, output_fields=["piece", "body"], limit=last - first + 1,
                                 filter=f'kind == "text" and document == {document} and piece >= {first} '
                                        f'and piece <= {last}')
        return {r["piece"]: r["body"] for r in rows}

    @cached_property
    def catalogue(self) -> list[list]:
        return json.loads(self.blob("catalogue"))

    @cached_property
    def numbers(self) -> dict[str, int]:
        return {row[0]: i for i, row in enumerate(self.catalogue)}

    @cached_property
    def vocabulary(self) -> dict[str, list[int]]:
        return json.loads(self.blob("vocabulary"))

    @cached_property
    def section_list(self) -> list[tuple[str, int]]:
        return [(path, n) for path, n in json.loads(self.blob("sections"))]

    def entry(self, doc_id: str) -> dict:
        return dict(zip(CATALOGUE, self.catalogue[self.numbers[doc_id]]))

    # --- what answers read -----------------------------------------------------------------
    @property
    def documents(self) -> Mapping[str, dict]:
        return CatalogueTable(self.catalogue, self.numbers)

    @cached_property
    def abbreviations(self) -> dict[str, str]:
        return json.loads(self.blob("abbreviations"))

    def text(self, doc_id: str, start: int = 0, end: int | None = None) -> str:
        number, length = self.numbers[doc_id], self.entry(doc_id)["length"]
        end = length if end is None else min(max(end, 0), length)
        start = min(max(start, 0), end)
        if start == end:
            return ""
        first, last = start // PIECE, (end - 1) // PIECE
        if last - first > 1:
            pieces = self._pieces(number, first, last)
        else:
            pieces = {i: self.piece(number, i) for i in range(first, last + 1)}
        text = "".join(pieces[i] for i in range(first, last + 1))
        return text[start - first * PIECE:end - first * PIECE]

    def sentences(self, doc_id: str, start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
        entry = self.entry(doc_id)
        empty = np.zeros((0, 2), "int64"), np.zeros((0, self.manifest["dimension"]), "float32")
        if not self.manifest.get("sentences") or entry["sentence_from"] == entry["sentence_to"]:
            return empty
        rows = self.client.query(self.names.sentences, output_fields=["start", "end", "vector"], limit=16384,
                                 filter=f"document == {self.numbers[doc_id]} and start >= {int(start)} "
                                        f"and end <= {int(end)}")
        if not rows:
            return empty
        rows.sort(key=lambda r: r["start"])
        return (np.array([[r["start"], r["end"]] for r in rows], dtype="int64"),
                np.array([r["vector"] for r in rows], dtype="float32"))

    def doc_frequency(self, term: str) -> int:
        found = self.vocabulary.get(term)
        return 0 if found is None else int(found[1])

    def document(self, doc_id: str) -> dict:
        meta = self.documents[doc_id]
        record = json.loads(self.blob("record", self.numbers[doc_id]))
        return meta | {"headings": record["headings"], "abbreviations": record["abbreviations"],
                       "text": self.text(doc_id)}

    def sections(self) -> list[tuple[str, int]]:
        return [(path, n) for path, n in self.section_list if path]

    # --- what retrieval reads --------------------------------------------------------------
    def select(self, doc_ids: set[str] | None, section: str | None) -> np.ndarray | None:
        if doc_ids is None and not section:
            return None
        where, rows = [], None
        if doc_ids is not None:
            numbers = sorted(self.numbers[d] for d in doc_ids)
            where.append(f"document in {numbers}")
            entries = [self.catalogue[n] for n in numbers]
            rows = np.concatenate([np.arange(e[-4], e[-3]) for e in entries] or [np.zeros(0, "int64")])
        if section:
            needle = section.lower()
            wanted = [i for i, (path, _) in enumerate(self.section_list) if needle in path.lower()]
            where.append(f"section_number in {wanted}")
            hit = self.query_rows(" and ".join(where)) if wanted else np.zeros(0, "int64")
            rows = hit if rows is None else np.intersect1d(rows, hit)
        return selection(rows, " and ".join(where))

    def query_rows(self, expr: str) -> np.ndarray:
        """Rows of every passage matching a filter, page by page."""
        found = []
        pages = self.client.query_iterator(self.names.passages, batch_size=ITERATOR_BATCH, filter=expr,
                                           output_fields=["row"])
        try:
            while page := pages.next():
                found += [r["row"] for r in page]
        finally:
            pages.close()
        return np.array(sorted(found), dtype="int64")

    def _search(self, data, field: str, k: int, allowed: np.ndarray | None, params: dict):
        expr = "" if allowed is None else (getattr(allowed, "expr", "") or rows_expr(allowed))
        hits = self.client.search(self.names.passages, data=[data], anns_field=field, limit=k, filter=expr,
                                  output_fields=["row"], search_params=params)[0]
        return (np.array([h["row"] for h in hits], dtype="int64"),
                np.array([h["distance"] for h in hits], dtype="float32"))

    def dense(self, query: np.ndarray, k: int, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        if allowed is not None and not len(allowed):
            return np.zeros(0, "int64"), np.zeros(0, "float32")
        return self._search(np.asarray(query, dtype="float32").tolist(), "vector", k, allowed, self.search_params)

    def dense_scores(self, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return self.fetch(rows, "vector") @ np.asarray(query, dtype="float32")

    def query_terms(self, question: str) -> dict[int, float]:
        """The question as a sparse vector: each known term's column, weighted by how often it occurs
        (as careqa's BM25 adds a term's weight once per occurrence)."""
        counts = Counter(terms(question))
        return {self.vocabulary[t][0]: float(n) for t, n in counts.items() if t in self.vocabulary}

    def lexical(self, question: str, k: int, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        query = self.query_terms(question)
        if not query or (allowed is not None and not len(allowed)):
            return np.zeros(0, "int64"), np.zeros(0, "float32")
        rows, _ = self._search(query, "lexical", k, allowed, {"metric_type": "IP", "params": {}})
        scores = self.lexical_scores(question, rows)
        order = np.lexsort((rows, -scores))  # ties by row, as the FAISS store orders them
        keep = order[scores[order] > 0]
        return rows[keep], scores[keep]

    def lexical_scores(self, question: str, rows: np.ndarray) -> np.ndarray:
        """Each query term's weight added in turn in float32, as lexical.bm25_scores adds them."""
        sparse = self.fetch(rows, "lexical")
        scores = np.zeros(len(rows), dtype="float32")
        for term in terms(question):
            found = self.vocabulary.get(term)
            if found is not None:
                scores += np.array([s.get(found[0], 0.0) for s in sparse], dtype="float32")
        return scores

    def fetch(self, rows: Sequence[int], field: str):
        """One field of the given passages, in the order given (vectors as a float32 matrix)."""
        rows = [int(r) for r in rows]
        got = {r["row"]: r[field] for r in self.client.get(self.names.passages, ids=rows, output_fields=[field])} \
            if rows else {}
        values = [got[r] for r in rows]
        if field != "vector":
            return values
        return np.array(values, dtype="float32").reshape(len(rows), self.manifest["dimension"])

    def passages(self, rows: Sequence[int]) -> list[Chunk]:
        rows = [int(r) for r in rows]
        got = {r["row"]: r for r in self.client.get(self.names.passages, ids=rows, output_fields=PASSAGE_FIELDS)} \
            if rows else {}
        return [Chunk(got[r]["chunk_id"], got[r]["doc_id"], got[r]["section"], got[r]["start"], got[r]["end"],
                      got[r]["text"], got[r]["tokens"]) for r in rows]

    def contents(self, doc_id: str) -> DocumentContents:
        e = self.entry(doc_id)
        rows = np.arange(e["passage_from"], e["passage_to"])
        sentences = sentence_vectors = None
        if self.manifest.get("sentences"):
            sentences, sentence_vectors = self.sentences(doc_id, 0, e["length"])
        return DocumentContents(self.document(doc_id), self.passages(rows), self.fetch(rows, "vector"),
                                sentences, sentence_vectors)
