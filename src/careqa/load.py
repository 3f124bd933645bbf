"""Loading corpus files (.txt .md .html .pdf .docx) into Documents with metadata and headings.

A file that cannot be read raises DocumentError naming the file and the reason; `load_corpus`
collects those as skipped files so one bad file never stops a build. PDF, DOCX and HTML are parsed
in a worker bounded in time and memory (isolate.py); plain text is decoded here, its cost bounded
by the size limit. Nothing is read from outside the corpus folder: a link is followed only to a
file inside it, and a link leading out (or nowhere) is reported like any other skipped file.
"""
from __future__ import annotations

import hashlib
import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from . import formats, isolate
from .aliases import harvest_abbreviations
from .clean import Heading, shown_name, strip_controls, without_controls
from .config import Settings
from .errors import DocumentError
from .records import Progress, silent

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
        return shown_name(f"{self.path}: {self.reason}")


@dataclass
class LoadResult:
    documents: list[Document]
    skipped: list[Skipped]


@dataclass
class Walk:
    """The files of a corpus folder careqa may read, and the links it refused to follow."""

    files: list[Path]
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


def _indexed_name(rel: Path) -> bool:
    """Whether a path under the corpus folder is one careqa reads (not hidden, not its notes)."""
    return not any(part.startswith(".") for part in rel.parts) and rel.name not in IGNORED_NAMES


def _link_problem(link: Path, root: Path) -> str:
    """Why a link in the corpus folder is not followed ('' for a link to a folder inside it,
    whose files are read where they are, or to a file inside it that careqa reads)."""
    try:
        target = link.resolve(strict=True)
    except (OSError, RuntimeError):
        return "a broken link (what it points to does not exist); not read"
    if root not in target.parents:
        return "a link to something outside the corpus folder; not read"
    if target.is_file() and not _indexed_name(target.relative_to(root)):
        return "a link to a file careqa does not index; not read"
    return ""


def walk_corpus(corpus_dir: Path) -> Walk:
    """Files under the corpus folder (not metadata or hidden, sorted), and the links that lead
    outside it or nowhere, as skipped files. Links to folders are never descended."""
    if not corpus_dir.is_dir():
        raise DocumentError(f"{corpus_dir}: corpus folder not found")
    root = corpus_dir.resolve()
    files, refused = [], []
    for p in sorted(corpus_dir.rglob("*")):
        rel = p.relative_to(corpus_dir)
        if not _indexed_name(rel):
            continue
        if p.is_symlink():
            problem = _link_problem(p, root)
            if problem:
                refused.append(Skipped(rel.as_posix(), problem))
                continue
        if p.is_file():
            files.append(p)
    return Walk(files, refused)


def corpus_files(corpus_dir: Path) -> list[Path]:
    """Every file careqa may read under the corpus folder, sorted (links out of it left out)."""
    return walk_corpus(corpus_dir).files


def read_file(path: Path, corpus_dir: Path) -> bytes:
    """A corpus file's bytes, opened only at a real path inside the corpus folder (a link swapped
    in after the folder was walked is refused, never followed out)."""
    real = path.resolve()
    if corpus_dir.resolve() not in real.parents:
        raise DocumentError(f"{path.name}: a link to something outside the corpus folder; not read")
    try:
        fd = os.open(real, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise DocumentError(f"{path.name}: cannot be opened ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as fh:
        return fh.read()


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
    data = read_file(path, corpus_dir)
    if not data.strip():
        raise DocumentError(f"{rel}: file is empty")
    try:
        extracted = (isolate.extract(data, ext, settings.parse_seconds, settings.parse_memory_mb)
                     if ext in ISOLATED else formats.extract(data, ext))
    except DocumentError as exc:
        raise DocumentError(f"{rel}: {exc}") from None
    text, headings = strip_controls(extracted.text, extracted.headings)
    if not text.strip():
        raise DocumentError(f"{rel}: no text found")
    meta = meta or {}
    return Document(
        doc_id=doc_id_for(path, corpus_dir),
        path=rel,
        title=field_text(meta.get("title")) or field_text(extracted.title) or title_from_name(path),
        text=text,
        headings=headings,
        sha256=hashlib.sha256(data).hexdigest(),
        publisher=field_text(meta.get("publisher")),
        date=field_text(meta.get("date")),
        kind=field_text(meta.get("kind")),
        meta_sha256=meta_hash(meta),
        url=field_text(meta.get("url")),
        short=field_text(meta.get("short")),
        abbreviations=harvest_abbreviations(text),
    )


def field_text(value) -> str:
    """A metadata value as one line of plain text (no control characters, spaces collapsed)."""
    return " ".join(without_controls(str(value or "")).split())


def reason_for(exc: DocumentError, rel: str) -> str:
    """The reason of a DocumentError without the file name it starts with (which may hold ': ')."""
    message = str(exc)
    return message[len(rel) + 2:] if message.startswith(f"{rel}: ") else message.split(": ", 1)[-1]


def load_corpus(settings: Settings, only: set[str] | None = None, progress: Progress = silent) -> LoadResult:
    """Load every corpus file (or those whose relative path is in `only`), collecting skips,
    reporting progress after each file.

    Two files whose paths differ only by extension would share a document id (and chunk ids);
    the second is skipped with a reason rather than silently replacing the first.
    """
    corpus_dir = Path(settings.corpus_dir)
    metadata = read_metadata(corpus_dir)
    walk = walk_corpus(corpus_dir)
    docs, skipped = [], list(walk.skipped)
    owners: dict[str, str] = {}
    try:
        for done, path in enumerate(walk.files):
            progress("reading documents", done, len(walk.files))
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
                skipped.append(Skipped(rel, reason_for(exc, rel)))
    finally:
        isolate.stop()
    return LoadResult(docs, skipped)
