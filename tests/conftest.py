"""Shared fixtures: every path points into tmp folders; one real index is built per session."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUNDLED_CORPUS = ROOT / "corpus"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("CAREQA_QUIET", "1")


@pytest.fixture(scope="session", autouse=True)
def model_cache(tmp_path_factory):
    """One cache folder per test session: the model's ONNX export is made once, not in ~/.cache."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CAREQA_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture(autouse=True)
def isolated_paths(tmp_path, monkeypatch):
    """No test reads or writes the project's own corpus/ or index/ by accident."""
    monkeypatch.setenv("CAREQA_CORPUS", str(tmp_path / "corpus"))
    monkeypatch.setenv("CAREQA_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.delenv("CAREQA_INDEX", raising=False)
    monkeypatch.delenv("CAREQA_MODEL", raising=False)


@pytest.fixture(scope="session")
def bundled(tmp_path_factory):
    """Settings of an index of the bundled corpus, built once with the real model (~20 s)."""
    from careqa.config import Settings
    from careqa.index import build_index

    root = tmp_path_factory.mktemp("bundled")
    shutil.copytree(BUNDLED_CORPUS, root / "corpus")
    settings = Settings.from_env(corpus_dir=root / "corpus", index_root=root / "index")
    build_index(settings)
    return settings


@pytest.fixture(scope="session")
def assistant(bundled):
    from careqa.assistant import Assistant

    return Assistant(bundled)


@pytest.fixture(scope="session")
def bundled_app(assistant):
    """URL of the real Gradio app over the bundled index, served on a free local port."""
    from careqa_ui.app import start_local

    app, url = start_local(assistant)
    yield url
    app.close()
