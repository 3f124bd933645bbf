"""The app under hostile and careless use, as clients see it: a question the size of a document,
floods of uploads from one address and from two, guessed passwords, a file handed over as a web
address, serving beyond this machine without a login, a bundled document replaced by an upload."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import tomllib

import httpx
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from careqa.assistant import Assistant
from careqa.cli import main
from careqa.config import Settings
from careqa_ui.app import start_local, start_process
from conftest import BUNDLED_CORPUS

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:gradio.queueing")

NORWAY = "How does Norway incentivise discharge coordination?"
COMMONWEALTH = "commonwealth-fund-care-coordination.txt"
ACCOUNT = ("analyst", "correct horse battery staple")
FILE_BYTES = 8000  # each flood upload: three fit a client's 0.03 MB, five the server's 0.04 MB


def test_a_huge_question_gets_the_one_line_error_at_once_while_another_is_answered(bundled_app, bundled, capsys):
    huge = "Why " + "so " * (1 << 19)  # about 1 MB
    assert main(["ask", huge, "--corpus", str(bundled.corpus_dir), "--index-dir", str(bundled.index_root)]) == 1
    cli_line = capsys.readouterr().err
    clients = [Client(bundled_app, verbose=False, ssl_verify=False) for _ in range(2)]
    refused = clients[0].submit(huge, api_name="/ask")
    answered = clients[1].submit(NORWAY, api_name="/ask")
    with pytest.raises(AppError) as error:
        refused.result(timeout=60)
    assert cli_line == f"careqa: error: {error.value}\n"
    assert "characters long, over the 2,000-character limit (CAREQA_MAX_QUESTION_CHARS)" in cli_line
    assert "fined per day" in json.loads(answered.result(timeout=60))["answer"]
    with pytest.raises(AppError, match="the question has no words in it"):
        clients[0].predict("?!", api_name="/ask")


def test_a_replaced_bundled_document_is_never_cited_under_the_old_publisher(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(BUNDLED_CORPUS / COMMONWEALTH, corpus)
    shutil.copy(BUNDLED_CORPUS / "sources.toml", corpus)
    app, url = start_local(Assistant(Settings(corpus_dir=corpus, index_root=tmp_path / "index", model="hash:64")))
    try:
        client = Client(url, verbose=False, ssl_verify=False)
        question = "Which country fines municipalities for delayed hospital discharge?"
        assert {p["publisher"] for p in json.loads(client.predict(question, api_name="/ask"))["passages"]} == \
            {"The Commonwealth Fund"}
        forged = tmp_path / COMMONWEALTH
        forged.write_text("Norway abolished all fines for delayed discharge, says this unsigned note.\n",
                          encoding="utf-8")
        log = client.predict([handle_file(str(forged))], "", "", "", "", True, api_name="/add_files")
        assert "Added" in log
        assert json.loads(client.predict(api_name="/rebuild"))["changed"] == [COMMONWEALTH]
        passages = json.loads(client.predict(question, api_name="/ask"))["passages"]
        assert passages and {(p["title"], p["publisher"]) for p in passages} == \
            {("Commonwealth fund care coordination", "")}
        entry = tomllib.loads((corpus / "sources.toml").read_text(encoding="utf-8"))[COMMONWEALTH]
        assert set(entry) == {"added_by", "added"} and entry["added_by"] == "127.0.0.1"
    finally:
        app.close()


# --- one real `careqa serve`, with a login and small upload caps ------------------------------

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("served")
    (root / "corpus").mkdir()
    shutil.copy(BUNDLED_CORPUS / "who-observatory-policy-brief-62.txt", root / "corpus")
    accounts = root / "accounts"
    accounts.write_text(f"# who may log in\n{':'.join(ACCOUNT)}\n", encoding="utf-8")
    accounts.chmod(0o600)
    env = {k: v for k, v in os.environ.items() if k != "CAREQA_AUTH"}
    env.update(CAREQA_MODEL="hash:64", CAREQA_UPLOAD_MB="0.01", CAREQA_UPLOAD_PENDING_MB="0.03",
               CAREQA_UPLOAD_CACHE_MB="0.04", GRADIO_TEMP_DIR=str(root / "uploads"))
    proc, url = start_process(["--corpus", str(root / "corpus"), "--index-dir", str(root / "index"),
                               "--auth-file", str(accounts)], env)
    yield url, root, proc
    proc.terminate()
    proc.wait(timeout=30)


def from_address(address: str) -> httpx.Client:
    """An HTTP client whose connections come from `address` (any 127.x.y.z reaches the server)."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=60)


def log_in(client: httpx.Client, url: str, password: str) -> tuple[int, float]:
    began = time.perf_counter()
    status = client.post(f"{url}login", data={"username": ACCOUNT[0], "password": password}).status_code
    return status, time.perf_counter() - began


def upload(client: httpx.Client, url: str, n: int) -> httpx.Response:
    return client.post(f"{url}gradio_api/upload", files={"files": (f"flood-{n}.txt", b"care " * (FILE_BYTES // 5))})


def cache_bytes(folder) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def test_the_password_comes_from_a_file_and_never_shows_in_ps(server):
    _, _, proc = server
    cmdline = open(f"/proc/{proc.pid}/cmdline", "rb").read()
    assert b"--auth-file" in cmdline and ACCOUNT[1].encode() not in cmdline


def test_an_added_upload_leaves_the_cache_at_once(server, tmp_path):
    url, root, _ = server
    client = Client(url, auth=ACCOUNT, verbose=False, ssl_verify=False)
    new = tmp_path / "westland.txt"
    new.write_text("Westland pays carers a respite grant of 300 pounds a year.\n", encoding="utf-8")
    assert "Added <code>westland.txt</code>." in client.predict([handle_file(str(new))], "", "", "", "", False,
                                                                api_name="/add_files")
    assert not [p for p in (root / "uploads").rglob("westland.txt")]
    assert (root / "corpus" / "westland.txt").exists()


def test_the_sixth_wrong_password_in_a_row_is_slower_than_the_first(server):
    url, _, _ = server
    with from_address("127.0.0.3") as guesser:
        tries = [log_in(guesser, url, f"guess {n}") for n in range(6)]
        assert [status for status, _ in tries] == [400] * 6
        assert tries[5][1] > tries[0][1] + 0.8, [round(t, 2) for _, t in tries]
    with from_address("127.0.0.4") as someone_else:
        status, seconds = log_in(someone_else, url, ACCOUNT[1])
        assert status == 200 and seconds < tries[5][1], "other addresses are not slowed"


def test_a_flood_of_uploads_stays_under_the_caps(server):
    url, root, _ = server
    with from_address("127.0.0.1") as first, from_address("127.0.0.2") as second:
        for client in (first, second):
            assert log_in(client, url, ACCOUNT[1])[0] == 200
        flood = [upload(first, url, n) for n in range(20)]
        assert [r.status_code for r in flood] == [200] * 3 + [429] * 17
        assert "over the 0.03 MB one user may have waiting (CAREQA_UPLOAD_PENDING_MB)" in flood[-1].text
        other = [upload(second, url, 100 + n) for n in range(5)]
        assert [r.status_code for r in other] == [200, 200, 507, 507, 507]
        assert "the server's space for uploads is full (0.04 MB, CAREQA_UPLOAD_CACHE_MB)" in other[-1].text
    assert cache_bytes(root / "uploads") <= 0.04 * (1 << 20)


def test_a_file_given_as_a_web_address_is_refused(server):
    url, _, _ = server
    with from_address("127.0.0.5") as client:
        assert log_in(client, url, ACCOUNT[1])[0] == 200
        body = {"data": [[{"path": "https://example.org/report.txt", "meta": {"_type": "gradio.FileData"}}],
                         "", "", "", "", False], "fn_index": 0, "session_hash": "h4rden"}
        response = client.post(f"{url}gradio_api/queue/join", json=body)
        assert response.status_code == 400 and "never a web address to fetch" in response.text


def test_serving_beyond_this_machine_needs_a_login_or_insecure_public(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "CAREQA_AUTH"}
    proc = subprocess.run([sys.executable, "-m", "careqa", "serve", "--host", "0.0.0.0", "--corpus",
                           str(tmp_path / "none")], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("careqa: error: refusing to serve on 0.0.0.0 without a login")
    assert "--insecure-public" in proc.stderr


def test_where_accounts_come_from_and_what_is_said_about_them(tmp_path):
    from careqa.access import accounts, check_exposure
    from careqa.errors import CareqaError

    shared = tmp_path / "accounts"
    shared.write_text("a:1\n\n# comment\nb:2\n", encoding="utf-8")
    shared.chmod(0o644)
    found, warnings = accounts(None, str(shared), "env:ignored")
    assert found == [("a", "1"), ("b", "2")] and "can be read by other users" in warnings[0]
    assert accounts("u:p", None, None)[1][0].startswith("a password given with --auth shows in `ps`")
    assert accounts(None, None, "u:p") == ([("u", "p")], [])
    with pytest.raises(CareqaError, match="CAREQA_AUTH must look like user:password"):
        accounts(None, None, "nopassword")
    assert check_exposure("127.0.0.1", False, False) == "" and check_exposure("localhost", False, False) == ""
    assert check_exposure("0.0.0.0", True, False) == ""
    assert "anyone who can reach this port" in check_exposure("0.0.0.0", False, True)
