"""The store interface: where an index version lives, and everything answering reads from it.

A `Store` keeps versions of an index (write a version and switch to it, load the live one, switch
back, verify); a `StoredIndex` is one loaded version: dense search, lexical search, fetching
passages, document text and sentence vectors. Retrieval (retrieve.py) fuses the dense and lexical
lists itself, so answers do not depend on the backend. Backends: the versioned on-disk FAISS
store (faiss_store.py), the default; Milvus (milvus_store.py, CAREQA_STORE=milvus), which
implements the same two classes over collections and an alias.

On-disk FAISS store, FORMAT_VERSION 2 (index/<name>/v-<stamp>/; versions and CURRENT: folders.py):

    manifest.json           written last: format, model, dimension, chunker, the vector index
                            kind and parameters, counts, and each document's content hash
    documents.sqlite        table documents: one row per document, keyed by doc_id (TEXT PRIMARY
                            KEY) with its metadata, text, headings, abbreviations and the row
                            ranges [passage_from, passage_to) and [sentence_from, sentence_to) it
                            owns in the arrays below; table sections (id, path); table
                            abbreviations (short, long) merged over all documents
    passages.npy            one record per passage, row = FAISS id: doc (documents.rowid),
                            section (sections.id), start, end (character offsets in the
                            document's text), tokens. A passage's text is text[start:end] and its
                            chunk id is "<doc_id>#<row - passage_from>"
    vectors.faiss           passage vectors (normalised float32, inner product): IndexFlatIP or
                            IndexHNSWFlat, memory-mapped when loaded; the only copy of them
    sentences.npy           (start, end) of each sentence inside some passage, per document in
                            text order (rows: the document's sentence range)
    sentence_vectors.npy    those sentences' vectors as float16, memory-mapped, read per passage
    bm25_vocab.json         term -> column; bm25_indptr.npy, bm25_indices.npy, bm25_data.npy: the
                            BM25 weights, term-major (lexical.BM25), memory-mapped

An index of an older format is refused with one line asking for a rebuild.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .config import Settings
from .errors import CareqaError, IndexCorruptError
from .records import Chunk

FORMAT_VERSION = 2
REBUILD = "rebuild with `careqa index build`"
LOAD_ATTEMPTS = 5  # moves of the live version a reader follows before it gives up


def check_format(manifest: dict, where: str) -> dict:
    """The manifest, when this careqa wrote its format; IndexCorruptError naming `where` otherwise."""
    if manifest.get("format") != FORMAT_VERSION:
        raise IndexCorruptError(f"{where}: index format {manifest.get('format')} is not {FORMAT_VERSION} "
                                f"(made by another careqa version); {REBUILD}")
    return manifest


def load_following(current: Callable[[], str | None], open_live: Callable[[], "StoredIndex"]) -> "StoredIndex":
    """Open the live version; if a writer switched it (and pruned the old one) meanwhile, open the
    new one. A version deleted under a reader is not corruption: retry while the live one moves."""
    for _ in range(LOAD_ATTEMPTS):
        version = current()
        try:
            return open_live()
        except CareqaError:
            if current() == version:
                raise
    return open_live()


@dataclass
class DocumentContents:
    """One document as a version holds it, so an update can reuse it without embedding again:
    `record` has its metadata, sha256, text, headings and abbreviations."""

    record: dict
    chunks: list[Chunk]
    vectors: np.ndarray
    sentences: np.ndarray | None
    sentence_vectors: np.ndarray | None


@dataclass
class NewVersion:
    """What a writer hands a store: the manifest's fields (model, chunker, documents...), the
    documents in order, each with `.doc` (metadata, text, headings, abbreviations, sha256),
    `.chunks`, `.vectors` and optionally `.sentences` / `.sentence_vectors`, and the BM25 weights
    of the passages in that order (lexical.BM25)."""

    manifest: dict
    parts: Sequence
    lexical: object


class StoredIndex(ABC):
    """One loaded index version. Answers read it through text, sentences, doc_frequency,
    num_chunks, abbreviations and documents; retrieval through select, dense, lexical and
    passages. Passages are addressed by row (0 .. num_chunks-1)."""

    manifest: dict

    @property
    def version(self) -> str:
        return self.manifest["version"]

    @property
    def num_chunks(self) -> int:
        return int(self.manifest["chunks"])

    @property
    @abstractmethod
    def documents(self) -> Mapping[str, dict]:
        """Metadata by doc_id (path, title, publisher, date, kind, url, short, sha256), in order."""

    @property
    @abstractmethod
    def abbreviations(self) -> dict[str, str]:
        """Abbreviations the documents define (short -> long), merged, first definition kept."""

    @abstractmethod
    def text(self, doc_id: str, start: int = 0, end: int | None = None) -> str:
        """A span of a document's text (the whole text by default)."""

    @abstractmethod
    def sentences(self, doc_id: str, start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
        """(spans, vectors) of the sentences inside text[start:end] of a document, in text
        order: spans an (n, 2) int array of (start, end), vectors (n, dimension) float32."""

    @abstractmethod
    def doc_frequency(self, term: str) -> int:
        """In how many passages a (stemmed) term occurs."""

    @abstractmethod
    def document(self, doc_id: str) -> dict:
        """A document's metadata plus "text" and "headings" ([title, level, start, end], ...)."""

    @abstractmethod
    def sections(self) -> list[tuple[str, int]]:
        """Every section path with its number of passages, in document order."""

    @abstractmethod
    def select(self, doc_ids: set[str] | None, section: str | None) -> np.ndarray | None:
        """Rows of the passages of these documents whose section path contains `section`
        (case-insensitive); None when nothing is filtered."""

    @abstractmethod
    def dense(self, query: np.ndarray, k: int, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """(rows, inner products) of the k passages nearest the query vector, within `allowed`."""

    @abstractmethod
    def dense_scores(self, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Inner products of the query vector with the given passages' vectors."""

    @abstractmethod
    def lexical(self, question: str, k: int, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """(rows, BM25 scores) of the k best passages with a positive score, within `allowed`."""

    @abstractmethod
    def lexical_scores(self, question: str, rows: np.ndarray) -> np.ndarray:
        """BM25 scores of the given passages (ascending rows) for the question."""

    @abstractmethod
    def passages(self, rows: Sequence[int]) -> list[Chunk]:
        """The passages at these rows, in the order given."""

    @abstractmethod
    def contents(self, doc_id: str) -> DocumentContents:
        """Everything stored for one document (for updates that reuse it)."""

    def find_documents(self, name: str) -> set[str]:
        """Ids of documents named by id, file path, file name or file stem."""
        if name in self.documents:
            return {name}
        return set(self.document_names.get(name, ()))

    @cached_property
    def document_names(self) -> dict[str, set[str]]:
        """Every name a document answers to (id, path, file name), read once per loaded version: a
        filter then costs a look-up, not a pass over every document."""
        names: dict[str, set[str]] = {}
        for d, meta in self.documents.items():
            for name in (d, meta["path"], d.rsplit("/", 1)[-1], meta["path"].rsplit("/", 1)[-1]):
                names.setdefault(name, set()).add(d)
        return names


class Store(ABC):
    """Versions of one index: each write makes a complete new version and switches to it; a
    crash at any moment leaves the previous version live. One writer at a time (`writing`)."""

    def __init__(self, settings: Settings):
        self.settings = settings

    @abstractmethod
    def current(self) -> str | None:
        """The live version's name; None when nothing was ever built."""

    @abstractmethod
    def manifest(self) -> dict:
        """The live version's manifest, read alone (for status). IndexMissingError, IndexCorruptError."""

    @abstractmethod
    def versions(self) -> list[str]:
        """The versions kept (the live one and the one before it), oldest first."""

    @abstractmethod
    def writing(self, wait: float | None = None, notify: Callable[[str], None] | None = None):
        """A context manager holding the single-writer lock (IndexBusyError after `wait` s);
        it also clears what a killed writer left behind."""

    @abstractmethod
    def write(self, new: NewVersion) -> str:
        """Write a complete version and make it live (writer lock held); its name.
        IndexWriteError when it cannot be written: the previous version stays live."""

    @abstractmethod
    def load(self, version: str | None = None) -> StoredIndex:
        """Load the live version (or a named one). IndexMissingError, IndexCorruptError."""

    @abstractmethod
    def switch(self, version: str) -> None:
        """Make a kept version the live one (writer lock held)."""

    @abstractmethod
    def verify(self, stored: StoredIndex) -> list[str]:
        """Problems with a loaded version's parts (counts, dimensions, offsets, vector norms),
        one line each; empty when its parts agree with each other and with its manifest."""

    @abstractmethod
    def leftovers(self) -> list[str]:
        """What an interrupted writer left (the next writer removes it)."""

    def location(self) -> str:
        """Where the index lives, for status lines and messages."""
        return str(self.settings.index_dir)


def open_store(settings: Settings) -> Store:
    """The store the settings name (CAREQA_STORE): on-disk FAISS folders, or Milvus."""
    if settings.store == "milvus":
        from .milvus_store import MilvusStore

        return MilvusStore(settings)
    from .faiss_store import FaissStore

    return FaissStore(settings)




def load_live(index_dir: Path) -> StoredIndex:
    """Load the live version of a FAISS store folder (kept for callers that hold a path)."""
    from .faiss_store import load_live_folder

    return load_live_folder(index_dir)


def current_version(index_dir: Path) -> str | None:
    """The live version of a FAISS store folder (kept for callers that hold a path)."""
    from .folders import current_version as current

    return current(index_dir)
