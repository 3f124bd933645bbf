"""benchmarks/scale.py --store milvus: a `milvus-lite server` per size, its memory, and the recall
of Milvus's own search against exact search of the same (synthetic) passage vectors."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


def start_server(data: Path) -> tuple[subprocess.Popen, str]:
    """A milvus-lite server on a free local port over `data`; its process and address."""
    from pymilvus import MilvusClient

    from careqa_ui.app import free_port

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(data), "--host",
                             "127.0.0.1", "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    uri = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            MilvusClient(uri=uri).list_collections()
            return proc, uri
        except Exception:
            assert proc.poll() is None, "milvus-lite server exited"
            time.sleep(0.2)
    raise RuntimeError("milvus-lite server did not start")


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS")) / 1024


def compare(parts, queries: np.ndarray, stored) -> dict:
    """Milvus search (the index the store chose) timed, and its recall@10 against exact search of
    the passage vectors as written (regenerated from the synthetic parts, not read back)."""
    exact = np.concatenate([p.vectors for p in parts]).astype("float32")
    truth = [set(np.argsort(-(exact @ q), kind="stable")[:10].tolist()) for q in queries]
    started = time.perf_counter()
    found = [stored.dense(q, 10, None)[0] for q in queries]
    ms = 1000 * (time.perf_counter() - started) / len(queries)
    recall = float(np.mean([len(t & set(f.tolist())) / 10 for t, f in zip(truth, found)]))
    return {"milvus_ms": ms, "chosen": stored.manifest["vectors"]["kind"], "chosen_recall": recall}


def use_server(work: Path, size: int) -> subprocess.Popen | None:
    """Start a server for this size unless CAREQA_MILVUS_URI names one; point careqa at it."""
    if os.environ.get("CAREQA_MILVUS_URI") and not os.environ.get("SCALE_OWN_SERVER"):
        return None
    proc, uri = start_server(work / f"milvus-{size}")
    os.environ["CAREQA_MILVUS_URI"], os.environ["SCALE_OWN_SERVER"] = uri, "1"
    return proc
