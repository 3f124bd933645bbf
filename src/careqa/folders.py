"""Versioned folders switched atomically: how the on-disk store (and anything else kept as files
in index/<name>/) gets crash-safe versions.

    index/<name>/CURRENT          name of the live version folder (replaced with os.replace)
    index/<name>/v-<stamp>/       one complete version (its parts: see store.py)
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
from pathlib import Path

from .errors import IndexBusyError, IndexMissingError

CURRENT = "CURRENT"


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
    point_current(index_dir, version)
    tidy(index_dir)
    return final


def point_current(index_dir: Path, version: str) -> None:
    """Make CURRENT name `version`, in one atomic step, flushed to disk."""
    pointer = index_dir / (CURRENT + ".tmp")
    with open(pointer, "w", encoding="utf-8") as fh:
        fh.write(version + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(pointer, index_dir / CURRENT)
    fsync_path(index_dir)
