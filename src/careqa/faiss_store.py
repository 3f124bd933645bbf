"""The default store: versioned folders on this machine's disk (parts: store.py; versions,
CURRENT and the writer lock: folders.py; writing: faiss_write.py; reading: faiss_index.py)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Callable

import numpy as np

from . import folders, vectors
from .errors import IndexCorruptError, IndexWriteError
from .faiss_index import FaissIndex
from .store import FORMAT_VERSION, REBUILD, NewVersion, Store, StoredIndex, check_format, load_following

PARTS = ("manifest.json", "documents.sqlite", "passages.npy", "vectors.faiss", "bm25_vocab.json",
         "bm25_indptr.npy", "bm25_indices.npy", "bm25_data.npy")
SENTENCE_PARTS = ("sentences.npy", "sentence_vectors.npy")
NORM_BLOCK = 65536  # vectors read at a time when verify checks their lengths


class FaissStore(Store):
    """index/<name>/ on this machine: versions as folders, CURRENT switched atomically."""

    @property
    def folder(self) -> Path:
        return self.settings.index_dir

    def current(self) -> str | None:
        version = folders.current_version(self.folder)
        return version if version is not None and (self.folder / version).is_dir() else None

    def manifest(self) -> dict:
        return read_manifest(folders.live_dir(self.folder))

    def versions(self) -> list[str]:
        return sorted(p.name for p in self.folder.glob("v-*"))

    def writing(self, wait: float | None = None, notify: Callable[[str], None] | None = None):
        return _Writing(self.folder, wait, notify)

    def write(self, new: NewVersion) -> str:
        """Write every part into a temporary folder, then publish it (folders.publish).

        Any failure before the switch (a full disk, say) removes the half-written folder and
        raises IndexWriteError: the previous version was never touched and keeps serving.
        """
        from .faiss_write import write_folder

        try:
            version, tmp = folders.new_version_dir(self.folder)
        except OSError as exc:
            raise IndexWriteError(f"{self.folder}: cannot create a new version ({exc.strerror})") from None
        try:
            params = vectors.choose(self.settings, sum(len(p.chunks) for p in new.parts))
            added = write_folder(tmp, new, params)
            manifest = {"format": FORMAT_VERSION, "version": version, "previous": self.current(),
                        **new.manifest, **added}
            folders.write_json(tmp / "manifest.json", manifest)
            folders.publish(self.folder, tmp, version)
            return version
        except BaseException as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            if isinstance(exc, (OSError, RuntimeError)) and self.current() != version:
                why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)[:120]
                raise IndexWriteError(f"{self.folder}: could not write the new index version ({why}); "
                                      "the previous version is still live") from None
            raise

    def load(self, version: str | None = None) -> StoredIndex:
        if version is None:
            return load_live_folder(self.folder, self.settings.hnsw_ef_search)
        return load_folder(self.folder / version, self.settings.hnsw_ef_search)

    def switch(self, version: str) -> None:
        load_folder(self.folder / version)
        folders.point_current(self.folder, version)

    def verify(self, stored: StoredIndex) -> list[str]:
        return check_parts(stored)

    def leftovers(self) -> list[str]:
        return sorted(p.name for p in self.folder.glob("tmp-*"))


class _Writing:
    """The writer lock, with what killed writers left removed once it is held."""

    def __init__(self, folder: Path, wait: float | None, notify):
        self.lock = folders.writer_lock(folder, wait, notify)
        self.folder = folder

    def __enter__(self):
        self.lock.__enter__()
        folders.tidy(self.folder)
        return self

    def __exit__(self, *exc):
        return self.lock.__exit__(*exc)


def check_parts(stored: FaissIndex) -> list[str]:
    """The version's parts agree with each other and with the manifest."""
    m, problems = stored.manifest, []
    if stored.index.d != m.get("dimension"):
        problems.append(f"vectors have dimension {stored.index.d} but the manifest says {m.get('dimension')}")
    if stored.codes is not None and stored.codes.shape[1] != stored.index.d:
        problems.append(f"sentence vectors have dimension {stored.codes.shape[1]}, passages {stored.index.d}")
    listed = {e["doc_id"]: e for e in m.get("documents", {}).values()}
    rows = stored.db.sql("SELECT doc_id, length(text), passage_from, passage_to, sentence_from, sentence_to "
                      "FROM documents ORDER BY rowid")
    if set(listed) != {r[0] for r in rows}:
        extra, missing = {r[0] for r in rows} - set(listed), set(listed) - {r[0] for r in rows}
        problems.append(f"documents.sqlite and the manifest disagree (only in documents.sqlite: "
                        f"{sorted(extra) or 'none'}; only in the manifest: {sorted(missing) or 'none'})")
    table, passage, sentence = stored.table, 0, 0
    for number, (doc_id, length, p_from, p_to, s_from, s_to) in enumerate(rows):
        mine = np.asarray(table[p_from:p_to])
        entry = listed.get(doc_id, {})
        if (p_from, s_from) != (passage, sentence) or p_to - p_from != entry.get("chunks", p_to - p_from):
            problems.append(f"{entry.get('title') or doc_id}: {p_to - p_from} chunks stored at rows "
                            f"{p_from}-{p_to}, the manifest says {entry.get('chunks')}")
        if len(mine) and ((mine["doc"] != number).any() or (mine["start"] < 0).any()
                          or (mine["end"] > length).any() or (mine["start"] >= mine["end"]).any()):
            problems.append(f"{doc_id}: some chunks do not match the document's text")
        if stored.spans is not None and s_to > s_from:
            spans = stored.spans[s_from:s_to]
            if (spans[:, 0] < 0).any() or (spans[:, 1] > length).any() or (spans[:, 0] >= spans[:, 1]).any():
                problems.append(f"{doc_id}: the sentence table points outside the document")
        passage, sentence = p_to, s_to
    if passage != len(table):
        problems.append(f"the documents own {passage} chunks, passages.npy holds {len(table)}")
    for start in range(0, stored.index.ntotal, NORM_BLOCK):
        block = vectors.gather(stored.index, np.arange(start, min(start + NORM_BLOCK, stored.index.ntotal)))
        if not np.allclose(np.linalg.norm(block, axis=1), 1.0, atol=1e-3):
            problems.append("some passage vectors are not unit length (damaged vectors.faiss)")
            break
    return problems


def read_manifest(path: Path) -> dict:
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"{path}: manifest.json cannot be read ({exc}); {REBUILD}") from None
    return check_format(manifest, str(path))


def load_folder(path: Path, ef_search: int | None = None) -> FaissIndex:
    """Open one version folder, checking it is whole (IndexCorruptError otherwise)."""
    if not (path / "manifest.json").exists():
        raise IndexCorruptError(f"{path}: index is incomplete (missing manifest.json); {REBUILD}")
    manifest = read_manifest(path)
    wanted = PARTS + (SENTENCE_PARTS if manifest.get("sentences") else ())
    missing = [p for p in wanted if not (path / p).exists()]
    if missing:
        raise IndexCorruptError(f"{path}: index is incomplete (missing {', '.join(missing)}); {REBUILD}")
    try:
        stored = FaissIndex(path, manifest, ef_search)
    except Exception as exc:
        raise IndexCorruptError(f"{path}: index cannot be read ({type(exc).__name__}: {exc})") from None
    if not stored.index.ntotal == len(stored.table) == manifest.get("chunks"):
        raise IndexCorruptError(f"{path}: {stored.index.ntotal} vectors for {len(stored.table)} chunks; {REBUILD}")
    if stored.spans is not None and not len(stored.spans) == len(stored.codes) == manifest["sentences"]:
        raise IndexCorruptError(f"{path}: {len(stored.codes)} sentence vectors for {len(stored.spans)} "
                                f"sentences; {REBUILD}")
    return stored


def load_live_folder(index_dir: Path, ef_search: int | None = None) -> FaissIndex:
    """Load the live version; if a writer switched and pruned it meanwhile, load the new one.

    A reader that read CURRENT just before two quick updates may find its version half-deleted;
    that is not corruption, so it reads CURRENT again and retries while CURRENT keeps moving.
    """
    return load_following(lambda: folders.current_version(index_dir),
                          lambda: load_folder(folders.live_dir(index_dir), ef_search))
