"""The on-disk index: versioned folders of named parts, switched atomically.

    index/<name>/CURRENT          name of the live version folder (replaced with os.replace)
    index/<name>/v-<stamp>/       manifest.json, vectors.faiss, bm25/, chunks.jsonl,
                                  documents.jsonl, sentences.npy, sentence_vectors.npy
    index/<name>/tmp-<stamp>/     a version being written; never read; removed by the next writer
    index/<name>/.lock            held by the one writer

Readers only ever open a folder named by CURRENT, and CURRENT only ever names a complete folder,
so a crash at any moment leaves the previous version in place. Each manifest names the version
that was live before it; writers keep that one (a reader may be loading it) and delete the rest.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .records import Chunk
from .errors import CareqaError, IndexBusyError, IndexCorruptError, IndexMissingError

LOAD_ATTEMPTS = 5

FORMAT_VERSION = 1
CURRENT = "CURRENT"
PARTS = ("manifest.json", "vectors.faiss", "chunks.jsonl", "documents.jsonl", "bm25")


def fsync_path(path: Path) -> None:
    """Flush a file or folder to disk so a rename after it never points at missing data."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json(path: Path, data) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=1)
        fh.flush()
        os.fsync(fh.fileno())


def write_jsonl(path: Path, rows) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def current_version(index_dir: Path) -> str | None:
    """The live version's folder name, or None when nothing was ever built here."""
    try:
        name = (index_dir / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return name or None


def live_dir(index_dir: Path) -> Path:
    """The live version folder; IndexMissingError when there is none."""
    version = current_version(index_dir)
    if version is None or not (index_dir / version).is_dir():
        raise IndexMissingError(
            f"no index at {index_dir}: build it with `careqa index build`")
    return index_dir / version


@contextmanager
def writer_lock(index_dir: Path, wait: float | None = None, notify=None):
    """Hold the single-writer lock; wait up to `wait` seconds (None: forever), else IndexBusyError."""
    from filelock import FileLock, Timeout

    index_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(index_dir / ".lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if notify:
            notify(f"another build or update of {index_dir} is running; waiting for it to finish")
        try:
            lock.acquire(timeout=-1 if wait is None else wait)
        except Timeout:
            raise IndexBusyError(f"{index_dir}: another build or update is still running after "
                                 f"{wait:g} s; try again when it has finished") from None
    try:
        yield
    finally:
        lock.release()


def tidy(index_dir: Path) -> list[str]:
    """Remove what killed runs and old versions left: everything but the live and previous version.

    Call only while holding the writer lock. A version folder that CURRENT never named (a run
    killed between rename and switch) or one half-deleted by a killed prune goes too. When the
    live manifest cannot be read, every version folder is kept: never delete what we cannot place.
    """
    removed = []
    for p in index_dir.glob("tmp-*"):
        shutil.rmtree(p, ignore_errors=True)
        removed.append(p.name)
    stale = index_dir / (CURRENT + ".tmp")
    if stale.exists():
        stale.unlink()
        removed.append(stale.name)
    live = current_version(index_dir)
    keep: set[str | None] = set()
    if live is not None:
        try:
            manifest = json.loads((index_dir / live / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return removed
        keep = {live, manifest.get("previous")}
    for p in sorted(index_dir.glob("v-*")):
        if p.name not in keep:
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p.name)
    return removed


def new_version_dir(index_dir: Path) -> tuple[str, Path]:
    """A fresh temporary folder and the version name it will get when complete."""
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + f"-{time.time_ns() % 10**9:09d}"
    tmp = index_dir / f"tmp-{stamp}"
    tmp.mkdir(parents=True)
    return f"v-{stamp}", tmp


def publish(index_dir: Path, tmp: Path, version: str) -> Path:
    """Make the complete folder `tmp` the live version, atomically, then prune old versions.

    Every file is flushed before the rename, and CURRENT is replaced in one step, so a reader (or a
    process killed at any point) sees either the old version or the new one, never a mix.
    """
    for part in sorted(tmp.rglob("*"), reverse=True):
        fsync_path(part)
    fsync_path(tmp)
    final = index_dir / version
    os.rename(tmp, final)
    pointer = index_dir / (CURRENT + ".tmp")
    with open(pointer, "w", encoding="utf-8") as fh:
        fh.write(version + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(pointer, index_dir / CURRENT)
    fsync_path(index_dir)
    tidy(index_dir)
    return final


@dataclass
class StoredIndex:
    """Everything a reader needs, loaded from one version folder.

    Answers read it only through the methods below (text, sentences, doc_frequency,
    num_chunks, abbreviations, documents' metadata), so how it is held can change freely.
    """

    path: Path
    manifest: dict
    chunks: list[Chunk]
    documents: dict[str, dict]
    faiss_index: object
    bm25: object
    sentence_spans: np.ndarray | None
    sentence_vectors: np.ndarray | None

    def __post_init__(self):
        self._ordinal = {doc_id: i for i, doc_id in enumerate(self.documents)}
        spans = self.sentence_spans if self.sentence_spans is not None else np.zeros((0, 3), "int64")
        self._keys = spans[:, 0] * (1 << 32) + spans[:, 1]
        merged: dict[str, str] = {}
        for row in self.documents.values():
            for short, long in row.get("abbreviations", {}).items():
                merged.setdefault(short, long)
        self.abbreviations = merged

    @property
    def version(self) -> str:
        return self.path.name

    @property
    def num_chunks(self) -> int:
        return len(self.chunks)

    def text(self, doc_id: str, start: int = 0, end: int | None = None) -> str:
        """A span of a document's text (the whole text by default)."""
        return self.documents[doc_id]["text"][start:end]

    def sentences(self, doc_id: str, start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
        """(spans, vectors) of the sentences inside text[start:end] of a document, in text order:
        spans an (n, 2) array of (start, end), vectors (n, dimension)."""
        if self.sentence_spans is None:
            return np.zeros((0, 2), "int64"), np.zeros((0, self.manifest["dimension"]), "float32")
        base = self._ordinal[doc_id] * (1 << 32)
        lo = int(np.searchsorted(self._keys, base + start))
        hi = int(np.searchsorted(self._keys, base + end + 1))
        spans = self.sentence_spans[lo:hi, 1:]
        inside = spans[:, 1] <= end
        return spans[inside], self.sentence_vectors[lo:hi][inside]

    def doc_frequency(self, term: str) -> int:
        """In how many passages a (stemmed) term occurs."""
        from .lexical import document_frequency

        return document_frequency(self.bm25, term)


def load_version(path: Path) -> StoredIndex:
    """Load one version folder, checking it is whole (IndexCorruptError otherwise)."""
    import bm25s
    import faiss

    missing = [p for p in PARTS if not (path / p).exists()]
    if missing:
        raise IndexCorruptError(f"{path}: index is incomplete (missing {', '.join(missing)}); "
                                "rebuild with `careqa index build`")
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT_VERSION:
            raise IndexCorruptError(f"{path}: index format {manifest.get('format')} is not "
                                    f"{FORMAT_VERSION}; rebuild with `careqa index build`")
        chunks = [Chunk(**row) for row in read_jsonl(path / "chunks.jsonl")]
        documents = {row["doc_id"]: row for row in read_jsonl(path / "documents.jsonl")}
        vectors = faiss.read_index(str(path / "vectors.faiss"))
        bm25 = bm25s.BM25.load(str(path / "bm25"), show_progress=False)
        spans = vecs = None
        if (path / "sentences.npy").exists():
            spans = np.load(path / "sentences.npy")
            vecs = np.load(path / "sentence_vectors.npy")
    except CareqaError:
        raise
    except Exception as exc:
        raise IndexCorruptError(f"{path}: index cannot be read ({type(exc).__name__}: {exc})") from None
    if vectors.ntotal != len(chunks) or manifest.get("chunks") != len(chunks):
        raise IndexCorruptError(f"{path}: {vectors.ntotal} vectors for {len(chunks)} chunks; "
                                "rebuild with `careqa index build`")
    if spans is not None and not (len(spans) == len(vecs) == manifest.get("sentences")):
        raise IndexCorruptError(f"{path}: {len(vecs)} sentence vectors for {len(spans)} sentences; "
                                "rebuild with `careqa index build`")
    return StoredIndex(path, manifest, chunks, documents, vectors, bm25, spans, vecs)


def load_live(index_dir: Path) -> StoredIndex:
    """Load the live version; if a writer switched and pruned it meanwhile, load the new one.

    A reader that read CURRENT just before two quick updates may find its version half-deleted;
    that is not corruption, so it reads CURRENT again and retries while CURRENT keeps moving.
    """
    for _ in range(LOAD_ATTEMPTS):
        version = current_version(index_dir)
        try:
            return load_version(live_dir(index_dir))
        except CareqaError:
            if current_version(index_dir) == version:
                raise
    return load_version(live_dir(index_dir))
