"""Writing one version of the Milvus store: its three collections (layout: milvus_store.py).

Rows go in batches, one document's arrays at a time, so a writer holds little beside what the
writer handed it. Every filter a reader sends uses integer fields only (document and section
numbers), so no document name is ever spliced into a Milvus expression.
"""
from __future__ import annotations

import json

import numpy as np

from .faiss_write import META, SENTENCE_DTYPE

BATCH = 2000  # rows per insert: well under gRPC's 256 MB message limit at 384-4096 dimensions
PIECE = 16_000  # characters per text piece: at most 64,000 UTF-8 bytes, under VARCHAR's 65,535
VARCHAR_MAX = 65_535  # Milvus's largest VARCHAR, in bytes
NAME_MAX = 4_096  # longest document id or section path kept (paths in a corpus folder are shorter)
# Milvus has no tables without a vector field (milvus-io/milvus#52065): the documents collection
# carries this 2-number placeholder, never searched
PLACEHOLDER = [0.0, 0.0]
NO_TERMS = 2**32 - 2  # the sparse column of a passage without a single term (Milvus stores no empty rows)


def passage_schema(client, dimension: int):
    from pymilvus import DataType

    s = client.create_schema(auto_id=False, enable_dynamic_field=False)
    s.add_field("row", DataType.INT64, is_primary=True)
    s.add_field("chunk_id", DataType.VARCHAR, max_length=NAME_MAX + 16)
    s.add_field("doc_id", DataType.VARCHAR, max_length=NAME_MAX)
    s.add_field("section", DataType.VARCHAR, max_length=NAME_MAX)
    s.add_field("document", DataType.INT32)
    s.add_field("section_number", DataType.INT32)
    s.add_field("start", DataType.INT64)
    s.add_field("end", DataType.INT64)
    s.add_field("tokens", DataType.INT32)
    s.add_field("text", DataType.VARCHAR, max_length=VARCHAR_MAX)
    s.add_field("sentence_from", DataType.INT64)
    s.add_field("sentence_to", DataType.INT64)
    s.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
    s.add_field("lexical", DataType.SPARSE_FLOAT_VECTOR)
    return s


def sentence_schema(client, dimension: int):
    from pymilvus import DataType

    s = client.create_schema(auto_id=False, enable_dynamic_field=False)
    s.add_field("row", DataType.INT64, is_primary=True)
    s.add_field("document", DataType.INT32)
    s.add_field("start", DataType.INT64)
    s.add_field("end", DataType.INT64)
    s.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
    return s


def document_schema(client):
    from pymilvus import DataType

    s = client.create_schema(auto_id=False, enable_dynamic_field=False)
    s.add_field("key", DataType.INT64, is_primary=True)
    s.add_field("kind", DataType.VARCHAR, max_length=32)
    s.add_field("document", DataType.INT32)
    s.add_field("piece", DataType.INT32)
    s.add_field("body", DataType.VARCHAR, max_length=VARCHAR_MAX)
    s.add_field("placeholder", DataType.FLOAT_VECTOR, dim=len(PLACEHOLDER))
    return s


def vector_index(params: dict) -> tuple[str, dict]:
    """Milvus's index type and build parameters for vectors.choose's choice (same HNSW settings)."""
    if params["kind"] == "flat":
        return "FLAT", {}
    return "HNSW", {"M": params["m"], "efConstruction": params["ef_construction"]}


def create(client, name: str, schema, indexes: list[tuple]) -> None:
    """A collection with its indexes, read with strong consistency (a reader sees every write)."""
    ip = client.prepare_index_params()
    for field, kind, metric, params in indexes:
        ip.add_index(field_name=field, index_type=kind, params=params, **({"metric_type": metric} if metric else {}))
    client.create_collection(name, schema=schema, consistency_level="Strong")
    # sync=False: pymilvus would poll the index state with an RPC that Milvus Lite lacks; Milvus
    # builds the index on each segment as it is flushed, and loading only needs it defined
    client.create_index(name, ip, sync=False)
    client.load_collection(name)


def insert(client, name: str, rows: list[dict], force: bool = False) -> list[dict]:
    """Insert when a batch is full (or `force`); the rows still pending."""
    if rows and (force or len(rows) >= BATCH):
        client.insert(name, rows)
        return []
    return rows


def by_passage(lexical, count: int) -> list[dict[int, float]]:
    """The term-major BM25 weights (lexical.BM25) turned passage-major: one sparse row per passage."""
    indptr = np.asarray(lexical.indptr)
    columns = np.repeat(np.arange(len(indptr) - 1, dtype="int64"), np.diff(indptr))
    passages = np.asarray(lexical.indices[:len(columns)], dtype="int64")
    weights = np.asarray(lexical.data[:len(columns)], dtype="float32")
    order = np.argsort(passages, kind="stable")
    bounds = np.searchsorted(passages[order], np.arange(count + 1))
    rows = []
    for p in range(count):
        at = order[bounds[p]:bounds[p + 1]]
        rows.append(dict(zip(columns[at].tolist(), weights[at].tolist())) or {NO_TERMS: 1.0})
    return rows


def with_sentences(parts) -> bool:
    """Whether the version stores sentences: only when every document has their vectors (an index
    built without them has none at all)."""
    return all(getattr(p, "sentence_vectors", None) is not None for p in parts)


def sentence_ranges(parts) -> list[tuple[int, int]]:
    """For each passage, the rows of the sentences starting inside it (as the FAISS store selects
    them): readers fetch a passage's sentences by primary key, the fastest read Milvus has."""
    if not with_sentences(parts):
        return [(0, 0)] * sum(len(p.chunks) for p in parts)  # an index without sentences (write_sentences)
    ranges, first = [], 0
    for p in parts:
        starts = np.asarray(p.sentences).reshape(-1, 2)[:, 0]
        for c in p.chunks:
            ranges.append((first + int(np.searchsorted(starts, c.start)),
                           first + int(np.searchsorted(starts, c.end, side="right"))))
        first += len(starts)
    return ranges


def write_passages(client, name: str, parts, lexical, sections: dict[str, int]) -> int:
    sparse = by_passage(lexical, sum(len(p.chunks) for p in parts))
    ranges = sentence_ranges(parts)
    rows, row = [], 0
    for number, p in enumerate(parts):
        for i, (c, vec) in enumerate(zip(p.chunks, p.vectors)):
            rows.append({"row": row, "chunk_id": f"{p.doc.doc_id}#{i}", "doc_id": p.doc.doc_id, "section": c.section,
                         "document": number, "section_number": sections.setdefault(c.section, len(sections)),
                         "start": c.start, "end": c.end, "tokens": c.tokens, "text": c.text,
                         "sentence_from": ranges[row][0], "sentence_to": ranges[row][1],
                         "vector": np.asarray(vec, dtype="float32"), "lexical": sparse[row]})
            row += 1
            rows = insert(client, name, rows)
    insert(client, name, rows, force=True)
    return row


def write_sentences(client, name: str, parts) -> int:
    """Sentence spans and vectors (rounded to float16 as the FAISS store keeps them, so answers
    match); 0 when any document has none (an index built without them)."""
    if not with_sentences(parts):
        return 0
    rows, row = [], 0
    for number, p in enumerate(parts):
        codes = np.asarray(p.sentence_vectors).astype(SENTENCE_DTYPE).astype("float32")
        for (start, end), vec in zip(np.asarray(p.sentences).tolist(), codes):
            rows.append({"row": row, "document": number, "start": start, "end": end, "vector": vec})
            row += 1
            rows = insert(client, name, rows)
    insert(client, name, rows, force=True)
    return row


class Blobs:
    """JSON and text written as pieces into the documents collection, keyed by (kind, document)."""

    def __init__(self, client, name: str):
        self.client, self.name, self.key, self.rows = client, name, 0, []

    def text(self, kind: str, text: str, document: int = -1) -> None:
        for piece, at in enumerate(range(0, max(len(text), 1), PIECE)):
            self.rows.append({"key": self.key, "kind": kind, "document": document, "piece": piece,
                              "body": text[at:at + PIECE], "placeholder": PLACEHOLDER})
            self.key += 1
            self.rows = insert(self.client, self.name, self.rows)

    def json(self, kind: str, value, document: int = -1) -> None:
        self.text(kind, json.dumps(value, ensure_ascii=False), document)

    def flush(self) -> None:
        self.rows = insert(self.client, self.name, self.rows, force=True)


def write_documents(blobs: Blobs, parts, sections: dict[str, int], counts: list[int], lexical) -> None:
    """Each document's text and record, then the catalogue, sections, abbreviations, vocabulary."""
    catalogue, merged, passage, sentence, stored = [], {}, 0, 0, with_sentences(parts)
    for number, p in enumerate(parts):
        d, meta, text_key = p.doc, p.doc.meta(), blobs.key
        blobs.text("text", d.text, number)
        blobs.json("record", {"headings": [[h.title, h.level, h.start, h.end] for h in d.headings],
                              "abbreviations": d.abbreviations}, number)
        owned = len(p.sentences) if stored else 0  # the rows write_sentences gave this document
        catalogue.append([d.doc_id, *(meta[k] for k in META), d.sha256, len(d.text),
                          passage, passage + len(p.chunks), sentence, sentence + owned, text_key])
        passage, sentence = passage + len(p.chunks), sentence + owned
        for short, long in d.abbreviations.items():
            merged.setdefault(short, long)
    blobs.json("catalogue", catalogue)
    blobs.json("sections", [[path, counts[i]] for path, i in sections.items()])
    blobs.json("abbreviations", merged)
    df = np.diff(np.asarray(lexical.indptr)).tolist()
    blobs.json("vocabulary", {t: [c, df[c]] for t, c in lexical.vocab.items()})


def section_counts(parts, sections: dict[str, int]) -> list[int]:
    counts = [0] * len(sections)
    for p in parts:
        for c in p.chunks:
            counts[sections[c.section]] += 1
    return counts


def write_version(client, names, new, params: dict, manifest: dict) -> None:
    """Every collection of a version, flushed, with the manifest (plus the fields the parts add:
    dimension, counts, vector index) written last: a version without it is incomplete."""
    parts = new.parts
    dimension = int(parts[0].vectors.shape[1])
    kind, build = vector_index(params)
    create(client, names.passages, passage_schema(client, dimension),
           [("vector", kind, "IP", build), ("lexical", "SPARSE_INVERTED_INDEX", "IP", {}),
            ("document", "INVERTED", "", {}), ("section_number", "INVERTED", "", {})])
    create(client, names.sentences, sentence_schema(client, dimension),
           [("vector", "FLAT", "IP", {}), ("document", "INVERTED", "", {})])
    create(client, names.documents, document_schema(client),
           [("placeholder", "FLAT", "L2", {}), ("kind", "INVERTED", "", {}), ("document", "INVERTED", "", {})])
    sections: dict[str, int] = {}
    chunks = write_passages(client, names.passages, parts, new.lexical, sections)
    sentences = write_sentences(client, names.sentences, parts)
    blobs = Blobs(client, names.documents)
    write_documents(blobs, parts, sections, section_counts(parts, sections), new.lexical)
    client.flush(names.passages)
    client.flush(names.sentences)
    manifest.update(dimension=dimension, chunks=chunks, sentences=sentences, vectors=params,
                    bm25_terms=len(new.lexical.vocab))
    blobs.json("manifest", manifest)
    blobs.flush()
    client.flush(names.documents)
