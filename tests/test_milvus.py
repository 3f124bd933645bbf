"""The Milvus store with the real model: the same answers as the FAISS store, and errors in one line.

The Milvus index is a Milvus Lite database in a temporary folder holding the very parts (passages,
vectors, sentences) of the session's FAISS index of the bundled corpus, written through the
Milvus store: answers may differ only if the store does.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

SHARED_QUESTIONS = Path(__file__).resolve().parents[2] / "shared" / "eval" / "questions.jsonl"
NORWAY = "How does Norway incentivise discharge coordination?"
FINED = "The municipalities are fined per day for patients who stay in hospitals after they are ready for discharge."


@pytest.fixture(scope="module")
def milvus_bundled(bundled, tmp_path_factory):
    """Settings of a Milvus Lite copy of the bundled index (the FAISS version's parts, not re-embedded)."""
    from careqa.index import stored_parts, write_version
    from careqa.milvus_store import release
    from careqa.store import open_store

    uri = str(tmp_path_factory.mktemp("milvus") / "milvus.db")
    settings = bundled.with_(store="milvus", milvus_uri=uri)
    faiss = open_store(bundled).load()
    parts = list(stored_parts(faiss).values())
    store = open_store(settings)
    with store.writing():
        write_version(settings, store, parts, [], time.time(), 0)
    yield settings
    release(uri)


def questions() -> list[str]:
    return [json.loads(line)["question"] for line in SHARED_QUESTIONS.open(encoding="utf-8")] + [NORWAY]


def test_every_answer_is_the_same_from_milvus_as_from_faiss(assistant, milvus_bundled):
    from careqa.assistant import Assistant

    milvus = Assistant(milvus_bundled)
    assert milvus.store.current() and milvus.manifest["store"]["kind"] == "milvus"
    for question in questions():
        assert milvus.ask(question).to_dict() == assistant.ask(question).to_dict(), question
    for where in ({"docs": ["commonwealth-fund-care-coordination"]}, {"section": "norway"}):
        assert milvus.ask(NORWAY, **where).to_dict() == assistant.ask(NORWAY, **where).to_dict()
    assert milvus.sections() == assistant.sections() and milvus.documents() == assistant.documents()
    doc_id = "commonwealth-fund-care-coordination"
    assert milvus.document(doc_id) == assistant.document(doc_id)


def test_norway_is_answered_with_the_fined_per_day_sentence_cited(milvus_bundled):
    from careqa.assistant import Assistant

    answer = Assistant(milvus_bundled).ask(NORWAY)
    cited = [s for block in answer.blocks for s in block.sentences if s.text == FINED]
    assert cited and f"{FINED} [{cited[0].n}]" in answer.text
    source = next(c.passage for c in answer.citations if c.n == cited[0].n)
    assert source.section.endswith("> Norway") and FINED in " ".join(source.text.split())


def run(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "careqa", *args], capture_output=True, text=True, timeout=60,
                          env={"PATH": "", "CAREQA_MODEL": "hash:64", **env})


def test_a_server_that_cannot_be_reached_is_one_line_without_the_token(tmp_path):
    from careqa_ui.app import free_port

    uri = f"http://127.0.0.1:{free_port()}"
    done = run("index", "status", "--store", "milvus", "--milvus-uri", uri,
               env={"CAREQA_MILVUS_TOKEN": "root:s3cret-token", "CAREQA_INDEX_DIR": str(tmp_path)})
    assert done.returncode == 1 and done.stdout == "" and done.stderr.count("\n") == 1
    assert done.stderr.startswith(f"careqa: error: cannot open Milvus at {uri}: ")
    assert "s3cret" not in done.stderr


def test_a_bad_address_names_the_variable_and_never_echoes_it(tmp_path):
    done = run("ask", "anything", env={"CAREQA_STORE": "milvus", "CAREQA_MILVUS_URI": "ftp://u:pw@host/x"})
    assert done.returncode == 1 and "pw" not in done.stderr
    assert done.stderr == ("careqa: error: CAREQA_MILVUS_URI must be a server address such as http://127.0.0.1:19530 "
                           "(or a Milvus Lite file ending in .db)\n")
    done = run("ask", "anything", "--store", "chroma", env={})
    assert done.stderr == "careqa: error: --store must be one of faiss, milvus (got 'chroma')\n"


def test_a_milvus_lite_file_open_in_another_process_is_one_line(milvus_bundled):
    from careqa.store import open_store

    assert open_store(milvus_bundled).current()  # this process holds the .db open
    done = run("index", "status", env={"CAREQA_STORE": "milvus", "CAREQA_MILVUS_URI": milvus_bundled.milvus_uri})
    assert done.returncode == 1 and done.stderr.count("\n") == 1
    assert done.stderr == (f"careqa: error: cannot open Milvus at {milvus_bundled.milvus_uri}: another process has "
                           "this Milvus Lite file open (one process at a time can); to share an index run "
                           "`milvus-lite server` and set CAREQA_MILVUS_URI to its address\n")
