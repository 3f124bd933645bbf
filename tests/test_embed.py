"""Questions are embedded by ONNX Runtime from a local export of the bundled model: the same
vectors as the torch model, and a question path that imports neither torch nor ingest code."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
QUESTION_FILES = [ROOT.parent / "shared" / "eval" / "questions.jsonl", *sorted((ROOT / "benchmarks" / "questions").glob("*.jsonl"))]
ODD_TEXTS = ["a", "Norway\u2019s caf\u00e9 \u2014 \u00fc \u4e2d\u6587", "word " * 400]  # one token, accents, over 256 tokens


def questions() -> list[str]:
    found = [json.loads(line)["question"] for path in QUESTION_FILES if path.exists()
             for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(found) > 150
    return found


def test_onnx_vectors_match_the_torch_model_on_every_question(bundled):
    from careqa.embed import OnnxEmbedder, get_embedder, get_query_embedder

    fast = get_query_embedder(bundled.model, bundled.cache_dir)
    assert isinstance(fast, OnnxEmbedder), "the first index build made the export"
    texts = questions() + ODD_TEXTS
    torch_vectors = get_embedder(bundled.model).encode(texts)
    for batch in (1, 16):
        onnx_vectors = fast.encode(texts, batch_size=batch)
        cosine = (torch_vectors * onnx_vectors).sum(axis=1)
        assert cosine.min() >= 0.999, texts[int(cosine.argmin())]
    assert np.allclose(np.linalg.norm(onnx_vectors, axis=1), 1.0, atol=1e-5)


def test_a_question_imports_no_torch_and_no_ingest_code(bundled):
    probe = ("import sys\n"
             "from careqa.assistant import Assistant\n"
             "answer = Assistant().ask('How does Norway incentivise discharge coordination?')\n"
             "heavy = {'torch', 'sentence_transformers', 'transformers', 'careqa.load',\n"
             "         'careqa.chunk', 'careqa.index', 'careqa.formats', 'careqa.isolate', 'careqa.clean'}\n"
             "print(sorted(heavy & set(sys.modules)), 'fined per day' in answer.text)\n")
    env = {**os.environ, "CAREQA_CORPUS": str(bundled.corpus_dir), "CAREQA_INDEX_DIR": str(bundled.index_root)}
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["[]", "True"]


def test_a_missing_or_stale_export_is_made_again_locally(bundled, tmp_path):
    from careqa.embed import OnnxEmbedder, get_query_embedder, resolve_model
    from careqa.onnx_export import export_dir

    cache = tmp_path / "cache"
    fresh = get_query_embedder(bundled.model, cache)
    assert isinstance(fresh, OnnxEmbedder)
    folder = export_dir(cache, bundled.model, resolve_model(bundled.model))
    info = json.loads((folder / "export.json").read_text())
    assert info["min_cosine"] >= 0.9999 and info["source"] == resolve_model(bundled.model)
    (folder / "export.json").write_text(json.dumps({**info, "fingerprint": "another model"}))
    get_query_embedder.cache_clear()
    again = get_query_embedder(bundled.model, cache)
    assert json.loads((folder / "export.json").read_text())["fingerprint"] == info["fingerprint"]
    assert float(again.encode(["care"])[0] @ fresh.encode(["care"])[0]) > 0.9999
