"""Index lifecycle: incremental updates, SIGKILL at 20 moments, write failures, one writer, live readers.

Two corpus states share the Commonwealth Fund document (the Norway question's source):
A = commonwealth + alpha (allowance 40 pounds) + beta; B = commonwealth + alpha (75 pounds) + gamma.
The index of A is made by updating an index of the bundled corpus, so the commonwealth vectors are
reused, not embedded again. These tests are about moving data, not answer quality: they use the
deterministic `hash:64` embedder (embed.HashEmbedder), so no model is loaded.

Run as a script (`python tests/test_lifecycle.py serve-kills`) this file is the kill driver: for
each request it forks a child that runs an update and SIGKILLs itself at its Nth step (a call in
careqa's index/store/load code or an os/io/faiss/sqlite call). A calibration run lists the steps;
15 kill moments are spread evenly over them and 5 sit on the commit points: before and after the
rename of the new folder, before and after the CURRENT switch, and in the middle of pruning.
"""
from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
COMMONWEALTH = "commonwealth-fund-care-coordination.txt"
NORWAY = "How does Norway incentivise discharge coordination?"
FINED = "fined per day for patients who stay in hospitals"
ALLOWANCE = "How much is the Aldermoor carers allowance?"
ALPHA = ("The Aldermoor carers allowance is {} pounds a week.\n\n"
         "It is paid by the county council to unpaid carers who look after a relative at home.\n")
BETA = "Beta notes: the district runs a weekly lunch club for older residents.\n"
GAMMA = "Gamma notes: respite breaks give unpaid carers a rest of up to two weeks a year.\n"
MODEL = "hash:64"
STEP_MODULES = ("careqa.index", "careqa.store", "careqa.faiss_store", "careqa.faiss_write", "careqa.folders",
                "careqa.load", "careqa.formats", "shutil")
STEP_CALLS = ("posix", "io", "faiss._swigfaiss", "_sqlite3")


def write_corpus(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True)
    shutil.copy(ROOT / "corpus" / COMMONWEALTH, folder / COMMONWEALTH)
    shutil.copy(ROOT / "corpus" / "sources.toml", folder / "sources.toml")
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def states(tmp_path_factory):
    """Corpus folders A and B, and an index of A (two versions: bundled, then A) to copy per test."""
    from careqa.index import build_index, update_index

    root = tmp_path_factory.mktemp("lifecycle")
    a = write_corpus(root / "A", {"alpha.txt": ALPHA.format(40), "beta.txt": BETA})
    b = write_corpus(root / "B", {"alpha.txt": ALPHA.format(75), "gamma.txt": GAMMA})
    bundled = settings_for(shutil.copytree(ROOT / "corpus", root / "bundled"), root / "bundled-index")
    build_index(bundled)
    base = root / "base"
    shutil.copytree(bundled.index_dir, base / "default")
    report = update_index(settings_for(a, base))
    return SimpleNamespace(a=a, b=b, base=base, report=report, bundled=bundled)


def copy_index(states, dest: Path) -> Path:
    return shutil.copytree(states.base, dest)


def settings_for(corpus: Path, index_root: Path, **kw):
    from careqa.config import Settings

    return Settings(corpus_dir=corpus, index_root=index_root, **{"model": MODEL, **kw})


def assistant(settings):
    from careqa.assistant import Assistant

    return Assistant(settings)


def versions(settings) -> list[str]:
    return sorted(p.name for p in settings.index_dir.glob("v-*"))


# --- incremental updates ---------------------------------------------------------------------

def test_update_from_bundled_reuses_unchanged_document(states):
    from careqa import store

    r = states.report
    assert (r.added, r.changed, r.unchanged) == (["alpha.txt", "beta.txt"], [], [COMMONWEALTH])
    assert len(r.removed) == 4 and r.full_rebuild_reason == ""
    assert r.embedded == 2, "only the two tiny files are embedded"
    old = store.open_store(states.bundled).load()
    new = store.load_live(states.base / "default")
    doc_id = COMMONWEALTH.removesuffix(".txt")
    before, after = old.contents(doc_id), new.contents(doc_id)
    assert before.chunks == after.chunks and before.record == after.record
    assert np.array_equal(before.vectors, after.vectors)
    assert np.array_equal(before.sentences, after.sentences)
    assert np.array_equal(before.sentence_vectors, after.sentence_vectors)
    assert list(new.documents) == ["alpha", "beta", doc_id], "documents keyed by id, in path order"
    assert new.manifest["previous"] == old.version
    assert new.manifest["documents"][COMMONWEALTH]["indexed_at"] == old.manifest["built_at"]
    assert new.manifest["documents"]["alpha.txt"]["indexed_at"] == new.manifest["built_at"]


def test_update_embeds_only_changes_and_answers_from_them(states, tmp_path):
    from careqa.index import update_index
    from careqa.verify import verify_index

    settings = settings_for(states.b, copy_index(states, tmp_path / "index"))
    before = assistant(settings).ask(ALLOWANCE)
    report = update_index(settings)
    assert report.summary().splitlines()[0].startswith(
        "1 added, 1 changed, 1 removed, 1 unchanged; 2 chunks embedded; 3 documents")
    assert "75 pounds" in assistant(settings).ask(ALLOWANCE).text and "40 pounds" in before.text
    assert verify_index(settings).problems == []
    again = update_index(settings)
    assert again.up_to_date and again.embedded == 0 and again.version == report.version
    assert "nothing written" in again.summary()


def test_no_index_then_chunker_change_is_a_full_rebuild_said_out_loud(tmp_path):
    from careqa.index import live_for_reuse, update_index

    corpus = tmp_path / "tiny"
    corpus.mkdir()
    (corpus / "alpha.txt").write_text(ALPHA.format(40), encoding="utf-8")
    (corpus / "beta.txt").write_text(BETA, encoding="utf-8")
    settings = settings_for(corpus, tmp_path / "index")
    first = update_index(settings)
    assert first.full_rebuild_reason == "no index yet" and first.added == ["alpha.txt", "beta.txt"]
    smaller = settings.with_(chunk_tokens=settings.chunk_tokens // 2)
    report = update_index(smaller)
    assert report.summary().splitlines()[0] == (f"full rebuild: chunker settings changed (target_tokens "
                                                f"{settings.chunk_tokens} -> {settings.chunk_tokens // 2})")
    assert (report.rebuilt, report.unchanged, report.embedded, report.chunks) == (["alpha.txt", "beta.txt"], [], 2, 2)
    assert live_for_reuse(smaller.with_(model="other-model"))[1] == \
        "embedding model changed from hash:64 to other-model"


# --- crash safety ----------------------------------------------------------------------------

def _is_step(frame, event: str, arg) -> bool:
    """A moment the kill driver counts: careqa index/store/load calls and file-system calls."""
    if event == "call":
        return (not frame.f_code.co_flags & 0x20 and not frame.f_code.co_name.startswith("<")
                and frame.f_globals.get("__name__") in STEP_MODULES)
    return event == "c_call" and getattr(arg, "__module__", None) in STEP_CALLS


def _run_child(request: dict) -> None:
    """In the forked child: update, SIGKILL at step `kill_at` (never when 0), record steps taken."""
    from careqa.index import update_index

    steps: list[str] = []

    def profile(frame, event, arg):
        if _is_step(frame, event, arg):
            steps.append(frame.f_code.co_name if event == "call" else f"{arg.__module__}.{arg.__name__}")
            if len(steps) == request["kill_at"]:
                os.kill(os.getpid(), signal.SIGKILL)

    code = 0
    try:
        sys.setprofile(profile)
        update_index(settings_for(Path(request["corpus"]), Path(request["index_root"])))
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        sys.setprofile(None)
    Path(request["index_root"], "steps.json").write_text(json.dumps(steps))
    os._exit(code)


def serve_kills() -> None:
    """The driver loop: careqa is imported here once, so forked children start at once."""
    import careqa.index  # noqa: F401

    for line in sys.stdin:
        pid = os.fork()
        if pid == 0:
            _run_child(json.loads(line))
        _, status = os.waitpid(pid, 0)
        killed = os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0
        print(json.dumps({"signal": killed, "exit": os.WEXITSTATUS(status) if not killed else None}), flush=True)


@pytest.fixture(scope="module")
def killer():
    proc = subprocess.Popen([sys.executable, __file__, "serve-kills"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env={**os.environ, "CAREQA_QUIET": "1"})

    def run(corpus: Path, index_root: Path, kill_at: int) -> dict:
        proc.stdin.write(json.dumps({"corpus": str(corpus), "index_root": str(index_root),
                                     "kill_at": kill_at}) + "\n")
        proc.stdin.flush()
        return json.loads(proc.stdout.readline())

    yield run
    proc.stdin.close()
    proc.wait(timeout=30)


def test_sigkill_at_20_moments_leaves_a_whole_index(states, killer, tmp_path):
    from careqa import store
    from careqa.index import update_index
    from careqa.verify import verify_index

    calibration = copy_index(states, tmp_path / "calibration")
    assert killer(states.b, calibration, 0) == {"signal": 0, "exit": 0}
    steps = json.loads((calibration / "steps.json").read_text())
    rename, switch = steps.index("posix.rename") + 1, steps.index("posix.replace") + 1
    prune = steps.index("posix.unlink", switch) + 1
    targeted = {rename, rename + 1, switch, switch + 1, prune}
    spread = [n for n in (round(1 + i * (len(steps) - 2) / 16) for i in range(17)) if n not in targeted]
    moments = sorted(targeted | set(spread[:20 - len(targeted)]))
    assert len(moments) == 20, f"only {len(steps)} steps in an update"
    base_version = store.current_version(states.base / "default")
    landed = {"A": 0, "B": 0}
    for n in moments:
        root = copy_index(states, tmp_path / f"kill-{n}")
        where = f"killed at step {n} of {len(steps)} ({steps[n - 1]})"
        assert killer(states.b, root, n)["signal"] == signal.SIGKILL, f"update finished before step {n}"
        state = "A" if store.current_version(root / "default") == base_version else "B"
        landed[state] += 1
        live = settings_for(states.a if state == "A" else states.b, root)
        assert verify_index(live).problems == [], where
        assert any(FINED in p.text for p in assistant(live).search(NORWAY)), where
        settings = settings_for(states.b, root)
        update_index(settings)
        assert verify_index(settings).problems == []
        assert not list(settings.index_dir.glob("tmp-*")) and len(versions(settings)) == 2
    assert landed["A"] and landed["B"], f"kills should land before and after the switch: {landed}"


def test_failed_write_leaves_previous_version_serving(states, tmp_path, monkeypatch):
    from careqa import faiss_write, store
    from careqa.errors import IndexWriteError
    from careqa.index import update_index

    settings = settings_for(states.b, copy_index(states, tmp_path / "index"))
    live, real = store.current_version(settings.index_dir), faiss_write.write_bm25

    def disk_full(folder, bm25):
        (folder / "bm25_vocab.json").write_text("{")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(folder / "bm25_vocab.json"))

    monkeypatch.setattr(faiss_write, "write_bm25", disk_full)
    with pytest.raises(IndexWriteError, match=r"could not write the new index version "
                                                    r"\(No space left on device\); the previous version is still live"):
        update_index(settings)
    assert store.current_version(settings.index_dir) == live
    assert not list(settings.index_dir.glob("tmp-*"))
    assert "40 pounds" in assistant(settings).ask(ALLOWANCE).text
    monkeypatch.setattr(faiss_write, "write_bm25", real)
    assert update_index(settings).changed == ["alpha.txt"]


# --- one writer, many readers ----------------------------------------------------------------

def test_queries_keep_working_during_an_update_in_another_process(states, tmp_path):
    from careqa.assistant import Assistant

    index_root = copy_index(states, tmp_path / "index")
    assistant = Assistant(settings_for(states.b, index_root))
    assert "40 pounds" in assistant.ask(ALLOWANCE).text
    env = {**os.environ, "CAREQA_CORPUS": str(states.b), "CAREQA_INDEX_DIR": str(index_root), "CAREQA_QUIET": "1",
           "CAREQA_MODEL": MODEL}
    proc = subprocess.Popen([sys.executable, "-m", "careqa", "index", "update"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = []
    while proc.poll() is None:
        seen.append(assistant.ask(ALLOWANCE).text)
        assert any(FINED in p.text for p in assistant.search(NORWAY))
        time.sleep(0.05)
    out, err = proc.communicate()
    assert proc.returncode == 0, err
    assert out.startswith("1 added, 1 changed, 1 removed, 1 unchanged; 2 chunks embedded")
    after = assistant.ask(ALLOWANCE).text
    assert len(seen) > 5 and all("40 pounds" in s or "75 pounds" in s for s in seen)
    assert "75 pounds" in after, "the running assistant picks up the new version without a restart"


def test_second_writer_waits_and_says_so_or_gives_up(tmp_path):
    from careqa import folders as store
    from careqa.errors import IndexBusyError

    index_dir = tmp_path / "index" / "default"
    held, release, said = threading.Event(), threading.Event(), []

    def first_writer():
        with store.writer_lock(index_dir):
            held.set()
            release.wait(10)

    holder = threading.Thread(target=first_writer)
    holder.start()
    held.wait(10)
    with pytest.raises(IndexBusyError, match=r"another build or update is still running after 0.2 s"):
        with store.writer_lock(index_dir, wait=0.2, notify=said.append):
            pass
    threading.Timer(0.5, release.set).start()
    started = time.monotonic()
    with store.writer_lock(index_dir, notify=said.append):
        waited = time.monotonic() - started
    holder.join()
    assert waited >= 0.3
    assert said == [f"another build or update of {index_dir} is running; waiting for it to finish"] * 2


def test_reader_retries_when_its_version_is_pruned_while_loading(states, tmp_path, monkeypatch):
    from careqa import faiss_store, store

    index_dir = copy_index(states, tmp_path / "index") / "default"
    old = store.current_version(index_dir)
    newer = "v-99990101T000000-000000000"
    shutil.copytree(index_dir / old, index_dir / newer)
    real = faiss_store.load_folder
    calls = []

    def switch_then_load(path, ef_search=None):
        calls.append(path.name)
        if len(calls) == 1:
            (index_dir / "CURRENT").write_text(newer + "\n")
            (path / "bm25_data.npy").unlink()
        return real(path, ef_search)

    monkeypatch.setattr(faiss_store, "load_folder", switch_then_load)
    assert store.load_live(index_dir).version == newer and calls == [old, newer]


def test_tidy_keeps_live_and_previous_only(tmp_path):
    from careqa import folders

    index_dir = tmp_path / "default"
    for name in ("v-1", "v-2", "v-3", "v-4-orphan", "tmp-5"):
        (index_dir / name).mkdir(parents=True)
    (index_dir / "v-3" / "manifest.json").write_text(json.dumps({"previous": "v-2"}))
    (index_dir / "CURRENT").write_text("v-3\n")
    (index_dir / "CURRENT.tmp").write_text("v-4-orphan\n")
    removed = folders.tidy(index_dir)
    assert sorted(removed) == ["CURRENT.tmp", "tmp-5", "v-1", "v-4-orphan"]
    assert sorted(p.name for p in index_dir.iterdir()) == ["CURRENT", "v-2", "v-3"]


# --- verify ----------------------------------------------------------------------------------

def test_verify_names_what_is_wrong(states, tmp_path, capsys):
    from careqa.cli import main

    root = copy_index(states, tmp_path / "index")
    argv = ["index", "verify", "--index-dir", str(root), "--model", MODEL]
    assert main(argv + ["--corpus", str(states.a)]) == 0
    assert capsys.readouterr().out.startswith("index OK: version v-")
    assert main(argv + ["--corpus", str(states.b)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[:3] == [
        "problem: alpha.txt: changed since it was indexed; run `careqa index update`",
        "problem: beta.txt: indexed but no longer in the corpus; run `careqa index update`",
        "problem: gamma.txt: in the corpus but not indexed; run `careqa index update`"]
    live = root / "default" / (root / "default" / "CURRENT").read_text().strip()
    passages = np.load(live / "passages.npy")
    np.save(live / "passages.npy", passages[:-1])
    assert main(argv + ["--corpus", str(states.a)]) == 1
    assert capsys.readouterr().out == (f"problem: {live}: {len(passages)} vectors for {len(passages) - 1} chunks; "
                                       "rebuild with `careqa index build`\n")


def test_verify_catches_vectors_from_another_model(states, tmp_path):
    import faiss

    from careqa.verify import verify_index

    root = copy_index(states, tmp_path / "index")
    live = root / "default" / (root / "default" / "CURRENT").read_text().strip()
    index = faiss.read_index(str(live / "vectors.faiss"))
    rng = np.random.default_rng(0)
    fake = rng.normal(size=(index.ntotal, index.d)).astype("float32")
    fake /= np.linalg.norm(fake, axis=1, keepdims=True)
    replaced = faiss.IndexFlatIP(index.d)
    replaced.add(fake)
    faiss.write_index(replaced, str(live / "vectors.faiss"))
    problems = verify_index(settings_for(states.a, root)).problems
    assert problems and all(f"does not match model {MODEL}" in p for p in problems)


if __name__ == "__main__" and sys.argv[1:] == ["serve-kills"]:
    serve_kills()
