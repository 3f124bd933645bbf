"""Chunk size, overlap and fusion measured on a question set: the figures behind the defaults.

    python benchmarks/chunking.py ../shared/eval/questions.jsonl [--sizes 128,160,200,256]

Builds one index per (size, overlap) in a temporary folder from ./corpus and prints the
question-set figures for each, with the weighted fusion at several weights and with RRF.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from careqa.assistant import Assistant
from careqa.config import Settings
from careqa.evaluate import evaluate, read_questions
from careqa.index import build_index


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("questions")
    ap.add_argument("--corpus", default="corpus")
    ap.add_argument("--sizes", default="96,128,160,200,256,320")
    ap.add_argument("--overlaps", default="0,32")
    ap.add_argument("--weights", default="0.3,0.4,0.5,0.6,0.7")
    args = ap.parse_args()
    questions = read_questions(Path(args.questions))
    cols = ["recall@5", "mrr", "cited", "facts", "answered", "abstained_unanswerable"]
    print(f"{'size':>5} {'overlap':>7} {'chunks':>6} {'fusion':>12} " + " ".join(f"{c[:10]:>10}" for c in cols))
    with tempfile.TemporaryDirectory() as tmp:
        for size in map(int, args.sizes.split(",")):
            for overlap in map(int, args.overlaps.split(",")):
                settings = Settings(corpus_dir=Path(args.corpus), index_root=Path(tmp),
                                    index_name=f"s{size}-o{overlap}", chunk_tokens=size, chunk_overlap=overlap)
                report = build_index(settings)
                fusions = [("weighted", float(w)) for w in args.weights.split(",")] + [("rrf", 0.0)]
                for method, weight in fusions:
                    assistant = Assistant(settings.with_(fusion=method, fusion_weight=weight))
                    fig = evaluate(assistant, questions)
                    name = f"{method}" + (f" {weight:.1f}" if method == "weighted" else "")
                    print(f"{size:>5} {overlap:>7} {report.chunks:>6} {name:>12} "
                          + " ".join(f"{fig[c]:>10.3f}" for c in cols), flush=True)


if __name__ == "__main__":
    sys.exit(main())
