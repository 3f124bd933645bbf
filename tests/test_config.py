"""Settings: every CAREQA_* value is checked, and a bad one is one line naming the variable."""
import subprocess
import sys
from dataclasses import fields

import pytest

from careqa.cli import main
from careqa.config import Settings

NUMBERS = [f.metadata["env"] for f in fields(Settings) if f.type in ("int", "float")]


def test_every_number_setting_is_covered():
    assert {"CAREQA_K", "CAREQA_MAX_FILE_MB", "CAREQA_UPLOAD_MB", "CAREQA_FUSION_WEIGHT",
            "CAREQA_PARSE_SECONDS", "CAREQA_PARSE_MEMORY_MB"} <= set(NUMBERS)


@pytest.mark.parametrize("variable", NUMBERS)
@pytest.mark.parametrize("value", ["x", "-1", "nan"])
def test_a_bad_number_is_one_line_naming_the_variable(variable, value, monkeypatch, capsys):
    monkeypatch.setenv(variable, value)
    assert main(["index", "status"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"careqa: error: {variable} must be ") and repr(value) in err


def test_the_installed_command_gives_the_same_line(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "careqa", "index", "status"], capture_output=True, text=True,
                          env={"CAREQA_K": "x", "PATH": "/usr/bin:/bin"}, cwd=tmp_path, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr == "careqa: error: CAREQA_K must be a whole number from 1 to 100 (got 'x')\n"


def test_a_bad_choice_names_the_options(monkeypatch, capsys):
    monkeypatch.setenv("CAREQA_FUSION", "magic")
    assert main(["ask", "anything"]) == 1
    assert "CAREQA_FUSION must be one of weighted, rrf, dense, bm25 (got 'magic')" in capsys.readouterr().err


def test_options_are_checked_like_variables(capsys):
    assert main(["ask", "anything", "-k", "0"]) == 1
    assert "-k must be a whole number from 1 to 100 (got '0')" in capsys.readouterr().err


def test_environment_then_overrides(monkeypatch, tmp_path):
    monkeypatch.setenv("CAREQA_K", "7")
    monkeypatch.setenv("CAREQA_FUSION_WEIGHT", "0.25")
    s = Settings.from_env(corpus_dir=str(tmp_path), k=None)
    assert (s.k, s.fusion_weight, s.corpus_dir) == (7, 0.25, tmp_path)
    assert Settings.from_env(k="3").k == 3
