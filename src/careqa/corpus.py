"""Managing the corpus folder: adding uploaded files safely, their metadata, removing documents.

The UI hands over files whose names come from a browser, so every name is checked before
anything is written, writes never replace a file unless asked to, and a file that careqa
could not read (or could not embed within the budget) is refused at upload time rather than
skipped at the next rebuild. Each upload's sources.toml entry records who added it and when, and
holds only the metadata given with it: a replaced file never keeps the title or publisher of
the one it replaced. Metadata edits go through tomlkit, so the comments and layout of
sources.toml survive them.
"""
from __future__ import annotations

import os
import re
import shutil
import time
import uuid
from pathlib import Path

import tomlkit

from .budget import over_budget
from .config import Settings
from .errors import CareqaError, DocumentError
from .load import (EXTENSIONS, IGNORED_NAMES, METADATA_FILE, corpus_files, field_text, load_document, over_limit,
                   read_metadata)

MAX_NAME_LENGTH = 120  # longer names are unreadable in lists and near filesystem limits
METADATA_FIELDS = ("title", "publisher", "date", "url")
ADDED_BY, ADDED_AT = "added_by", "added"  # written by careqa with each upload, never given by the uploader
MAX_FIELD_CHARS = 300  # a title or publisher longer than this is a paragraph pasted by mistake
MAX_DATE_CHARS = 40  # room for "2021-12-13" or "about 2017 (figures to 2016)", not for prose
_BAD_CHARS = re.compile(r"[\x00-\x1f\x7f/\\:]")
_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?::\d+)?(?:[/?#]\S*)?")


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


def check_metadata(name: str, meta: dict[str, str] | None) -> dict[str, str]:
    """The given metadata fields, each on one line and trimmed, empty ones left out;
    CareqaError naming the file and the field when a value cannot be used."""
    out = {}
    for key, value in (meta or {}).items():
        if key not in METADATA_FIELDS:
            raise CareqaError(f"refused {name!r}: unknown metadata field {key!r} "
                              f"(known: {', '.join(METADATA_FIELDS)})")
        value = " ".join(str(value or "").split())
        limit = MAX_DATE_CHARS if key == "date" else MAX_FIELD_CHARS
        if len(value) > limit:
            raise CareqaError(f"refused {name!r}: the {key} is {len(value)} characters, over {limit}")
        if key == "url" and value and not _URL.fullmatch(value):
            raise CareqaError(f"refused {name!r}: the url must be a web address starting with "
                              f"http:// or https:// (got {value[:60]!r})")
        if value:
            out[key] = value
    return out


def add_file(settings: Settings, source: Path, name: str, replace: bool = False,
             max_mb: float | None = None, meta: dict[str, str] | None = None, added_by: str = "") -> Path:
    """Copy an uploaded file into the corpus folder as `name`, after checking it can be read,
    and record `meta` (title, publisher, date, url), who added it (`added_by`) and when as its
    sources.toml entry.

    The copy is written to a hidden temporary file first and then linked or renamed into place,
    so a half-written file never appears in the corpus and an existing file is only replaced
    when `replace` is true. The entry is replaced whole: metadata not given again is gone.
    """
    check_name(name)
    fields = check_metadata(name, meta)
    limit = settings.upload_mb if max_mb is None else max_mb
    source = Path(source)
    if not source.is_file():
        raise CareqaError(f"refused {name!r}: the upload is no longer on the server (uploads not added within "
                          f"{settings.upload_minutes:g} minutes are deleted); upload it again")
    if over_limit(source, limit):
        size = source.stat().st_size
        raise CareqaError(f"refused {name!r}: file is {size / 1048576:.2f} MB, over the {limit:g} MB upload limit")
    corpus = Path(settings.corpus_dir)
    corpus.mkdir(parents=True, exist_ok=True)
    target = corpus / name
    if target.exists() and not replace:
        raise CareqaError(f"refused {name!r}: a file of that name is already in the corpus "
                          f"(choose 'replace' to overwrite it)")
    _read_toml(corpus / METADATA_FILE)  # an unreadable sources.toml is refused before copying
    tmp = corpus / f".upload-{uuid.uuid4().hex}{Path(name).suffix.lower()}"
    try:
        shutil.copyfile(source, tmp)
        try:
            doc = load_document(tmp, corpus, settings, max_mb=max(limit, settings.max_file_mb))
        except DocumentError as exc:
            reason = str(exc).split(": ", 1)[-1]
            raise CareqaError(f"refused {name!r}: {reason}") from None
        too_large = over_budget(settings, len(doc.text))
        if too_large:
            raise CareqaError(f"refused {name!r}: {too_large}")
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
    who = field_text(added_by)[:MAX_FIELD_CHARS]
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    set_metadata(corpus / METADATA_FILE, name, {**fields, **({ADDED_BY: who} if who else {}), ADDED_AT: stamp})
    return target


def provenance(settings: Settings) -> dict[str, tuple[str, str]]:
    """(who added it, when) for each corpus file added through careqa, by path; files that came
    with the corpus or were copied in by hand have no entry."""
    try:
        entries = read_metadata(Path(settings.corpus_dir))
    except DocumentError:
        return {}
    return {path: (field_text(e.get(ADDED_BY)), field_text(e.get(ADDED_AT)))
            for path, e in entries.items() if e.get(ADDED_AT)}


def document_file(settings: Settings, path: str) -> Path:
    """The corpus file at `path` (relative to the corpus folder), resolved; CareqaError unless it
    is a document file inside the corpus folder (a link leading out of it is refused)."""
    corpus = Path(settings.corpus_dir).resolve()
    target = (corpus / path).resolve()
    inner = target.relative_to(corpus).parts if corpus in target.parents else ()
    if not inner or target.name in IGNORED_NAMES or any(p.startswith(".") for p in inner):
        raise CareqaError(f"refused {path!r}: not a document of the corpus folder")
    if not target.is_file():
        raise CareqaError(f"no file {path!r} in {corpus}")
    return target


def remove_document(settings: Settings, path: str) -> Path:
    """Delete a corpus file (path relative to the corpus folder) and its sources.toml entry."""
    target = document_file(settings, path)
    corpus = Path(settings.corpus_dir).resolve()
    drop_metadata(corpus / METADATA_FILE, target.relative_to(corpus).as_posix())
    target.unlink()
    return target


def _read_toml(meta_path: Path) -> tuple[str, tomlkit.TOMLDocument]:
    """sources.toml's text and its tomlkit document; CareqaError when it is not valid TOML."""
    try:
        text = meta_path.read_text(encoding="utf-8") if meta_path.exists() else ""
        return text, tomlkit.parse(text)
    except (tomlkit.exceptions.ParseError, UnicodeDecodeError) as exc:
        raise CareqaError(f"{meta_path}: not valid TOML ({exc}); fix it by hand first") from None


def _edit_metadata(meta_path: Path, change) -> None:
    """Apply `change` to sources.toml as a tomlkit document (comments and layout kept) and
    write it atomically; a file that is not valid TOML is refused, never overwritten."""
    text, doc = _read_toml(meta_path)
    new_text = tomlkit.dumps(change(doc))
    if new_text == text:
        return
    tmp = meta_path.with_name(f".{meta_path.name}.{uuid.uuid4().hex}")
    tmp.write_text(new_text, encoding="utf-8")
    os.replace(tmp, meta_path)


def set_metadata(meta_path: Path, key: str, fields: dict[str, str]) -> None:
    """Make `[key]` in sources.toml hold exactly `fields`, keeping every other entry as it was."""
    def change(doc):
        table = tomlkit.table()
        for field_name, value in fields.items():
            table[field_name] = value
        doc[key] = table
        return doc

    _edit_metadata(meta_path, change)


def drop_metadata(meta_path: Path, key: str) -> None:
    """Remove the `[key]` table from sources.toml, keeping every other entry as it was."""
    if not meta_path.exists():
        return

    def change(doc):
        if key in doc:
            del doc[key]
        return doc

    _edit_metadata(meta_path, change)


def example_questions(settings: Settings, headings: list[str], limit: int) -> list[str]:
    """Questions a first screen can offer: the `examples` listed in sources.toml entries (one
    from each document in turn), then question-shaped headings, whose sections answer them."""
    try:
        entries = read_metadata(Path(settings.corpus_dir))
    except DocumentError:
        entries = {}
    lists = [[str(q) for q in e.get("examples", []) if str(q).strip()] for e in entries.values()
             if isinstance(e.get("examples"), list)]
    depth = max((len(x) for x in lists), default=0)
    ordered = [x[i] for i in range(depth) for x in lists if i < len(x)]
    ordered += [h for h in headings if h.endswith("?")]
    return list(dict.fromkeys(ordered))[:limit]


def folder_changes(settings: Settings, indexed_paths: list[str]) -> tuple[list[str], list[str]]:
    """Files in the corpus folder not in the index yet, and indexed files no longer there."""
    corpus = Path(settings.corpus_dir)
    on_disk = {p.relative_to(corpus).as_posix() for p in corpus_files(corpus)} if corpus.is_dir() else set()
    indexed = set(indexed_paths)
    return sorted(on_disk - indexed), sorted(indexed - on_disk)
