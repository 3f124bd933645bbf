"""The `careqa` command: output contracts and one-line errors with a non-zero exit."""
import json
import os
import subprocess
import sys

import pytest

from careqa.cli import main

CONTRACT = {"n", "doc_id", "title", "section", "text", "start", "end", "score"}


def index_args(settings):
    return ["--corpus", str(settings.corpus_dir), "--index-dir", str(settings.index_root)]


def test_ask_prints_answer_and_numbered_sources(bundled, capsys):
    assert main(["ask", "What was the Esther project?", *index_args(bundled)]) == 0
    out = capsys.readouterr().out
    assert "hypothetical person" in out and "[1]" in out
    assert "Sources:" in out and "Scottish Parliament Information Centre" in out


def test_ask_json_has_the_contract_fields(bundled, capsys):
    assert main(["ask", "What is the 0-7-90-90 rule in Sweden?", "--json", *index_args(bundled)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["abstained"] is False and "90 days" in result["answer"]
    assert result["citations"] and all(CONTRACT <= set(c) for c in result["citations"])
    assert len(result["passages"]) == 5 and all(CONTRACT - {"n"} <= set(p) for p in result["passages"])
    doc = result["citations"][0]
    assert doc["end"] > doc["start"]


def test_jsonl_answers_one_object_per_line_in_order(bundled):
    lines = [{"id": "a", "question": "Why was Flanders divided into primary care zones?"},
             {"id": "b", "question": "What is the boiling point of water at sea level?"}]
    env = {**os.environ, "CAREQA_CORPUS": str(bundled.corpus_dir), "CAREQA_INDEX_DIR": str(bundled.index_root)}
    proc = subprocess.run([sys.executable, "-m", "careqa", "ask", "--jsonl", "-k", "6"], env=env,
                          input="".join(json.dumps(x) + "\n" for x in lines), capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a", "b"]
    assert out[0]["abstained"] is False and "2017" in out[0]["answer"]
    assert out[1]["abstained"] is True and len(out[1]["passages"]) == 6
    assert all(p["doc_id"] for o in out for p in o["passages"])


def test_a_relative_index_folder_is_read_from_where_careqa_runs(bundled, capsys, monkeypatch):
    """`CAREQA_INDEX_DIR=index careqa ask ...`, as the README's examples run it."""
    monkeypatch.chdir(bundled.index_root.parent)
    args = ["--corpus", str(bundled.corpus_dir), "--index-dir", bundled.index_root.name]
    assert main(["ask", "What was the Esther project?", *args]) == 0
    assert "hypothetical person" in capsys.readouterr().out


def test_missing_index_is_one_clear_line(tmp_path, capsys):
    code = main(["ask", "anything", "--index-dir", str(tmp_path / "nowhere")])
    err = capsys.readouterr().err.strip()
    assert code == 1
    assert err.count("\n") == 0 and "no index at" in err and "careqa index build" in err


def test_unknown_document_filter_is_a_clear_error(bundled, capsys):
    assert main(["ask", "What is integrated care?", "--doc", "nope", *index_args(bundled)]) == 1
    assert "no document named 'nope'" in capsys.readouterr().err


def test_eval_prints_figures_per_kind_and_overall(bundled, capsys, tmp_path):
    qs = tmp_path / "q.jsonl"
    rows = [{"id": "x", "kind": "definition", "question": "What was the Esther project?", "answerable": True,
             "evidence": [{"doc": "spice-integration-health-social-care-2012",
                           "quote": "established the \u201cEsther project\u201d which represented a hypothetical person"}],
             "facts": [["hypothetical person"]]},
            {"id": "y", "kind": "unanswerable", "question": "What is the boiling point of water at sea level?",
             "answerable": False, "evidence": [], "facts": []}]
    qs.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["eval", str(qs), *index_args(bundled)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    header = lines[0].split()
    table = {line.split()[0]: dict(zip(header, line.split())) for line in lines[1:-1]}
    assert set(table) == {"definition", "unanswerable", "all"}
    assert table["definition"]["recall@5"] == "1.000" and table["definition"]["facts"] == "1.000"
    assert table["unanswerable"]["abst_unanswerable"] == "1.000" and table["all"]["questions"] == "2"


def test_bad_question_file_names_the_line(tmp_path, capsys):
    qs = tmp_path / "q.jsonl"
    qs.write_text('{"id": 1}\n')
    assert main(["eval", str(qs)]) == 1
    assert f"{qs}:1:" in capsys.readouterr().err
