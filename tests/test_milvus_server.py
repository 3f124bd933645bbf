"""One index in a `milvus-lite server`, shared by separate careqa processes over Milvus's protocol.

The server runs on 127.0.0.1 (a free port, a temporary data folder); every careqa command here is
a process of its own given `--store milvus --milvus-uri http://127.0.0.1:PORT`, as on app servers
sharing one index. These tests move data, not answer quality: they use the `hash:64` embedder.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from gradio_client import Client

from careqa_ui.app import free_port

ROOT = Path(__file__).resolve().parent.parent
MODEL = "hash:64"
ALPHA = ("# Alderney\n\nThe Alderney respite grant pays unpaid carers {} pounds a week.\n\n"
         "## Eligibility\n\nCarers looking after a relative for 35 hours a week qualify.\n")
BETA = "Bexley discharge teams phone every patient within two days of leaving hospital.\n"
GRANT = "How much is the Alderney respite grant?"

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:gradio.queueing")


def wait_for(ready, what: str, proc: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        assert proc.poll() is None, f"{what} exited: {proc.stderr.read() if proc.stderr else ''}"
        try:
            if ready():
                return
        except Exception:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{what} did not start in {seconds} s")


def start_server(data: Path, port: int) -> subprocess.Popen:
    from pymilvus import MilvusClient

    proc = subprocess.Popen([sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(data),
                             "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wait_for(lambda: MilvusClient(uri=f"http://127.0.0.1:{port}").list_collections() is not None,
             "milvus-lite server", proc)
    return proc


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The address of a `milvus-lite server` of our own, stopped after the module."""
    port = free_port()
    proc = start_server(tmp_path_factory.mktemp("milvus-server") / "data", port)
    yield f"http://127.0.0.1:{port}"
    stop(proc)


def careqa(*args: str, uri: str, corpus: Path, index: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "careqa", *args, "--store", "milvus", "--milvus-uri", uri,
                           "--corpus", str(corpus), "--index-dir", str(corpus.parent / "index"), "--index", index],
                          capture_output=True, text=True, timeout=300, check=check,
                          env={**os.environ, "CAREQA_MODEL": MODEL})


def serve(uri: str, corpus: Path, index: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "careqa", "serve", "--port", str(port), "--store", "milvus",
                             "--milvus-uri", uri, "--corpus", str(corpus), "--index-dir", str(corpus.parent / "index"),
                             "--index", index], env={**os.environ, "CAREQA_MODEL": MODEL},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return proc, f"http://127.0.0.1:{port}/"


def ask(client: Client, question: str) -> dict:
    return json.loads(client.predict(question, api_name="/ask"))


def test_two_serve_processes_share_one_index_and_follow_an_update(server, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "alpha.md").write_text(ALPHA.format(40), encoding="utf-8")
    (corpus / "beta.txt").write_text(BETA, encoding="utf-8")
    careqa("index", "build", uri=server, corpus=corpus, index="shared")
    (a, url_a), (b, url_b) = serve(server, corpus, "shared"), serve(server, corpus, "shared")
    try:
        for proc, url in ((a, url_a), (b, url_b)):
            wait_for(lambda: httpx.get(url, timeout=2).status_code == 200, "careqa serve", proc)
        first, second = Client(url_a, verbose=False), Client(url_b, verbose=False)
        assert "40 pounds" in ask(first, GRANT)["answer"] and "40 pounds" in ask(second, GRANT)["answer"]

        (corpus / "alpha.md").write_text(ALPHA.format(75), encoding="utf-8")
        answers, updating = [], threading.Event()

        def keep_asking():
            while not answers or "75 pounds" not in answers[-1][1]:
                started = updating.is_set()
                answers.append((started, ask(second, GRANT)["answer"]))
        asker = threading.Thread(target=keep_asking)
        asker.start()
        updating.set()
        report = json.loads(first.predict(api_name="/rebuild"))
        asker.join(timeout=60)
        assert report["changed"] == ["alpha.md"] and report["embedded"] == 2
        said = ["75" if "75 pounds" in text else "40" if "40 pounds" in text else text for _, text in answers]
        assert set(said) == {"40", "75"} and said == sorted(said), said  # 40 until the switch, then 75
        assert sum(started for started, _ in answers) >= 2, "questions were asked while the update ran"
        assert "75 pounds" in ask(first, GRANT)["answer"]
    finally:
        for proc in (a, b):
            proc.terminate()
            proc.wait(timeout=30)


def new_collections(uri: str, base: str, live: str) -> bool:
    from pymilvus import MilvusClient

    names = MilvusClient(uri=uri).list_collections()
    return any(n.startswith(base + "_v") and not n.startswith(f"{base}_{live}") for n in names)


def test_sigkill_during_an_update_leaves_the_alias_on_a_whole_version(server, tmp_path):
    from careqa.config import Settings
    from careqa.store import open_store

    state_a, corpus = tmp_path / "a" / "corpus", tmp_path / "b" / "corpus"
    shutil.copytree(ROOT / "corpus", state_a)
    for copy in ("one", "two"):  # a larger collection: a write that takes long enough to interrupt
        for f in (ROOT / "corpus").glob("*.txt"):
            shutil.copy(f, state_a / f"{copy}-{f.name}")
    shutil.copytree(state_a, corpus)
    careqa("index", "build", uri=server, corpus=state_a, index="killed")
    settings = Settings(corpus_dir=state_a, index_root=tmp_path, index_name="killed", model=MODEL,
                        store="milvus", milvus_uri=server)
    store = open_store(settings)
    before = store.current()
    with open(corpus / "one-who-observatory-policy-brief-62.txt", "a", encoding="utf-8") as fh:
        fh.write("\nA new closing paragraph about respite care for unpaid carers.\n")
    update = subprocess.Popen([sys.executable, "-m", "careqa", "index", "update", "--store", "milvus",
                               "--milvus-uri", server, "--corpus", str(corpus), "--index-dir", str(tmp_path / "b"),
                               "--index", "killed"], env={**os.environ, "CAREQA_MODEL": MODEL},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not new_collections(server, store.base, before) and update.poll() is None and time.time() < deadline:
        time.sleep(0.005)
    update.send_signal(signal.SIGKILL)
    assert update.wait(timeout=30) == -signal.SIGKILL, "the update finished before it could be killed"
    assert store.current() == before and store.leftovers(), "killed mid-write: new collections, alias unmoved"

    verified = careqa("index", "verify", uri=server, corpus=state_a, index="killed")
    assert "index OK: version " + before in verified.stdout
    assert "from an interrupted run" in verified.stdout
    careqa("index", "update", uri=server, corpus=corpus, index="killed")
    assert careqa("index", "verify", uri=server, corpus=corpus, index="killed").returncode == 0
    assert store.current() != before and store.versions() == sorted([before, store.current()])
    assert store.leftovers() == []


def test_a_restarted_server_is_answered_from_again(tmp_path):
    """Milvus Lite releases every collection when it stops: a serving process loads them again."""
    from careqa.assistant import Assistant
    from careqa.config import Settings

    port, corpus = free_port(), tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "alpha.md").write_text(ALPHA.format(40), encoding="utf-8")
    proc = start_server(tmp_path / "data", port)
    uri = f"http://127.0.0.1:{port}"
    try:
        careqa("index", "build", uri=uri, corpus=corpus, index="restarted")
        assistant = Assistant(Settings(corpus_dir=corpus, index_root=tmp_path / "index", index_name="restarted",
                                       model=MODEL, store="milvus", milvus_uri=uri))
        assert "40 pounds" in assistant.ask(GRANT).text
        stop(proc)
        proc = start_server(tmp_path / "data", port)
        assert "40 pounds" in assistant.ask(GRANT, k=3).text
    finally:
        stop(proc)
