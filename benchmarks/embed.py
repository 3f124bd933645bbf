"""Embedding speed: careqa's indexing pipeline against a bare SentenceTransformer.encode, torch
against ONNX Runtime, for passages and for single questions; SciFact NDCG@10 for each backend.

    python benchmarks/embed.py [--passages 400] [--scifact ../shared/benchmarks/scifact]

Passages are careqa chunks (contextual header included) of SciFact abstracts, the same texts for
every variant; the variants take turns, three times each, and each one's fastest run counts
(other processes share the cores). --scifact also builds the full SciFact index once per backend
(5-10 minutes each) through benchmarks/scifact.py and prints its NDCG@10 lines.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SCIFACT = ROOT.parent / "shared" / "benchmarks" / "scifact"
QUESTION_FILES = [ROOT.parent / "shared" / "eval" / "questions.jsonl", ROOT / "benchmarks" / "questions" / "dev.jsonl"]
RUNS = 3


def passages(limit: int) -> list[str]:
    from careqa.chunk import chunk_document, embedded_text
    from careqa.config import Settings
    from careqa.load import Document

    settings, texts = Settings(), []
    for line in (SCIFACT / "corpus.jsonl").open(encoding="utf-8"):
        row = json.loads(line)
        doc = Document(row["_id"], row["_id"], row["title"] or row["_id"], row["text"], [], "")
        texts += [embedded_text(doc.title, c) for c in chunk_document(doc, settings.chunk_tokens, settings.chunk_overlap)]
        if len(texts) >= limit:
            return texts[:limit]
    return texts


def fastest(variants: dict) -> dict:
    """Each variant RUNS times, taking turns (so a busy minute on the shared cores hits them all),
    the fastest run of each: {name: (seconds, vectors)}."""
    best: dict = {}
    for _ in range(RUNS):
        for name, run in variants.items():
            started = time.perf_counter()
            out = run()
            seconds = time.perf_counter() - started
            if name not in best or seconds < best[name][0]:
                best[name] = (seconds, out)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--passages", type=int, default=400)
    ap.add_argument("--scifact", type=Path, help="also SciFact NDCG@10 per backend (full builds)")
    args = ap.parse_args()
    from careqa.config import Settings
    from careqa.embed import get_embedder, get_query_embedder, resolve_model
    from careqa.index import embed_texts
    from careqa.records import silent

    settings = Settings.from_env()
    texts = passages(args.passages)
    torch_model = get_embedder(settings.model)
    onnx_model = get_query_embedder(settings.model, settings.cache_dir)
    bare = torch_model.model  # the SentenceTransformer itself, loaded from resolve_model(name)
    assert Path(resolve_model(settings.model)).exists()
    bare.encode(texts[:8])
    variants = {
        "bare SentenceTransformer.encode": lambda: bare.encode(texts, batch_size=32, normalize_embeddings=True),
        "careqa pipeline, torch": lambda: embed_texts(settings, texts, silent, "passages"),
        "careqa pipeline, onnx": lambda: embed_texts(settings.with_(index_embedder="onnx"), texts, silent, "passages"),
    }
    results = fastest(variants)
    base = results["bare SentenceTransformer.encode"][0]
    print(f"{len(texts)} passages (careqa chunks of SciFact abstracts, header included), best of {RUNS}:")
    for name, (seconds, _) in results.items():
        print(f"  {name:34} {len(texts) / seconds:7.1f} passages/s   {100 * (seconds / base - 1):+6.1f}% vs bare")
    torch_s, onnx_s = results["careqa pipeline, torch"][0], results["careqa pipeline, onnx"][0]
    agree = (results["careqa pipeline, torch"][1] * results["careqa pipeline, onnx"][1]).sum(axis=1)
    print(f"  onnx speed-up for passages {torch_s / onnx_s:.2f}x; cosine torch vs onnx min {agree.min():.6f}")
    questions = [json.loads(line)["question"] for path in QUESTION_FILES if path.exists()
                 for line in path.open(encoding="utf-8") if line.strip()]
    for name, model in (("torch", torch_model), ("onnx", onnx_model)):
        times = []
        for q in questions:
            started = time.perf_counter()
            model.encode([q])
            times.append(1000 * (time.perf_counter() - started))
        print(f"one question, {name:5}: p50 {np.percentile(times, 50):5.1f} ms, p95 {np.percentile(times, 95):5.1f} ms "
              f"({len(questions)} questions)")
    if args.scifact:
        for backend in ("torch", "onnx"):
            env = {**os.environ, "CAREQA_INDEX_EMBEDDER": backend}
            done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "scifact.py"), str(args.scifact)],
                                  env=env, capture_output=True, text=True, check=True)
            for line in done.stdout.splitlines():
                if line.startswith("NDCG@10"):
                    print(f"SciFact, {backend:5} index and questions: {line}")


if __name__ == "__main__":
    main()
