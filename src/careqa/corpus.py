"""Managing the corpus folder: adding uploaded files safely and removing documents.

The UI hands over files whose names come from a browser, so every name is checked before
anything is written, writes never replace a file unless asked to, and a file that careqa
could not read is refused at upload time rather than skipped silently at the next rebuild.
"""
from __future__ import annotations

import os
import re
import shutil
import tomllib
import uuid
from pathlib import Path

from .config import Settings
from .errors import CareqaError, DocumentError
from .load import EXTENSIONS, IGNORED_NAMES, METADATA_FILE, corpus_files, load_document, over_limit

MAX_NAME_LENGTH = 120  # longer names are unreadable in lists and near filesystem limits
_BAD_CHARS = re.compile(r"[\x00-\x1f\x7f/\\:]")


def check_name(name: str) -> str:
    """The name itself when it is a plain file name careqa reads; CareqaError otherwise."""
    shown = repr(name)
    if not name or not name.strip():
        raise CareqaError("refused a file with an empty name")
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        raise CareqaError(f"refused {shown}: absolute paths are not allowed, give a plain file name")
    if ".." in name:
        raise CareqaError(f"refused {shown}: file names may not contain '..'")
    if _BAD_CHARS.search(name):
        raise CareqaError(f"refused {shown}: file names may not contain folders or control characters")
    if name.startswith("."):
        raise CareqaError(f"refused {shown}: hidden files (starting with '.') are not indexed")
    if name in IGNORED_NAMES:
        raise CareqaError(f"refused {shown}: that name is reserved for the corpus's own notes")
    if len(name) > MAX_NAME_LENGTH:
        raise CareqaError(f"refused {shown[:40]}...: file names are limited to {MAX_NAME_LENGTH} characters")
    ext = Path(name).suffix.lower()
    if ext not in EXTENSIONS:
        raise CareqaError(f"refused {shown}: '{ext or 'no extension'}' is not a supported type "
                          f"(allowed: {', '.join(EXTENSIONS)})")
    return name


def add_file(settings: Settings, source: Path, name: str, replace: bool = False,
             max_mb: float | None = None) -> Path:
    """Copy an uploaded file into the corpus folder as `name`, after checking it can be read.

    The copy is written to a hidden temporary file first and then linked or renamed into place,
    so a half-written file never appears in the corpus and an existing file is only replaced
    when `replace` is true.
    """
    check_name(name)
    limit = settings.upload_mb if max_mb is None else max_mb
    source = Path(source)
    if over_limit(source, limit):
        size = source.stat().st_size
        raise CareqaError(f"refused {name!r}: file is {size / 1048576:.2f} MB, over the {limit:g} MB upload limit")
    corpus = Path(settings.corpus_dir)
    corpus.mkdir(parents=True, exist_ok=True)
    target = corpus / name
    if target.exists() and not replace:
        raise CareqaError(f"refused {name!r}: a file of that name is already in the corpus "
                          f"(choose 'replace' to overwrite it)")
    tmp = corpus / f".upload-{uuid.uuid4().hex}{Path(name).suffix.lower()}"
    try:
        shutil.copyfile(source, tmp)
        try:
            load_document(tmp, corpus, settings, max_mb=max(limit, settings.max_file_mb))
        except DocumentError as exc:
            reason = str(exc).split(": ", 1)[-1]
            raise CareqaError(f"refused {name!r}: {reason}") from None
        if replace:
            os.replace(tmp, target)
        else:
            try:
                os.link(tmp, target)
            except FileExistsError:
                raise CareqaError(f"refused {name!r}: a file of that name is already in the corpus "
                                  f"(choose 'replace' to overwrite it)") from None
    finally:
        tmp.unlink(missing_ok=True)
    return target


def remove_document(settings: Settings, path: str) -> Path:
    """Delete a corpus file (path relative to the corpus folder) and its sources.toml entry."""
    corpus = Path(settings.corpus_dir).resolve()
    target = (corpus / path).resolve()
    if corpus not in target.parents or target.name in IGNORED_NAMES:
        raise CareqaError(f"refused to remove {path!r}: not a document of the corpus folder")
    if not target.is_file():
        raise CareqaError(f"cannot remove {path!r}: no such file in {corpus}")
    rel = target.relative_to(corpus).as_posix()
    drop_metadata(corpus / METADATA_FILE, rel)
    target.unlink()
    return target


def drop_metadata(meta_path: Path, key: str) -> None:
    """Remove the `[key]` table from sources.toml, keeping every other line as it was."""
    if not meta_path.exists():
        return
    text = meta_path.read_text(encoding="utf-8")
    before = tomllib.loads(text)
    if key not in before:
        return
    header = re.compile(r"^\s*\[\s*(?:\"((?:[^\"\\]|\\.)*)\"|'([^']*)'|([A-Za-z0-9_.-]+))\s*\]\s*(?:#.*)?$")
    kept, skipping = [], False
    for line in text.splitlines(keepends=True):
        m = header.match(line)
        if m:
            skipping = next(g for g in m.groups() if g is not None) == key
        if not skipping:
            kept.append(line)
    new_text = "".join(kept)
    after = tomllib.loads(new_text)
    if key in after or {k: v for k, v in before.items() if k != key} != after:
        raise CareqaError(f"{meta_path}: could not remove the entry for {key!r} safely; edit the file by hand")
    tmp = meta_path.with_name(f".{meta_path.name}.{uuid.uuid4().hex}")
    tmp.write_text(new_text, encoding="utf-8")
    os.replace(tmp, meta_path)


def folder_changes(settings: Settings, indexed_paths: list[str]) -> tuple[list[str], list[str]]:
    """Files in the corpus folder not in the index yet, and indexed files no longer there."""
    corpus = Path(settings.corpus_dir)
    on_disk = {p.relative_to(corpus).as_posix() for p in corpus_files(corpus)} if corpus.is_dir() else set()
    indexed = set(indexed_paths)
    return sorted(on_disk - indexed), sorted(indexed - on_disk)
