"""The real app on a free port, driven through gradio_client as a script would: named endpoints,
the same JSON as the CLI, questions answered concurrently, uploads with metadata, downloads."""
from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import tomllib

import httpx
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from careqa.assistant import Assistant
from careqa.config import Settings
from careqa_ui.app import start_local, start_process
from conftest import BUNDLED_CORPUS

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:gradio.queueing")

NORWAY = "How does Norway incentivise discharge coordination?"
NEW_FACT = ("The Zorbland Care Compact requires every council to publish a weekly hospital discharge "
            "dashboard. Councils that miss two dashboards lose their integration grant.")
ZORBLAND = "What does the Zorbland Care Compact require councils to publish?"


@pytest.fixture(scope="module")
def client(bundled_app):
    return Client(bundled_app, verbose=False)


def ask(client: Client, question: str, **options) -> dict:
    return json.loads(client.predict(question, api_name="/ask", **options))


def test_ask_endpoint_returns_the_json_of_careqa_ask_json(client, bundled):
    cli = subprocess.run([sys.executable, "-m", "careqa", "ask", "--corpus", str(bundled.corpus_dir),
                          "--index-dir", str(bundled.index_root), "--json", NORWAY],
                         capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(client.predict(NORWAY, api_name="/ask")) == json.loads(cli.stdout)


def test_endpoints_and_their_parameters_are_named(client):
    api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert {"/ask", "/documents", "/document", "/sections", "/status", "/rebuild", "/add_files", "/remove"} <= set(api)
    params = {name: [p["parameter_name"] for p in info["parameters"]] for name, info in api.items()}
    assert params["/ask"] == ["question", "k", "docs", "section", "history"]
    assert params["/add_files"] == ["files", "title", "publisher", "date", "url", "replace"]
    labels = [r["label"] for info in api.values() for r in info["returns"]]
    assert not any(label.startswith("value_") for label in labels), labels
    assert not {"/cite", "/example", "/export", "/unfilter"} & set(api), "page-only events stay private"


def test_filters_narrow_the_answer_and_are_reported(client):
    answer = ask(client, NORWAY, section="Denmark", k=3)
    assert answer["filters"] == {"k": 3, "docs": [], "section": "Denmark", "docs_named": []}
    assert answer["passages"] and all("Denmark" in p["section"] for p in answer["passages"])
    doc = "nuffield-trust-integrated-care-explained"
    answer = ask(client, "What is integrated care?", docs=[doc])
    assert {p["doc_id"] for p in answer["passages"]} == {doc}


def test_bad_question_gets_the_library_error_in_one_line(client):
    with pytest.raises(AppError, match="the question is empty"):
        client.predict("   ", api_name="/ask")


def test_index_metadata_endpoints_tell_what_is_covered(client, assistant):
    documents = json.loads(client.predict(api_name="/documents"))
    assert [d["doc_id"] for d in documents] == [d.doc_id for d in assistant.documents()]
    sections = json.loads(client.predict(api_name="/sections"))
    assert sections == [list(s) for s in assistant.sections()]
    doc = json.loads(client.predict("who-observatory-policy-brief-62", api_name="/document"))
    assert doc["text"] == assistant.document("who-observatory-policy-brief-62")["text"]


class Overlapping(Assistant):
    """The real Assistant, except that `ask` waits until a second question is being answered too."""

    def __init__(self, settings, meeting: threading.Barrier):
        super().__init__(settings)
        self.meeting = meeting

    def ask(self, *args, **kwargs):
        self.meeting.wait()
        return super().ask(*args, **kwargs)


def test_questions_are_answered_concurrently(bundled):
    """Two questions meet inside `ask`; answered one at a time, the first would wait forever."""
    app, url = start_local(Overlapping(bundled, threading.Barrier(2, timeout=30)))
    try:
        clients = [Client(url, verbose=False) for _ in range(2)]
        jobs = [c.submit(NORWAY, api_name="/ask") for c in clients]
        answers = [json.loads(job.result(timeout=60)) for job in jobs]
        assert all("[1]" in a["answer"] for a in answers)
    finally:
        app.close()


# --- the corpus, over a tiny corpus of its own --------------------------------------------------

@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A one-document corpus with its index, served by its own app with a 10 KB upload limit."""
    root = tmp_path_factory.mktemp("small")
    (root / "corpus").mkdir()
    shutil.copy(BUNDLED_CORPUS / "who-observatory-policy-brief-62.txt", root / "corpus")
    (root / "corpus" / "sources.toml").write_text("# kept as written\n", encoding="utf-8")
    settings = Settings(corpus_dir=root / "corpus", index_root=root / "index", upload_mb=0.01)
    app, url = start_local(Assistant(settings))
    yield Client(url, verbose=False), settings, url
    app.close()


def shown(markup: str) -> str:
    """What a reader sees of some HTML: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def add(client: Client, paths: list, replace: bool = False, **meta) -> str:
    """Upload files through /add_files; the result as the page shows it."""
    files = [p if isinstance(p, dict) else handle_file(str(p)) for p in paths]
    fields = {key: meta.get(key, "") for key in ("title", "publisher", "date", "url")}
    return shown(client.predict(files, replace=replace, api_name="/add_files", **fields))


def test_upload_with_metadata_then_rebuild_cites_it(small, tmp_path):
    client, settings, _ = small
    new = tmp_path / "zorbland-compact.txt"
    new.write_text(f"Zorbland discharge rules\n\n{NEW_FACT}\n", encoding="utf-8")
    meta = {"title": "The Zorbland Care Compact", "publisher": "Zorbland Ministry of Care", "date": "2031-02",
            "url": "https://example.org/zorbland/compact"}
    log = add(client, [new], **meta)
    assert "Added zorbland-compact.txt." in log and "Rebuild the index" in log
    text = (settings.corpus_dir / "sources.toml").read_text(encoding="utf-8")
    entry = tomllib.loads(text)["zorbland-compact.txt"]
    assert text.startswith("# kept as written") and entry == {**meta, "added_by": "127.0.0.1", "added": entry["added"]}
    report = json.loads(client.predict(api_name="/rebuild"))
    assert report["added"] == ["zorbland-compact.txt"] and report["documents"] == 2
    answer = ask(client, ZORBLAND)
    assert "weekly hospital discharge dashboard" in answer["answer"]
    cited = answer["citations"][0]
    assert {k: cited[k] for k in meta} == meta


def test_metadata_that_cannot_be_used_is_refused_and_nothing_is_added(small, tmp_path):
    client, settings, _ = small
    new = tmp_path / "other.txt"
    new.write_text("Other care rules.\n", encoding="utf-8")
    log = add(client, [new], url="javascript:alert(1)")
    assert "Refused 'other.txt': the url must be a web address" in log
    assert not (settings.corpus_dir / "other.txt").exists()
    with pytest.raises(AppError, match="one file"):
        add(client, [new, new], title="Both")


def test_same_name_needs_replace(small, tmp_path):
    client, settings, _ = small
    new = tmp_path / "zorbland-compact.txt"
    new.write_text("Zorbland discharge rules, second edition.\n\nCouncils now publish monthly.\n", encoding="utf-8")
    log = add(client, [new])
    assert "already in the corpus" in log and "replace" in log
    assert "weekly" in (settings.corpus_dir / "zorbland-compact.txt").read_text(encoding="utf-8")
    assert "Added" in add(client, [new], replace=True)
    assert "monthly" in (settings.corpus_dir / "zorbland-compact.txt").read_text(encoding="utf-8")


def test_bad_uploads_are_refused_with_a_clear_message(small, tmp_path):
    client, settings, url = small
    before = sorted(p.name for p in settings.corpus_dir.iterdir())
    big = tmp_path / "big.txt"
    big.write_text("Care coordination. " * 1000, encoding="utf-8")
    exe = tmp_path / "tool.exe"
    exe.write_bytes(b"MZ binary")
    log = add(client, [big, exe])
    assert "Refused 'big.txt': file is 0.02 MB, over the 0.01 MB upload limit" in log
    assert "Refused 'tool.exe': '.exe' is not a supported type" in log
    # A browser could send any file name; post one the way a hostile page would. Gradio keeps
    # only the last path part, and careqa refuses what is left (it would refuse '..' too).
    uploaded = httpx.post(f"{url}gradio_api/upload", files={"files": ("../../etc/passwd", b"root:x:0:0")}).json()[0]
    log = add(client, [{"path": uploaded, "meta": {"_type": "gradio.FileData"}}])
    assert "Refused '" in log and "passwd'" in log
    assert sorted(p.name for p in settings.corpus_dir.iterdir()) == before


def test_original_file_is_served_by_document_id_only(small):
    _, settings, url = small
    name = "who-observatory-policy-brief-62"
    response = httpx.get(f"{url}careqa/original/{name}")
    assert response.status_code == 200
    assert response.content == (settings.corpus_dir / f"{name}.txt").read_bytes()
    assert response.headers["content-disposition"].startswith("attachment")
    assert response.headers["x-content-type-options"] == "nosniff"
    for bad in ("..%2F..%2Fetc%2Fpasswd", "../sources", "sources", "no-such-document", "%2Fetc%2Fpasswd"):
        assert httpx.get(f"{url}careqa/original/{bad}").status_code == 404, bad


def test_remove_then_rebuild_drops_the_document(small):
    client, settings, _ = small
    log = shown(client.predict("zorbland-compact.txt", api_name="/remove"))
    assert "Removed zorbland-compact.txt from the corpus folder" in log
    assert "zorbland-compact.txt" not in tomllib.loads((settings.corpus_dir / "sources.toml").read_text())
    report = json.loads(client.predict(api_name="/rebuild"))
    assert report["removed"] == ["zorbland-compact.txt"] and report["documents"] == 1
    assert "dashboard" not in ask(client, ZORBLAND)["answer"]


def test_serve_builds_a_missing_index_and_asks_for_a_password(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(BUNDLED_CORPUS / "who-observatory-policy-brief-62.txt", corpus)
    proc, url = start_process(["--corpus", str(corpus), "--index-dir", str(tmp_path / "index")],
                              {**os.environ, "CAREQA_AUTH": "analyst:secret"}, seconds=90)
    try:
        assert (tmp_path / "index" / "default" / "CURRENT").exists()
        assert httpx.get(f"{url}config", timeout=5).status_code == 401
        original = f"{url}careqa/original/who-observatory-policy-brief-62"
        assert httpx.get(original, timeout=5).status_code == 401
        client = Client(url, auth=("analyst", "secret"), verbose=False)
        assert "[1]" in json.loads(client.predict("What is integrated care?", api_name="/ask"))["answer"]
        assert httpx.get(original, cookies=client.cookies, timeout=5).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=20)
