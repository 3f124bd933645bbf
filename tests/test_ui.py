"""The real app on a free port, driven through gradio_client as a user's browser would."""
from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from gradio_client import Client

from careqa_ui.app import free_port, start_local
from conftest import BUNDLED_CORPUS

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:gradio.queueing")

NORWAY = "How does Norway incentivise discharge coordination?"
NEW_FACT = ("The Zorbland Care Compact requires every council to publish a weekly hospital discharge "
            "dashboard. Councils that miss two dashboards lose their integration grant.")


def message_text(message: dict) -> str:
    content = message["content"]
    if isinstance(content, list):
        content = " ".join(part.get("text", "") for part in content)
    return content


def plain(markup: str) -> str:
    """What a reader sees of the message: tags and bold markers gone, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", markup).replace("**", ""))


def cards(sources_html: str) -> list[tuple[str, str, str]]:
    """(link target, title, meta line) of each source card, in order."""
    return re.findall(r'<a class="card[^"]*" href="#cite-([^"]+)">.*?<span class="title">(.*?)</span>'
                      r'<span class="meta">(.*?)</span>', sources_html)


def ask(client: Client, question: str, docs=(), section: str = "", k: int = 5):
    _, chat, sources, passages, _ = client.predict(question, list(docs), section, k, api_name="/ask")
    return message_text(chat[-1]), sources, passages


@pytest.fixture(scope="module")
def client(bundled_app):
    return Client(bundled_app, verbose=False)


def test_answer_and_sources_match_the_library(client, assistant):
    expected = assistant.ask(NORWAY).to_dict()
    message, sources, passages = ask(client, NORWAY)
    answer_part, filters_part = plain(message).split("\n\n")[-2:]
    assert answer_part == expected["answer"]
    assert "Searched all documents · k = 5" in filters_part
    shown = cards(sources)
    assert [ref for ref, _, _ in shown] == [f"0-c-{c['n']}" for c in expected["citations"]]
    for (_, title, meta), c in zip(shown, expected["citations"]):
        assert html.unescape(title) == c["title"]
        assert c["publisher"] in html.unescape(meta) and c["date"] in meta
    assert len(re.findall(r"<tr>", passages)) == len(expected["passages"]) + 1


def test_filters_apply_and_show_in_the_answer(client):
    message, sources, _ = ask(client, NORWAY, section="Denmark", k=3)
    assert "section contains “Denmark” · k = 3" in plain(message)
    assert shown if (shown := cards(sources)) else False
    assert all(meta.startswith("Denmark") for _, _, meta in shown)
    doc = "nuffield-trust-integrated-care-explained"
    message, sources, _ = ask(client, "What is integrated care?", docs=[doc])
    assert "only Integrated care explained" in plain(message)
    assert {html.unescape(t) for _, t, _ in cards(sources)} == {"Integrated care explained"}


def test_abstention_offers_the_closest_passages(client):
    message, sources, _ = ask(client, "What does the Martian health ministry say about discharge?")
    assert plain(message).startswith("The documents do not cover this.")
    assert "Closest passages" in sources and len(cards(sources)) == 5


# --- corpus management over a tiny corpus of its own -----------------------------------------

@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A one-document corpus with its index, served by its own app with a 10 KB upload limit."""
    from careqa.assistant import Assistant
    from careqa.config import Settings

    root = tmp_path_factory.mktemp("small")
    (root / "corpus").mkdir()
    shutil.copy(BUNDLED_CORPUS / "who-observatory-policy-brief-62.txt", root / "corpus")
    settings = Settings(corpus_dir=root / "corpus", index_root=root / "index", upload_mb=0.01)
    app, url = start_local(Assistant(settings))
    yield Client(url, verbose=False), settings, url
    app.close()


def add(client: Client, paths: list, replace: bool = False) -> str:
    from gradio_client import handle_file

    files = [p if isinstance(p, dict) else handle_file(str(p)) for p in paths]
    return client.predict(files, replace, api_name="/add_files")[0]


def test_upload_then_rebuild_makes_a_document_answerable(small, tmp_path):
    client, settings, _ = small
    new = tmp_path / "zorbland-compact.txt"
    new.write_text(f"Zorbland discharge rules\n\n{NEW_FACT}\n", encoding="utf-8")
    log = add(client, [new])
    assert "Added `zorbland-compact.txt`" in log and "Rebuild the index" in log
    assert (settings.corpus_dir / "zorbland-compact.txt").read_text(encoding="utf-8") == new.read_text(encoding="utf-8")
    summary, corpus_md, *_ = client.predict(api_name="/rebuild")
    assert "Index rebuilt" in summary and "1 added" in summary and "zorbland-compact.txt" in summary
    assert "2 documents" in corpus_md
    message, sources, _ = ask(client, "What does the Zorbland Care Compact require councils to publish?")
    assert "weekly hospital discharge dashboard" in plain(message)
    assert "Zorbland" in cards(sources)[0][1]


def test_same_name_needs_replace(small, tmp_path):
    client, settings, _ = small
    new = tmp_path / "zorbland-compact.txt"
    new.write_text("Zorbland discharge rules, second edition.\n\nCouncils now publish monthly.\n", encoding="utf-8")
    log = plain(add(client, [new]))
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
    log = plain(add(client, [big, exe]))
    assert "Refused 'big.txt': file is 0.02 MB, over the 0.01 MB upload limit" in log
    assert "Refused 'tool.exe': '.exe' is not a supported type" in log
    # A browser could send any file name; post one the way a hostile page would. Gradio keeps
    # only the last path part, and careqa refuses what is left (it would refuse '..' too).
    uploaded = httpx.post(f"{url}gradio_api/upload", files={"files": ("../../etc/passwd", b"root:x:0:0")}).json()[0]
    log = plain(add(client, [{"path": uploaded, "meta": {"_type": "gradio.FileData"}}]))
    assert re.search(r"Refused '[^']*passwd': (file names may not contain '..'|'no extension' is not a supported)", log)
    assert sorted(p.name for p in settings.corpus_dir.iterdir()) == before
    assert not (settings.corpus_dir.parent.parent / "etc").exists()


def test_remove_then_rebuild_drops_the_document(small):
    client, settings, _ = small
    log, corpus_md, *_ = client.predict("zorbland-compact.txt", api_name="/remove")
    assert "Removed `zorbland-compact.txt`" in log and "Removed from the folder but still indexed" in corpus_md
    summary, corpus_md, *_ = client.predict(api_name="/rebuild")
    assert "1 removed" in summary and "1 documents" in corpus_md
    message, _, _ = ask(client, "What does the Zorbland Care Compact require councils to publish?")
    assert "dashboard" not in plain(message)


def test_serve_builds_a_missing_index_and_asks_for_a_password(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(BUNDLED_CORPUS / "who-observatory-policy-brief-62.txt", corpus)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "careqa", "serve", "--corpus", str(corpus), "--index-dir",
                             str(tmp_path / "index"), "--port", str(port)],
                            env={**__import__("os").environ, "CAREQA_AUTH": "analyst:secret"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                if httpx.get(url, timeout=2).status_code:
                    break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read()
                time.sleep(0.5)
        assert (tmp_path / "index" / "default" / "CURRENT").exists()
        assert httpx.get(f"{url}config", timeout=5).status_code == 401
        client = Client(url, auth=("analyst", "secret"), verbose=False)
        _, chat, *_ = client.predict("What is integrated care?", [], "", 5, api_name="/ask")
        assert "[1]" in plain(message_text(chat[-1]))
    finally:
        proc.terminate()
        proc.wait(timeout=20)
