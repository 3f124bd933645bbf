"""Adding and removing corpus files: names, sizes, types, overwrites and sources.toml."""
from __future__ import annotations

import tomllib

import pytest

from careqa.config import Settings
from careqa.corpus import (add_file, check_name, document_file, example_questions, folder_changes,
                           remove_document)
from careqa.errors import CareqaError

SOURCES = '''# notes at the top stay
["a.txt"]
title = "Document A"
date = "2020"

["b.txt"]
title = "Document B"  # a comment
publisher = "Somebody"
'''


@pytest.fixture
def settings(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Alpha policy text about care.\n", encoding="utf-8")
    (corpus / "b.txt").write_text("Beta policy text about care.\n", encoding="utf-8")
    (corpus / "sources.toml").write_text(SOURCES, encoding="utf-8")
    return Settings(corpus_dir=corpus, index_root=tmp_path / "index")


@pytest.fixture
def upload(tmp_path):
    path = tmp_path / "upload.bin"
    path.write_text("Integrated care brings health and social care together.\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("name, problem", [
    ("../../etc/passwd", "may not contain '..'"),
    ("/etc/passwd.txt", "absolute paths are not allowed"),
    ("C:report.txt", "absolute paths are not allowed"),
    ("sub/report.txt", "may not contain folders"),
    ("sub\\report.txt", "may not contain folders"),
    (".hidden.txt", "hidden files"),
    ("sources.toml", "reserved"),
    ("README.md", "reserved"),
    ("tool.exe", "'.exe' is not a supported type"),
    ("notes", "'no extension' is not a supported type"),
    ("", "empty name"),
])
def test_unsafe_or_unreadable_names_are_refused(name, problem):
    with pytest.raises(CareqaError, match=problem):
        check_name(name)


def test_add_copies_under_the_plain_name(settings, upload):
    target = add_file(settings, upload, "Care plan (2024).txt")
    assert target == settings.corpus_dir / "Care plan (2024).txt"
    assert target.read_bytes() == upload.read_bytes()
    assert sorted(p.name for p in settings.corpus_dir.iterdir()) == ["Care plan (2024).txt", "a.txt", "b.txt",
                                                                     "sources.toml"]


def test_add_never_overwrites_unless_asked(settings, upload):
    with pytest.raises(CareqaError, match="'a.txt': a file of that name is already in the corpus"):
        add_file(settings, upload, "a.txt")
    assert "Alpha" in (settings.corpus_dir / "a.txt").read_text(encoding="utf-8")
    add_file(settings, upload, "a.txt", replace=True)
    assert "Integrated care" in (settings.corpus_dir / "a.txt").read_text(encoding="utf-8")


def test_add_refuses_oversized_and_unreadable_files(settings, upload, tmp_path):
    with pytest.raises(CareqaError, match=r"'big.txt': file is 0.00 MB, over the 1e-05 MB upload limit"):
        add_file(settings, upload, "big.txt", max_mb=0.00001)
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n", encoding="utf-8")
    with pytest.raises(CareqaError, match="'empty.txt': file is empty"):
        add_file(settings, empty, "empty.txt")
    with pytest.raises(CareqaError, match="'fake.pdf': "):
        add_file(settings, upload, "fake.pdf")
    assert sorted(p.name for p in settings.corpus_dir.iterdir()) == ["a.txt", "b.txt", "sources.toml"]


def test_upload_limit_comes_from_the_environment(settings, upload, monkeypatch):
    monkeypatch.setenv("CAREQA_UPLOAD_MB", "0.00001")
    limited = Settings.from_env(corpus_dir=settings.corpus_dir, index_root=settings.index_root)
    with pytest.raises(CareqaError, match="upload limit"):
        add_file(limited, upload, "c.txt")


def test_remove_deletes_the_file_and_only_its_metadata(settings):
    remove_document(settings, "a.txt")
    assert not (settings.corpus_dir / "a.txt").exists()
    text = (settings.corpus_dir / "sources.toml").read_text(encoding="utf-8")
    assert tomllib.loads(text) == {"b.txt": {"title": "Document B", "publisher": "Somebody"}}
    assert text.startswith("# notes at the top stay") and "# a comment" in text


def test_remove_refuses_paths_outside_the_corpus(settings, tmp_path):
    (tmp_path / "outside.txt").write_text("keep me", encoding="utf-8")
    for path in ("../outside.txt", "sources.toml", "missing.txt"):
        with pytest.raises(CareqaError, match=path.replace(".", r"\.")):
            remove_document(settings, path)
    assert (tmp_path / "outside.txt").exists() and (settings.corpus_dir / "sources.toml").exists()


def test_folder_changes_lists_new_and_vanished_files(settings):
    assert folder_changes(settings, ["a.txt", "gone.txt"]) == (["b.txt"], ["gone.txt"])


def test_add_records_metadata_and_keeps_the_rest_of_sources_toml(settings, upload):
    meta = {"title": "Care plan 2024", "publisher": " Care  Board ", "date": "2024-05",
            "url": "https://example.org/plan"}
    add_file(settings, upload, "plan.txt", meta=meta, added_by="analyst")
    text = (settings.corpus_dir / "sources.toml").read_text(encoding="utf-8")
    assert text.startswith(SOURCES), "earlier entries and their comments stay as written"
    entry = tomllib.loads(text)["plan.txt"]
    assert entry == {**meta, "publisher": "Care Board", "added_by": "analyst", "added": entry["added"]}
    add_file(settings, upload, "plan.txt", replace=True, meta={"title": "Care plan, second edition"})
    entry = tomllib.loads((settings.corpus_dir / "sources.toml").read_text())["plan.txt"]
    assert entry == {"title": "Care plan, second edition", "added": entry["added"]}, "nothing of the old entry kept"


@pytest.mark.parametrize("meta, problem", [
    ({"url": "javascript:alert(1)"}, "the url must be a web address"),
    ({"url": "file:///etc/passwd"}, "the url must be a web address"),
    ({"title": "x" * 301}, "the title is 301 characters, over 300"),
    ({"date": "sometime in the long and winding middle of 2024"}, "the date is 47 characters, over 40"),
    ({"author": "Someone"}, "unknown metadata field 'author'"),
])
def test_unusable_metadata_is_refused_before_anything_is_written(settings, upload, meta, problem):
    with pytest.raises(CareqaError, match=f"refused 'plan.txt': {problem}"):
        add_file(settings, upload, "plan.txt", meta=meta)
    assert not (settings.corpus_dir / "plan.txt").exists()
    assert (settings.corpus_dir / "sources.toml").read_text(encoding="utf-8") == SOURCES


def test_invalid_sources_toml_is_never_overwritten(settings, upload):
    (settings.corpus_dir / "sources.toml").write_text("[broken\n", encoding="utf-8")
    with pytest.raises(CareqaError, match="not valid TOML"):
        add_file(settings, upload, "plan.txt", meta={"title": "Plan"})
    assert (settings.corpus_dir / "sources.toml").read_text(encoding="utf-8") == "[broken\n"
    assert not (settings.corpus_dir / "plan.txt").exists()


def test_document_file_stays_inside_the_corpus(settings, tmp_path):
    assert document_file(settings, "a.txt") == (settings.corpus_dir / "a.txt").resolve()
    (tmp_path / "secret.txt").write_text("host file", encoding="utf-8")
    (settings.corpus_dir / "link.txt").symlink_to(tmp_path / "secret.txt")
    for path in ("link.txt", "../secret.txt", "sources.toml", "/etc/passwd", "missing.txt"):
        with pytest.raises(CareqaError):
            document_file(settings, path)


def test_examples_come_from_sources_toml_one_document_at_a_time_then_question_headings(settings):
    (settings.corpus_dir / "sources.toml").write_text(
        '["a.txt"]\nexamples = ["A one?", "A two?"]\n["b.txt"]\nexamples = ["B one?"]\n', encoding="utf-8")
    headings = ["Background", "What is B?", "A one?"]
    assert example_questions(settings, headings, 3) == ["A one?", "B one?", "A two?"]
    assert example_questions(settings, headings, 5) == ["A one?", "B one?", "A two?", "What is B?"]
    (settings.corpus_dir / "sources.toml").unlink()
    assert example_questions(settings, headings, 3) == ["What is B?", "A one?"]
