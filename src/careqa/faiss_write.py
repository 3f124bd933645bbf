"""Writing one version folder of the FAISS store (its parts are described in store.py).

Parts are written document by document into preallocated files, so a writer holds one
document's arrays at a time beside the FAISS index being built, whatever the collection's size.
"""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np

from . import vectors

PASSAGE = np.dtype([("doc", "<i4"), ("section", "<i4"), ("start", "<i8"), ("end", "<i8"), ("tokens", "<i4")])
# sentence vectors at half precision: on the 208 questions of the shared and own question sets
# float16 changed no answer and int8 (with a scale per vector) changed one, for half the disk
SENTENCE_DTYPE = "float16"

SCHEMA = """
CREATE TABLE documents (
    doc_id TEXT PRIMARY KEY, path TEXT NOT NULL, title TEXT NOT NULL, publisher TEXT, date TEXT,
    kind TEXT, url TEXT, short TEXT, sha256 TEXT, headings TEXT, abbreviations TEXT,
    passage_from INTEGER, passage_to INTEGER, sentence_from INTEGER, sentence_to INTEGER, text TEXT);
CREATE TABLE sections (id INTEGER PRIMARY KEY, path TEXT NOT NULL);
CREATE TABLE abbreviations (short TEXT PRIMARY KEY, long TEXT NOT NULL);
"""
META = ("path", "title", "publisher", "date", "kind", "url", "short")


def _array(folder: Path, name: str, dtype, shape: tuple) -> np.memmap | np.ndarray:
    """A .npy file of the given shape, filled in place (an empty array is written directly)."""
    if 0 in shape:
        np.save(folder / name, np.zeros(shape, dtype=dtype))
        return np.zeros(shape, dtype=dtype)
    return np.lib.format.open_memmap(folder / name, mode="w+", dtype=dtype, shape=shape)


def write_documents(path: Path, parts, sections: dict[str, int]) -> None:
    """documents.sqlite: one row per document with the row ranges it owns, sections, abbreviations."""
    db = sqlite3.connect(path)
    try:
        db.executescript(SCHEMA)
        passage = sentence = 0
        merged: dict[str, str] = {}
        for number, p in enumerate(parts):
            d, meta = p.doc, p.doc.meta()
            count = len(p.sentences) if getattr(p, "sentence_vectors", None) is not None else 0
            db.execute("INSERT INTO documents (rowid, doc_id, path, title, publisher, date, kind, url, short, "
                       "sha256, headings, abbreviations, passage_from, passage_to, sentence_from, sentence_to, text) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (number, d.doc_id, *(meta[k] for k in META), d.sha256,
                        json.dumps([[h.title, h.level, h.start, h.end] for h in d.headings]),
                        json.dumps(d.abbreviations, ensure_ascii=False),
                        passage, passage + len(p.chunks), sentence, sentence + count, d.text))
            passage, sentence = passage + len(p.chunks), sentence + count
            for short, long in d.abbreviations.items():
                merged.setdefault(short, long)
        db.executemany("INSERT INTO sections (id, path) VALUES (?, ?)", ((i, s) for s, i in sections.items()))
        db.executemany("INSERT INTO abbreviations (short, long) VALUES (?, ?)", merged.items())
        db.commit()
    finally:
        db.close()


def write_passages(folder: Path, parts, sections: dict[str, int]) -> int:
    """passages.npy: doc, section, offsets and tokens of every passage, row = FAISS id."""
    table = _array(folder, "passages.npy", PASSAGE, (sum(len(p.chunks) for p in parts),))
    row = 0
    for number, p in enumerate(parts):
        for c in p.chunks:
            table[row] = (number, sections.setdefault(c.section, len(sections)), c.start, c.end, c.tokens)
            row += 1
    del table
    return row


def write_sentences(folder: Path, parts, dimension: int) -> int:
    """sentences.npy and sentence_vectors.npy; 0 when any document has no sentence vectors (an
    index built without them)."""
    if any(getattr(p, "sentence_vectors", None) is None for p in parts):
        return 0
    total = sum(len(p.sentences) for p in parts)
    spans = _array(folder, "sentences.npy", "int64", (total, 2))
    codes = _array(folder, "sentence_vectors.npy", SENTENCE_DTYPE, (total, dimension))
    row = 0
    for p in parts:
        n = len(p.sentences)
        spans[row:row + n] = p.sentences
        codes[row:row + n] = p.sentence_vectors
        row += n
    del spans, codes
    return total


def write_bm25(folder: Path, bm25) -> None:
    with open(folder / "bm25_vocab.json", "w", encoding="utf-8") as fh:
        json.dump(bm25.vocab, fh, ensure_ascii=False)
    for name in ("indptr", "indices", "data"):
        np.save(folder / f"bm25_{name}.npy", getattr(bm25, name))


def write_folder(folder: Path, new, params: dict) -> dict:
    """Every part of a version into `folder`; the manifest fields they add."""
    parts = new.parts
    dimension = int(parts[0].vectors.shape[1])
    sections: dict[str, int] = {}
    chunks = write_passages(folder, parts, sections)
    write_documents(folder / "documents.sqlite", parts, sections)
    index = vectors.build(params, dimension, (p.vectors for p in parts))
    vectors.write(index, folder / "vectors.faiss")
    sentences = write_sentences(folder, parts, dimension)
    write_bm25(folder, new.lexical)
    return {"dimension": dimension, "chunks": chunks, "sentences": sentences, "vectors": params,
            "bm25_terms": len(new.lexical.vocab)}
