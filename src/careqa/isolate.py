"""Parsing PDF, DOCX and HTML in a worker process, bounded in time and memory.

These parsers are large third-party code fed whatever lands in the corpus folder: a decompression
bomb or a pathological file can take minutes or gigabytes, or crash the interpreter. So they run
in one worker process (`python -m careqa.isolate`) under an address-space limit, and the caller
kills it when a file takes too long. A limit hit or a crash costs one skipped file, never the
build. A plain subprocess rather than multiprocessing: no re-import of the caller's main script
(the UI's) in the worker, and the worker starts once per build, not once per file. It ends after
a build, and on its own once idle for IDLE_SECONDS (an upload read in a long-running app), so no
parser outlives the work it was started for.

Limits: Settings.parse_seconds per file (CAREQA_PARSE_SECONDS, default 120) and
Settings.parse_memory_mb of address space beyond the worker's own start-up size
(CAREQA_PARSE_MEMORY_MB, default 2048). The memory limit needs Linux (/proc and an
enforced RLIMIT_AS); elsewhere only the time limit applies.
"""
from __future__ import annotations

import atexit
import os
import pickle
import select
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

from .errors import DocumentError

START_SECONDS = 60.0  # a cold worker imports lxml, pypdf and python-docx: seconds, not minutes
IDLE_SECONDS = 5.0  # files of one build follow each other within this; a worker idle longer is ended
READY = b"R"
_HEADER = struct.Struct("!Q")


class _Worker:
    """One live worker process and the pipes to it."""

    def __init__(self, memory_mb: float):
        self.memory_mb = memory_mb
        package_root = str(Path(__file__).resolve().parent.parent)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
        self.proc = subprocess.Popen([sys.executable, "-m", "careqa.isolate", str(memory_mb)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        try:
            started = self._read(len(READY), time.monotonic() + START_SECONDS, START_SECONDS) == READY
        except DocumentError:
            started = False
        if not started:
            self.stop()
            raise DocumentError("the parser worker did not start")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.alive():
            self.proc.kill()
        self.proc.wait()
        self.proc.stdin.close()
        self.proc.stdout.close()

    def _read(self, n: int, deadline: float, seconds: float) -> bytes:
        fd = self.proc.stdout.fileno()
        out = bytearray()
        while len(out) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise DocumentError(f"parsing took longer than {seconds:g} s")
            got = os.read(fd, min(n - len(out), 1 << 20))
            if not got:
                self.proc.wait()
                code = self.proc.returncode
                raise DocumentError(f"the parser crashed ({'signal ' + str(-code) if code < 0 else 'exit ' + str(code)})")
            out += got
        return bytes(out)

    def call(self, data: bytes, ext: str, seconds: float):
        payload = pickle.dumps((data, ext), protocol=pickle.HIGHEST_PROTOCOL)
        deadline = time.monotonic() + seconds
        try:
            self.proc.stdin.write(_HEADER.pack(len(payload)) + payload)
            self.proc.stdin.flush()
        except BrokenPipeError:
            self.proc.wait()
            raise DocumentError(f"the parser crashed (exit {self.proc.returncode})") from None
        size = _HEADER.unpack(self._read(_HEADER.size, deadline, seconds))[0]
        return pickle.loads(self._read(size, deadline, seconds))


_lock = threading.Lock()
_worker: _Worker | None = None
_idle: threading.Timer | None = None


def extract(data: bytes, ext: str, seconds: float, memory_mb: float):
    """formats.extract(data, ext) run in the worker within `seconds` and `memory_mb`;
    DocumentError on a bad file or a limit hit."""
    global _worker, _idle
    with _lock:
        if _idle is not None:
            _idle.cancel()
        if _worker is None or not _worker.alive() or _worker.memory_mb != memory_mb:
            if _worker is not None:
                _worker.stop()
            _worker = _Worker(memory_mb)
        retire = True
        try:
            status, value, retire = _worker.call(data, ext, seconds)
        finally:
            if retire:
                _worker.stop()
                _worker = None
            else:
                _idle = threading.Timer(IDLE_SECONDS, _stop_if_idle, args=(_worker,))
                _idle.daemon = True
                _idle.start()
    if status == "error":
        raise DocumentError(value)
    return value


def stop() -> None:
    """End the worker (after a build): an idle parser should not outlive the work."""
    _stop_if_idle(None)


def _stop_if_idle(worker: _Worker | None) -> None:
    """End the worker: `worker` only if it is still the current one (None: whichever it is)."""
    global _worker
    with _lock:
        if _worker is not None and worker in (None, _worker):
            _worker.stop()
            _worker = None


atexit.register(stop)


def _address_space(field: str = "") -> int | None:
    """This process's address space in bytes now, or its peak with field="VmPeak"; None without /proc."""
    try:
        if not field:
            with open("/proc/self/statm") as fh:
                return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        with open("/proc/self/status") as fh:
            line = next(line for line in fh if line.startswith(field + ":"))
        return int(line.split()[1]) * 1024
    except (OSError, StopIteration):
        return None


def _near_ceiling(limit: int | None) -> bool:
    peak = _address_space("VmPeak")
    return limit is not None and peak is not None and peak > limit - (32 << 20)


def _parse(data: bytes, ext: str, limit: int | None, memory_mb: float) -> tuple[str, object]:
    """("ok", Extracted) or ("error", reason). A failure at the memory ceiling is named as such:
    parsers often report a failed allocation as something else (lxml: "unknown error")."""
    from . import formats

    try:
        return "ok", formats.extract(data, ext)
    except Exception as exc:  # a parser bug on one strange file is that file's problem
        if isinstance(exc, MemoryError) or _near_ceiling(limit):
            return "error", f"parsing needs more than {memory_mb:g} MB of memory"
        if isinstance(exc, DocumentError):
            return "error", str(exc)
        if isinstance(exc, RecursionError):
            return "error", "the file is nested too deeply to parse"
        return "error", f"the parser failed ({type(exc).__name__}: {str(exc)[:80]})"


def _serve(memory_mb: float) -> None:
    """Worker loop: read (bytes, ext), reply (status, Extracted or reason, retiring after this)."""
    import resource

    import docx  # noqa: F401  (imported before the limit is measured: the budget is for parsing)
    import lxml.html  # noqa: F401
    import pypdf  # noqa: F401

    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    base = _address_space()
    limit = None if base is None else base + int(memory_mb * 1024 * 1024)
    if limit is not None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    out.write(READY)
    out.flush()
    stdin = sys.stdin.buffer
    while header := stdin.read(_HEADER.size):
        data, ext = pickle.loads(stdin.read(_HEADER.unpack(header)[0]))
        status, value = _parse(data, ext, limit, memory_mb)
        del data
        retire = _near_ceiling(limit)  # the peak never falls again: a fresh worker judges the next file
        body = pickle.dumps((status, value, retire), protocol=pickle.HIGHEST_PROTOCOL)
        out.write(_HEADER.pack(len(body)) + body)
        out.flush()
        if retire:
            return


if __name__ == "__main__":
    _serve(float(sys.argv[1]))
