"""Hostile and careless input through the library and the `careqa` command: links out of the
corpus, names and text that would act on a terminal, batches with bad lines, questions that are
not questions, files too large to embed, cancelled builds. These tests are about what reaches the
user, not answer quality: they use the deterministic `hash:64` embedder, so no model is loaded.
"""
from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from careqa.assistant import Assistant
from careqa.cli import main
from careqa.config import Settings
from careqa.errors import BuildCancelled, CareqaError

CARERS = ("Aldermoor council pays unpaid carers a weekly allowance of 40 pounds.\n\n"
          "The allowance is reviewed every April by the county care board.\n")
SECRET = "The host secret is Zanzibar-42 and it lives outside the corpus.\n"


@pytest.fixture
def corpus(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "carers.txt").write_text(CARERS, encoding="utf-8")
    monkeypatch.setenv("CAREQA_MODEL", "hash:64")
    return folder


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


# --- what is read ------------------------------------------------------------------------------

def test_links_out_of_the_corpus_are_named_in_the_report_and_never_read(corpus, tmp_path, capsys):
    host = tmp_path / "host"
    host.mkdir()
    (host / "secret.txt").write_text(SECRET, encoding="utf-8")
    (corpus / "evil.txt").symlink_to(host / "secret.txt")
    (corpus / "passwd.txt").symlink_to("/etc/passwd")
    (corpus / "broken.txt").symlink_to(tmp_path / "nowhere.txt")
    (corpus / "linked").symlink_to(host)
    code, out, _ = run(capsys, "index", "build")
    assert code == 3
    assert out.splitlines()[1:] == [
        "skipped broken.txt: a broken link (what it points to does not exist); not read",
        "skipped evil.txt: a link to something outside the corpus folder; not read",
        "skipped linked: a link to something outside the corpus folder; not read",
        "skipped passwd.txt: a link to something outside the corpus folder; not read"]
    code, out, _ = run(capsys, "ask", "What is the host secret and where does root live?", "--json")
    answer = json.loads(out)
    assert {p["doc_id"] for p in answer["passages"]} == {"carers"}
    assert "Zanzibar" not in out and "root:" not in out
    assert "Zanzibar" not in run(capsys, "ask", "What is the host secret?")[1]


def test_a_file_name_holding_a_newline_stays_on_its_own_report_line(corpus, capsys):
    (corpus / "notes\nskipped carers.txt: forged.xyz").write_bytes(b"an unknown format")
    code, out, _ = run(capsys, "index", "build")
    assert code == 3
    assert out.splitlines()[1:] == ["skipped notes\\nskipped carers.txt: forged.xyz: unsupported file type "
                                    "'.xyz' (careqa reads .txt, .md, .html, .htm, .pdf, .docx)"]


def test_control_characters_leave_the_text_and_offsets_still_point_into_the_raw_file(corpus):
    from careqa.clean import clean_text
    from careqa.load import load_corpus

    raw = ("Title line\n\nThe \x1b]0;owned\x07carers \x1b[31mallowance\x1b[0m is 40\x00 pounds.\x0c"
           "Page two starts\x9b2J here.\n")
    cleaned = clean_text(raw)
    assert cleaned.text == "Title line\n\nThe carers allowance is 40 pounds.\nPage two starts2J here.\n"
    for word in ("carers", "allowance", "pounds.", "Page two", "here."):
        at = cleaned.text.index(word)
        assert raw[cleaned.raw_offset(at):].startswith(word), word
    (corpus / "page.html").write_text("<html><body><h1>\x1b[1mEastland\x1b[0m</h1><p>Eastland\x07 pays "
                                      "councils a bonus.</p></body></html>", encoding="utf-8")
    doc = next(d for d in load_corpus(Settings.from_env(corpus_dir=corpus)).documents if d.doc_id == "page")
    assert doc.text == "Eastland\n\nEastland pays councils a bonus."
    assert [(h.title, doc.text[h.start:h.end]) for h in doc.headings] == [("Eastland", "Eastland")]


def test_escape_sequences_in_an_index_never_reach_the_terminal(tmp_path, capsys):
    """An index built by an older careqa may hold escapes; what `careqa ask` prints holds none."""
    from careqa.index import build_from_documents
    from careqa.load import Document

    text = ("Aldermoor \x1b]0;owned\x07council pays carers \x1b[2J\x1b[31m40 pounds\x1b[0m a week.\n\n"
            "It is \x9b2Jpaid \x07by the county council to unpaid carers.\n")
    doc = Document("carers", "carers.txt", "Carers \x1b]8;;http://evil\x07allowance", text, [], "0" * 64,
                   publisher="County\x1b[5m board")
    settings = Settings(corpus_dir=tmp_path / "corpus", index_root=tmp_path / "index", model="hash:64")
    build_from_documents(settings, [doc])
    argv = ["--corpus", str(settings.corpus_dir), "--index-dir", str(settings.index_root)]
    for extra in ([], ["--format", "md"], ["--json"]):
        code, out, _ = run(capsys, "ask", "What does Aldermoor council pay carers a week?", *argv, *extra)
        assert code == 0 and "40 pounds" in out
        assert not any(c in out for c in "\x1b\x07\x9b"), extra
    assert json.loads(out)["citations"][0]["title"] == "Carers \x1b]8;;http://evil\x07allowance", \
        "JSON keeps the data, escaped"


# --- what is asked -----------------------------------------------------------------------------

def test_jsonl_answers_every_good_line_and_puts_an_error_object_in_place_of_each_bad_one(corpus, capsys,
                                                                                         monkeypatch):
    assert run(capsys, "index", "build")[0] == 0
    lines = [json.dumps({"id": "a", "question": "How much is the carers allowance?"}),
             '{"id": "b", "question": "unterminated',
             json.dumps({"id": "c", "question": 42}),
             json.dumps({"id": "d", "question": "x" * 2001}),
             json.dumps({"id": "e", "question": "?"}),
             json.dumps({"id": "f", "question": "When is the allowance reviewed?"})]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("\n".join(lines).encode() + b"\n")))
    code, out, err = run(capsys, "ask", "--jsonl")
    got = [json.loads(line) for line in out.splitlines()]
    assert code == 3 and err == "careqa: 4 of 6 lines could not be answered (an error object stands in for each)\n"
    assert [g["id"] for g in got] == ["a", 2, "c", "d", "e", "f"]
    assert "40 pounds" in got[0]["answer"] and "April" in got[5]["answer"]
    assert got[1]["id"] == 2 and got[1]["error"].startswith("line 2: not valid JSON (")
    assert got[2] == {"id": "c", "error": 'line 3: "question" must be a string (got 42)'}
    assert got[3]["error"].startswith("line 4: the question is 2,001 characters long, over the 2,000-character limit")
    assert got[4] == {"id": "e", "error": "line 5: the question has no words in it ('?'); ask about something "
                                          "the documents cover"}


@pytest.mark.parametrize("question", ["?", "...", "\U0001f914", "  ?!  "])
def test_a_question_with_no_word_in_it_is_refused_in_one_line(corpus, capsys, question):
    assert run(capsys, "index", "build")[0] == 0
    code, out, err = run(capsys, "ask", question)
    assert code == 1 and out == "" and err.count("\n") == 1
    assert err.startswith("careqa: error: the question has no words in it")


def test_a_question_over_the_length_limit_is_one_line_naming_the_setting(corpus, capsys, monkeypatch):
    assert run(capsys, "index", "build")[0] == 0
    monkeypatch.setenv("CAREQA_MAX_QUESTION_CHARS", "100")
    code, _, err = run(capsys, "ask", "carers " * 20)
    assert code == 1 and err == ("careqa: error: the question is 140 characters long, over the 100-character "
                                 "limit (CAREQA_MAX_QUESTION_CHARS); ask it in fewer words\n")
    with pytest.raises(CareqaError, match="^the earlier question is 1,000 characters long, over the 100-character"):
        Assistant().ask("How is it reviewed?", history=["carers? " * 125])


# --- what is built -----------------------------------------------------------------------------

def test_a_file_over_the_passage_budget_is_skipped_with_its_estimate(corpus, capsys, monkeypatch, tmp_path):
    from careqa.corpus import add_file

    (corpus / "big.txt").write_text("A sentence about carers and councils in the long report. " * 700,
                                    encoding="utf-8")
    monkeypatch.setenv("CAREQA_PASSAGE_BUDGET", "5")
    code, out, err = run(capsys, "index", "build")
    assert code == 3
    assert re.fullmatch(r"skipped big.txt: needs about 40 passages \(about \d+ s to embed\), over the "
                        r"5-passage budget \(CAREQA_PASSAGE_BUDGET\)", out.splitlines()[1])
    assert "passages and" in err and "to embed: about" in err, "the estimate is said before embedding"
    upload = tmp_path / "upload.txt"
    upload.write_text((corpus / "big.txt").read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(CareqaError, match="refused 'report.txt': needs about 40 passages"):
        add_file(Settings.from_env(), upload, "report.txt")
    assert not (corpus / "report.txt").exists()


def test_a_full_build_says_it_embedded_everything_again(corpus, capsys):
    assert run(capsys, "index", "build")[0] == 0
    code, out, _ = run(capsys, "index", "build")
    assert out.startswith("0 added, 0 changed, 0 removed, 0 unchanged, 1 re-embedded; 1 chunks embedded")
    assert run(capsys, "index", "update")[1].startswith("0 added, 0 changed, 0 removed, 1 unchanged; 0 chunks")


def test_a_cancelled_update_writes_nothing_and_the_previous_version_serves(corpus):
    (corpus / "more.txt").write_text("Respite breaks give unpaid carers two weeks a year.\n", encoding="utf-8")
    assistant = Assistant()
    assistant.build()
    before = assistant.store.current()
    (corpus / "new.txt").write_text("Eastland pays councils a bonus for home care.\n", encoding="utf-8")
    stages = []

    def cancel_while_embedding(stage: str, done: int, total: int) -> None:
        stages.append(stage)
        if stage == "embedding passages":
            raise BuildCancelled("cancelled by the test")

    with pytest.raises(BuildCancelled):
        assistant.update(cancel_while_embedding)
    assert assistant.store.current() == before and "writing index" not in stages
    assert not list(assistant.settings.index_dir.glob("tmp-*"))
    assert "new" not in {d.doc_id for d in assistant.documents()}
    assert "40 pounds" in assistant.ask("How much is the carers allowance?").text
    assert assistant.update().added == ["new.txt"]


# --- what is added -----------------------------------------------------------------------------

def test_a_replaced_document_keeps_none_of_the_old_ones_metadata(corpus, tmp_path):
    (corpus / "sources.toml").write_text('["carers.txt"]\ntitle = "Trusted report"\npublisher = "Old Publisher"\n',
                                         encoding="utf-8")
    assistant = Assistant()
    assistant.build()
    assert {p.publisher for p in assistant.ask("How much is the carers allowance?").passages} == {"Old Publisher"}
    upload = tmp_path / "carers.txt"
    upload.write_text("Aldermoor now pays carers nothing at all, says this anonymous note.\n", encoding="utf-8")
    assistant.add_file(upload, "carers.txt", replace=True, added_by="analyst")
    assistant.update()
    answer = assistant.ask("How much does Aldermoor pay carers?")
    assert {(p.title, p.publisher) for p in answer.passages} == {("Carers", "")}
    who, when = assistant.provenance()["carers.txt"]
    assert who == "analyst" and when.startswith(time.strftime("%Y-"))


def test_the_parser_worker_ends_soon_after_an_upload_is_read(corpus, tmp_path, monkeypatch):
    from careqa import isolate

    monkeypatch.setattr(isolate, "IDLE_SECONDS", 0.5)
    page = tmp_path / "page.html"
    page.write_text("<html><body><p>Westland funds carers' breaks.</p></body></html>", encoding="utf-8")
    Assistant().add_file(page, "page.html")
    assert workers(), "the upload was parsed in a worker"
    deadline = time.monotonic() + 10
    while workers() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert workers() == []


def workers() -> list[int]:
    """Process ids of parser workers started by this process."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            stat = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            cmd = (proc / "cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        if int(stat[1]) == os.getpid() and b"careqa.isolate" in cmd and stat[0] != "Z":
            found.append(int(proc.name))
    return found


def test_the_installed_command_strips_escapes_from_an_error_line(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "careqa", "ask", "anything", "--index-dir",
                           str(tmp_path / "no\x1b]0;owned\x07where")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1
    assert "\x1b" not in proc.stderr and "no\\x1b]0;owned\\x07where" in proc.stderr
