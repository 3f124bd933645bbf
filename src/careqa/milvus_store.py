"""The Milvus store (CAREQA_STORE=milvus): every index version is three collections in Milvus, and
an alias names the live one, so several `careqa serve` processes on several machines share one
index with no files of their own. The same client speaks to Milvus Lite (a local .db folder, or
`milvus-lite server`), Milvus Standalone and a cluster (CAREQA_MILVUS_URI, CAREQA_MILVUS_TOKEN).

    careqa_<name>                     alias naming the live version's passages collection (CURRENT)
    careqa_<name>_<version>           passages: row (primary key), chunk_id, doc_id, section, document
                                      and section_number (integers filters use), start, end, tokens,
                                      text; vector (inner product; FLAT or HNSW by size, as vectors.choose);
                                      lexical: careqa's BM25 weights as a sparse vector (column = term)
    careqa_<name>_<version>_sentences row, document, start, end, vector (values rounded to float16)
    careqa_<name>_<version>_documents JSON and text in pieces (kind, document, piece, body): each
                                      document's text and record (headings, abbreviations), the
                                      catalogue (metadata, row ranges, first text key), sections, abbreviations,
                                      vocabulary (term -> column, document frequency), and the
                                      manifest, written last

Lexical search sends the question's terms as a sparse vector against careqa's own BM25 weights:
Milvus Lite's BM25 function has no English stemmer and keeps IDF per segment, so its scores would
differ from the FAISS store's and from one build to the next. A write makes every collection of a
new version, then moves the alias; a crash before that leaves the alias where it was, and the
next writer drops what was left. The live version and the one before it are kept.
"""
from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass
from hashlib import sha1
from importlib import metadata
from pathlib import Path
from typing import Callable

from . import folders, vectors
from .errors import CareqaError, IndexCorruptError, IndexMissingError, IndexWriteError
from .store import FORMAT_VERSION, REBUILD, NewVersion, Store, StoredIndex, check_format, load_following

VERSION = re.compile(r"v\d{8}T\d{6}_\d{9}")
SUFFIXES = ("", "_sentences", "_documents")
QUERY_MAX = 16_384  # the most rows one Milvus query returns
_clients: dict[tuple[str, str], object] = {}
_clients_lock = threading.Lock()
_loaded: set[tuple[str, str]] = set()


@dataclass(frozen=True)
class Names:
    """The collections of one version."""

    passages: str
    sentences: str
    documents: str

    @classmethod
    def of(cls, base: str, version: str) -> "Names":
        return cls(*(f"{base}_{version}{s}" for s in SUFFIXES))

    def all(self) -> tuple[str, str, str]:
        return self.passages, self.sentences, self.documents


def base_name(index_name: str) -> str:
    """careqa_<index name>, in the letters Milvus allows (a hash keeps changed names apart)."""
    safe = re.sub(r"[^A-Za-z0-9_]", "_", index_name)
    return f"careqa_{safe}" if safe == index_name else f"careqa_{safe}_{sha1(index_name.encode()).hexdigest()[:8]}"


def new_version() -> str:
    return time.strftime("v%Y%m%dT%H%M%S", time.gmtime()) + f"_{time.time_ns() % 10**9:09d}"


def reason(exc: Exception, token: str) -> str:
    """Milvus's own message, with the token taken out should a message ever repeat it."""
    text = str(getattr(exc, "message", "") or exc).strip().splitlines()[0][:200]
    return text.replace(token, "***") if token else text


def client_for(uri: str, token: str):
    """One MilvusClient per address in a process (a .db is opened once, by one process)."""
    try:
        from pymilvus import MilvusClient
    except ImportError:
        raise CareqaError("CAREQA_STORE=milvus needs pymilvus and milvus-lite: "
                          "pip install 'careqa[milvus]'") from None
    with _clients_lock:
        if (uri, token) not in _clients:
            for name in ("pymilvus", "milvus_lite"):
                logging.getLogger(name).setLevel(logging.CRITICAL)  # failures become careqa's one-line errors
            if uri.endswith(".db"):
                Path(uri).parent.mkdir(parents=True, exist_ok=True)
            try:
                _clients[(uri, token)] = MilvusClient(uri=uri, token=token)
            except Exception as exc:
                raise CareqaError(f"cannot open Milvus at {uri}: {opening_problem(uri, exc, token)}") from None
        return _clients[(uri, token)]


def opening_problem(uri: str, exc: Exception, token: str) -> str:
    lock = Path(uri) / "LOCK"
    if uri.endswith(".db") and lock.exists():
        import fcntl

        with open(lock, "rb") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return ("another process has this Milvus Lite file open (one process at a time can); "
                        "to share an index run `milvus-lite server` and set CAREQA_MILVUS_URI to its address")
    return reason(exc, token)


def release(uri: str) -> None:
    """Close this process's Milvus Lite server for a .db, so another process can open it."""
    with _clients_lock:
        for key in [k for k in _clients if k[0] == uri]:
            _clients.pop(key).close()
        _loaded.difference_update({k for k in _loaded if k[0] == uri})
    if uri.endswith(".db"):
        from milvus_lite.server_manager import server_manager_instance

        server_manager_instance.release_server(uri)


class AliasedVersions(Store):
    """An index's versions in Milvus: which exist, which the alias names live, which are kept."""

    def __init__(self, settings):
        super().__init__(settings)
        self.uri, self.base = settings.milvus_address, base_name(settings.index_name)

    @property
    def client(self):
        return client_for(self.uri, self.settings.milvus_token)

    def location(self) -> str:
        return f"{self.uri} (alias {self.base})"

    def call(self, what: str, fn: Callable, *args, **kwargs):
        """A Milvus call whose failure is one line naming the address, never the token."""
        try:
            return fn(*args, **kwargs)
        except CareqaError:
            raise
        except Exception as exc:
            raise CareqaError(f"Milvus at {self.uri}: cannot {what} ({reason(exc, self.settings.milvus_token)})") from None

    def current(self) -> str | None:
        try:
            name = self.client.describe_alias(self.base)["collection_name"]
        except CareqaError:
            raise
        except Exception as exc:
            if getattr(exc, "code", None) == 100 or "not exist" in str(exc) or "not found" in str(exc):
                return None
            raise CareqaError(f"Milvus at {self.uri}: cannot read the alias {self.base} "
                              f"({reason(exc, self.settings.milvus_token)})") from None
        return name[len(self.base) + 1:]

    def present(self) -> list[str]:
        """Every version with at least one collection in Milvus, oldest first."""
        found = set()
        for name in self.call("list collections", self.client.list_collections):
            rest = name[len(self.base) + 1:] if name.startswith(self.base + "_") else ""
            version = next((rest[:-len(s)] if s else rest for s in SUFFIXES[::-1] if rest.endswith(s)), "")
            if VERSION.fullmatch(version):
                found.add(version)
        return sorted(found)

    def read_manifest(self, version: str) -> dict:
        import json

        names = Names.of(self.base, version)
        self.ensure_loaded(names.documents)
        rows = self.call("read the manifest", self.client.query, names.documents, output_fields=["piece", "body"],
                         filter='kind == "manifest" and document == -1', limit=QUERY_MAX)
        try:
            manifest = json.loads("".join(r["body"] for r in sorted(rows, key=lambda r: r["piece"])))
        except ValueError:
            manifest = None
        if not isinstance(manifest, dict):
            raise IndexCorruptError(f"Milvus at {self.uri}: version {version} of index {self.settings.index_name} "
                                    f"is incomplete (no manifest); {REBUILD}")
        return check_format(manifest, f"Milvus at {self.uri}")

    def live(self) -> str:
        version = self.current()
        if version is None:
            raise IndexMissingError(f"no index {self.settings.index_name!r} in Milvus at {self.uri}: build it "
                                    "with `careqa index build`")
        return version

    def manifest(self) -> dict:
        return self.read_manifest(self.live())

    def versions(self) -> list[str]:
        return [v for v in self.present() if v in self.kept()]

    def kept(self) -> set[str]:
        """The live version and the one before it; everything when the live manifest is unreadable."""
        live = self.current()
        if live is None:
            return set()
        try:
            return {live, self.read_manifest(live).get("previous")} - {None}
        except CareqaError:
            return set(self.present())

    def leftovers(self) -> list[str]:
        kept = self.kept()
        return [v for v in self.present() if v not in kept]

    def tidy(self) -> None:
        """Drop every collection of versions neither live nor previous (writer lock held)."""
        for version in self.leftovers():
            for name in Names.of(self.base, version).all():
                if self.call("list collections", self.client.has_collection, name):
                    self.call(f"drop {name}", self.client.drop_collection, name)


class MilvusStore(AliasedVersions):
    """One index in Milvus: versions as collections, the live one named by an alias."""

    def writing(self, wait: float | None = None, notify: Callable[[str], None] | None = None):
        return _Writing(self, wait, notify)

    def write(self, new: NewVersion) -> str:
        """Write the three collections of a new version, the manifest last, then move the alias.

        Any failure before the alias moves drops the new collections and raises IndexWriteError:
        readers never saw them, and the previous version keeps serving.
        """
        from .milvus_write import write_version

        previous, version = self.current(), new_version()
        names = Names.of(self.base, version)
        try:
            params = vectors.choose(self.settings, sum(len(p.chunks) for p in new.parts))
            fields = {"format": FORMAT_VERSION, "version": version, "previous": previous, **new.manifest,
                      "store": {"kind": "milvus", "collections": list(names.all()), **engine_versions()}}
            write_version(self.client, names, new, params, fields)
            if self.current() != previous:
                raise IndexWriteError(f"Milvus at {self.uri}: another writer made version {self.current()} live "
                                      "while this one was written; run the update again")
            self.point_alias(names.passages, previous)
        except BaseException as exc:
            self.drop_quietly(names)
            if isinstance(exc, CareqaError):
                raise
            if isinstance(exc, Exception):
                raise IndexWriteError(f"Milvus at {self.uri}: could not write the new index version "
                                      f"({reason(exc, self.settings.milvus_token)}); the previous version "
                                      "is still live") from None
            raise
        try:
            self.tidy()
        except CareqaError:
            pass  # the new version is live; the next writer drops what is left
        return version

    def point_alias(self, collection: str, previous: str | None) -> None:
        if previous is None:
            self.client.create_alias(collection, self.base)
        else:
            self.client.alter_alias(collection, self.base)

    def drop_quietly(self, names: Names) -> None:
        for name in names.all():
            try:
                self.client.drop_collection(name)
            except Exception:
                pass  # the next writer's tidy drops what is left

    def load(self, version: str | None = None) -> StoredIndex:
        if version is not None:
            return self.open(version)
        return load_following(self.current, lambda: self.open(self.live()))

    def open(self, version: str) -> StoredIndex:
        """A version's collections, checked present and loaded (a restarted server may have released them)."""
        from .milvus_index import MilvusIndex

        manifest = self.read_manifest(version)
        names = Names.of(self.base, version)
        for name in names.all():
            if not self.call("list collections", self.client.has_collection, name):
                raise IndexCorruptError(f"Milvus at {self.uri}: version {version} is incomplete (no collection "
                                        f"{name}); rebuild with `careqa index build`")
            self.ensure_loaded(name)
        return MilvusIndex(self.client, names, manifest, self.settings.hnsw_ef_search,
                           lambda exc: reason(exc, self.settings.milvus_token))

    def ensure_loaded(self, name: str) -> None:
        """Load a collection into the engine's memory unless this process saw it loaded (Milvus
        Lite releases every collection when its process ends; a server keeps them loaded)."""
        if (self.uri, name) in _loaded:
            return
        state = self.call(f"read {name}", self.client.get_load_state, name)
        if "Loaded" not in str(state.get("state")):
            self.call(f"load {name}", self.client.load_collection, name)
        _loaded.add((self.uri, name))

    def switch(self, version: str) -> None:
        self.open(version)
        self.call("move the alias", self.point_alias, Names.of(self.base, version).passages, self.current())

    def verify(self, stored: StoredIndex) -> list[str]:
        from .milvus_check import check_version

        return self.call("check the index", check_version, self.client, stored)

    def close(self) -> None:
        """Let go of a Milvus Lite .db so another process can open it (tests, benchmarks)."""
        release(self.uri)


def engine_versions() -> dict:
    out = {}
    for name in ("pymilvus", "milvus-lite"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


class _Writing:
    """The writer lock (a file beside the index folder: one machine writes), with what killed
    writers left in Milvus dropped once it is held."""

    def __init__(self, store: MilvusStore, wait: float | None, notify):
        self.store = store
        self.lock = folders.writer_lock(store.settings.index_dir, wait, notify)

    def __enter__(self):
        self.lock.__enter__()
        try:
            self.store.tidy()
        except BaseException:
            self.lock.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        return self.lock.__exit__(*exc)
