"""One version of the Milvus store, opened for reading (layout: milvus_store.py).

Nothing but the manifest is read when a version is opened; the catalogue of documents, the
vocabulary and the section list are read once when first needed, passages, sentences and text
pieces per question. Scores handed to fusion are computed here from the stored vectors and BM25
weights exactly as the FAISS store computes them, so the two stores give the same answers.
"""
from __future__ import annotations

import json
import threading
from collections import Counter, OrderedDict
from collections.abc import Mapping
from functools import cached_property, lru_cache
from typing import Sequence

import numpy as np

from .errors import CareqaError
from .faiss_write import META
from .lexical import terms
from .milvus_store import QUERY_MAX
from .milvus_write import PIECE
from .records import Chunk
from .store import DocumentContents, StoredIndex

PIECE_CACHE = 256  # text pieces a process keeps (4 MB at most): those of the last few answers
ROW_CACHE = 2048  # passages kept with their vectors (~4 MB at 384 dimensions): a question's candidates
SPAN_CACHE = 1024  # passages whose sentences are kept (~12 MB): those of the last few answers
ITERATOR_BATCH = 4096  # rows per page when a query may return more than Milvus's 16,384 limit
PASSAGE_FIELDS = ["row", "chunk_id", "doc_id", "section", "document", "start", "end", "tokens", "text",
                  "sentence_from", "sentence_to", "vector", "lexical"]
CATALOGUE = ("doc_id", *META, "sha256", "length", "passage_from", "passage_to", "sentence_from", "sentence_to",
             "text_key")  # text_key: primary key of the document's first text piece (the rest follow)
LENGTH, P_FROM, P_TO, S_FROM, S_TO, TEXT_KEY = (CATALOGUE.index(c) for c in CATALOGUE[-6:])
RELEASED = ("released", "not loaded")  # how Milvus Lite and Milvus say a collection is not in memory


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


def as_chunk(record: dict) -> Chunk:
    """A passage row as the Chunk the stores share."""
    return Chunk(record["chunk_id"], record["doc_id"], record["section"], record["start"], record["end"],
                 record["text"], record["tokens"])


class Recent:
    """A small thread-safe least-recently-used map: what several calls of one answer share."""

    def __init__(self, size: int):
        self.size, self.items, self.lock = size, OrderedDict(), threading.Lock()

    def get(self, key):
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
            return self.items.get(key)

    def find(self, wanted):
        """The value of the most recent key for which wanted(key) holds, or None."""
        with self.lock:
            key = next((k for k in reversed(self.items) if wanted(k)), None)
        return None if key is None else self.get(key)

    def put(self, key, value) -> None:
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)


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


class VersionReader(StoredIndex):
    """What a version's documents collection holds (catalogue, vocabulary, sections, text in
    pieces) and the reads every other part goes through; MilvusIndex adds passages and search."""

    client: object
    names: object
    reason: object

    def call(self, method: str, collection: str, **kwargs):
        """A read; a collection a restarted Milvus Lite server released is loaded again and the read
        retried, and any other failure is one line (the token never in it)."""
        def failed(exc: Exception) -> CareqaError:
            return CareqaError(f"Milvus: cannot {method.replace('_', ' ')} {collection} ({self.reason(exc)})")

        try:
            return getattr(self.client, method)(collection, **kwargs)
        except Exception as exc:
            if not any(word in str(exc) for word in RELEASED):
                raise failed(exc) from None
        try:
            self.client.load_collection(collection)
            return getattr(self.client, method)(collection, **kwargs)
        except Exception as exc:
            raise failed(exc) from None

    # --- reading the documents collection -------------------------------------------------
    def blob(self, kind: str, document: int = -1) -> str:
        rows = self.all_rows(self.names.documents, f'kind == "{kind}" and document == {document}', ["piece", "body"])
        return "".join(r["body"] for r in sorted(rows, key=lambda r: r["piece"]))

    def _piece(self, document: int, piece: int) -> str:
        return self._pieces(document, piece, piece)[piece]

    def _pieces(self, document: int, first: int, last: int) -> dict[int, str]:
        """Text pieces by primary key (a filtered query scans the collection: ~0.1 s at 100k passages)."""
        key = self.owned(document, TEXT_KEY)
        rows = self.call("get", self.names.documents, ids=list(range(key + first, key + last + 1)),
                         output_fields=["piece", "body"])
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
        number = self.numbers[doc_id]
        length = self.owned(number, LENGTH)
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

    def owned(self, document: int, column: int) -> int:
        return self.catalogue[document][column]

    def all_rows(self, collection: str, expr: str, fields: list[str], most: int | None = None) -> list[dict]:
        """Every row matching a filter: one query when at most `most` can match (within Milvus's
        16,384-row limit), else page by page."""
        if most is not None and most <= QUERY_MAX:
            return self.call("query", collection, filter=expr, output_fields=fields, limit=max(most, 1))
        return [row for page in self.pages(collection, expr, fields) for row in page]

    def pages(self, collection: str, expr: str, fields: list[str]):
        """Every row matching a filter, a page at a time."""
        found = self.call("query_iterator", collection, batch_size=ITERATOR_BATCH, filter=expr, output_fields=fields)
        try:
            while page := found.next():
                yield page
        finally:
            found.close()

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


class MilvusIndex(VersionReader):
    """One version's three collections, read through a shared MilvusClient (thread-safe)."""

    def __init__(self, client, names, manifest: dict, ef_search: int | None = None, reason=str):
        self.client, self.names, self.manifest, self.reason = client, names, manifest, reason
        params = manifest["vectors"]
        self.search_params = {"metric_type": "IP", "params": {}}
        if params["kind"] == "hnsw":
            self.search_params["params"]["ef"] = ef_search or params["ef_search"]
        self.piece = lru_cache(maxsize=PIECE_CACHE)(self._piece)
        self.rows, self.spans = Recent(ROW_CACHE), Recent(SPAN_CACHE)

    def sentences(self, doc_id: str, start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
        """Selected as the FAISS store does, from the sentences starting inside the passage that
        holds the span (read with the passage), or, for a span of no recent passage, by a query."""
        number = self.numbers[doc_id]
        held = self.spans.get((number, start, end)) or self.spans.find(
            lambda k: k[0] == number and k[1] <= start and end <= k[2])
        if held is None:
            held = self.query_sentences(number, int(start), int(end))
            self.spans.put((number, start, end), held)
        spans, vectors = held
        a, b = int(np.searchsorted(spans[:, 0], start)), int(np.searchsorted(spans[:, 0], end, side="right"))
        inside = spans[a:b, 1] <= end
        return spans[a:b][inside], vectors[a:b][inside]

    def query_sentences(self, number: int, start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
        most = self.owned(number, S_TO) - self.owned(number, S_FROM)
        rows = self.all_rows(self.names.sentences, f"document == {number} and start >= {start} and start <= {end}",
                             ["start", "end", "vector"], most) if most else []
        return self.as_spans(rows)

    def as_spans(self, rows: list[dict]) -> tuple[np.ndarray, np.ndarray]:
        rows = sorted(rows, key=lambda r: r["start"])
        return (np.array([[r["start"], r["end"]] for r in rows], dtype="int64").reshape(-1, 2),
                np.array([r["vector"] for r in rows], dtype="float32").reshape(-1, self.manifest["dimension"]))

    def read_sentences(self, records: list[dict]) -> None:
        """The sentences starting inside each passage, by primary key in one read, into the cache."""
        todo = [r for r in records if self.spans.get((r["document"], r["start"], r["end"])) is None]
        ids = [i for r in todo for i in range(r["sentence_from"], r["sentence_to"])]
        found = {s["row"]: s for s in self.call("get", self.names.sentences, ids=ids,
                                                 output_fields=["row", "start", "end", "vector"])} if ids else {}
        for r in todo:
            rows = [found[i] for i in range(r["sentence_from"], r["sentence_to"])]
            self.spans.put((r["document"], r["start"], r["end"]), self.as_spans(rows))

    # --- what retrieval reads --------------------------------------------------------------
    def select(self, doc_ids: set[str] | None, section: str | None) -> np.ndarray | None:
        if doc_ids is None and not section:
            return None
        where, rows = [], None
        if doc_ids is not None:
            numbers = sorted(self.numbers[d] for d in doc_ids)
            where.append(f"document in {numbers}")
            rows = np.concatenate([np.arange(self.owned(n, P_FROM), self.owned(n, P_TO)) for n in numbers]
                                  or [np.zeros(0, "int64")])
        if section:
            needle = section.lower()
            wanted = [i for i, (path, _) in enumerate(self.section_list) if needle in path.lower()]
            where.append(f"section_number in {wanted}")
            found = self.all_rows(self.names.passages, " and ".join(where), ["row"]) if wanted else []
            hit = np.array(sorted(r["row"] for r in found), dtype="int64")
            rows = hit if rows is None else np.intersect1d(rows, hit)
        return selection(rows, " and ".join(where))

    def _search(self, data, field: str, k: int, allowed: np.ndarray | None, params: dict):
        expr = "" if allowed is None else (getattr(allowed, "expr", "") or rows_expr(allowed))
        hits = self.call("search", self.names.passages, data=[data], anns_field=field, limit=k, filter=expr,
                         output_fields=["row"], search_params=params)[0]
        return (np.array([h["row"] for h in hits], dtype="int64"),
                np.array([h["distance"] for h in hits], dtype="float32"))

    def dense(self, query: np.ndarray, k: int, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        if allowed is not None and not len(allowed):
            return np.zeros(0, "int64"), np.zeros(0, "float32")
        return self._search(np.asarray(query, dtype="float32").tolist(), "vector", k, allowed, self.search_params)

    def dense_scores(self, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
        vectors = np.array([r["vector"] for r in self.records(rows)], dtype="float32")
        return vectors.reshape(len(rows), self.manifest["dimension"]) @ np.asarray(query, dtype="float32")

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
        sparse = [r["lexical"] for r in self.records(rows)]
        scores = np.zeros(len(rows), dtype="float32")
        for term in terms(question):
            found = self.vocabulary.get(term)
            if found is not None:
                scores += np.array([s.get(found[0], 0.0) for s in sparse], dtype="float32")
        return scores

    def records(self, rows: Sequence[int]) -> list[dict]:
        """Every field of the given passages, in the order given: one get for those not held, so
        the scores and texts of a question's candidates cost one round trip."""
        rows = [int(r) for r in rows]
        held = {r: self.rows.get(r) for r in rows}
        missing = [r for r, got in held.items() if got is None]
        if missing:
            for record in self.call("get", self.names.passages, ids=missing, output_fields=PASSAGE_FIELDS):
                held[record["row"]] = record
                self.rows.put(record["row"], record)
        return [held[r] for r in rows]

    def passages(self, rows: Sequence[int]) -> list[Chunk]:
        records = self.records(rows)
        self.read_sentences(records)
        return [as_chunk(r) for r in records]

    def contents(self, doc_id: str) -> DocumentContents:
        number = self.numbers[doc_id]
        rows = np.arange(self.owned(number, P_FROM), self.owned(number, P_TO))
        records = self.all_rows(self.names.passages, f"document == {number}", PASSAGE_FIELDS, len(rows))
        records.sort(key=lambda r: r["row"])
        vectors = np.array([r["vector"] for r in records], dtype="float32").reshape(len(rows), -1)
        sentences = sentence_vectors = None
        if self.manifest.get("sentences"):
            sentences, sentence_vectors = self.as_spans(self.all_rows(
                self.names.sentences, f"document == {number}", ["start", "end", "vector"],
                self.owned(number, S_TO) - self.owned(number, S_FROM)))
        chunks = [as_chunk(r) for r in records]
        return DocumentContents(self.document(doc_id), chunks, vectors, sentences, sentence_vectors)
