"""Loading corpus files (.txt .md .html .pdf .docx) into Documents with metadata and headings.

A file that cannot be read raises DocumentError naming the file and the reason; `load_corpus`
collects those as skipped files so one bad file never stops a build. PDF, DOCX and HTML are parsed
in a worker bounded in time and memory (isolate.py); plain text is decoded here, its cost bounded
by the size limit.
"""
from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from . import formats, isolate
from .aliases import harvest_abbreviations
from .clean import Heading
from .config import Settings
from .errors import DocumentError

EXTENSIONS = (".txt", ".md", ".html", ".htm", ".pdf", ".docx")
ISOLATED = (".html", ".htm", ".pdf", ".docx")
METADATA_FILE = "sources.toml"
IGNORED_NAMES = {METADATA_FILE, "README.md", "SOURCES.md"}


@dataclass
class Document:
    """One corpus file: stable id, metadata, cleaned text (what is shown) and its headings."""

    doc_id: str
    path: str
    title: str
    text: str
    headings: list[Heading]
    sha256: str
    publisher: str = ""
    date: str = ""
    kind: str = ""
    meta_sha256: str = ""
    url: str = ""
    short: str = ""
    abbreviations: dict[str, str] = field(default_factory=dict)

    def meta(self) -> dict:
        return {"doc_id": self.doc_id, "path": self.path, "title": self.title, "publisher": self.publisher,
                "date": self.date, "kind": self.kind, "url": self.url, "short": self.short}


@dataclass(frozen=True)
class Skipped:
    """A corpus file left out of the index, with the reason in plain words."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass
class LoadResult:
    documents: list[Document]
    skipped: list[Skipped]


def title_from_name(path: Path) -> str:
    """A readable title from a file name: 'nhs-long-term_plan' -> 'Nhs long term plan'."""
    words = path.stem.replace("_", " ").replace("-", " ").split()
    text = " ".join(words) or path.stem
    return text[:1].upper() + text[1:]


def read_metadata(corpus_dir: Path) -> dict[str, dict]:
    """Entries of corpus/sources.toml keyed by file path relative to the corpus folder."""
    meta_path = corpus_dir / METADATA_FILE
    if not meta_path.exists():
        return {}
    try:
        data = tomllib.loads(meta_path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DocumentError(f"{meta_path}: not valid TOML ({exc})") from exc
    return {str(k): v for k, v in data.items() if isinstance(v, dict)}


def corpus_files(corpus_dir: Path) -> list[Path]:
    """Every file under the corpus folder that is not metadata or hidden, sorted."""
    if not corpus_dir.is_dir():
        raise DocumentError(f"{corpus_dir}: corpus folder not found")
    files = []
    for p in sorted(corpus_dir.rglob("*")):
        rel = p.relative_to(corpus_dir)
        if p.is_file() and not any(part.startswith(".") for part in rel.parts) and p.name not in IGNORED_NAMES:
            files.append(p)
    return files


def doc_id_for(path: Path, corpus_dir: Path) -> str:
    """Path under the corpus root without extension, '/'-separated: stable across machines."""
    return path.relative_to(corpus_dir).with_suffix("").as_posix()


def meta_hash(entry: dict | None) -> str:
    """Fingerprint of a file's sources.toml entry: a new title changes what is embedded."""
    return hashlib.sha256(json.dumps(entry or {}, sort_keys=True, default=str).encode()).hexdigest()


def human_size(n: float) -> str:
    """Bytes as a short readable size, exact enough to compare a file with the limit."""
    for unit, scale in (("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}".replace(".0 ", " ")
    return f"{n:.0f} bytes"


def over_limit(path: Path, max_mb: float) -> bool:
    return path.stat().st_size > max_mb * 1024 * 1024


def load_document(path: Path, corpus_dir: Path, settings: Settings, meta: dict | None = None,
                  max_mb: float | None = None) -> Document:
    """Read one file into a Document; DocumentError says what is wrong with it. `max_mb`
    overrides the settings' file size limit (an upload has its own)."""
    max_mb = settings.max_file_mb if max_mb is None else max_mb
    rel = path.relative_to(corpus_dir).as_posix()
    ext = path.suffix.lower()
    if ext not in EXTENSIONS:
        raise DocumentError(f"{rel}: unsupported file type '{ext or path.name}' "
                            f"(careqa reads {', '.join(EXTENSIONS)})")
    if over_limit(path, max_mb):
        raise DocumentError(f"{rel}: file is {human_size(path.stat().st_size)}, over the "
                            f"{human_size(max_mb * 1024 * 1024)} limit (CAREQA_MAX_FILE_MB)")
    data = path.read_bytes()
    if not data.strip():
        raise DocumentError(f"{rel}: file is empty")
    try:
        extracted = (isolate.extract(data, ext, settings.parse_seconds, settings.parse_memory_mb)
                     if ext in ISOLATED else formats.extract(data, ext))
    except DocumentError as exc:
        raise DocumentError(f"{rel}: {exc}") from None
    if not extracted.text.strip():
        raise DocumentError(f"{rel}: no text found")
    meta = meta or {}
    return Document(
        doc_id=doc_id_for(path, corpus_dir),
        path=rel,
        title=str(meta.get("title") or extracted.title or title_from_name(path)),
        text=extracted.text,
        headings=extracted.headings,
        sha256=hashlib.sha256(data).hexdigest(),
        publisher=str(meta.get("publisher", "")),
        date=str(meta.get("date", "")),
        kind=str(meta.get("kind", "")),
        meta_sha256=meta_hash(meta),
        url=str(meta.get("url", "")),
        short=str(meta.get("short", "")),
        abbreviations=harvest_abbreviations(extracted.text),
    )


def load_corpus(settings: Settings, only: set[str] | None = None) -> LoadResult:
    """Load every corpus file (or those whose relative path is in `only`), collecting skips.

    Two files whose paths differ only by extension would share a document id (and chunk ids);
    the second is skipped with a reason rather than silently replacing the first.
    """
    corpus_dir = Path(settings.corpus_dir)
    metadata = read_metadata(corpus_dir)
    docs, skipped = [], []
    owners: dict[str, str] = {}
    try:
        for path in corpus_files(corpus_dir):
            rel = path.relative_to(corpus_dir).as_posix()
            doc_id = doc_id_for(path, corpus_dir)
            if doc_id in owners:
                skipped.append(Skipped(rel, f"same document id '{doc_id}' as {owners[doc_id]}; rename one of them"))
                continue
            owners[doc_id] = rel
            if only is not None and rel not in only:
                continue
            try:
                docs.append(load_document(path, corpus_dir, settings, metadata.get(rel)))
            except DocumentError as exc:
                skipped.append(Skipped(rel, str(exc).split(": ", 1)[-1]))
    finally:
        isolate.stop()
    return LoadResult(docs, skipped)
