"""careqa's retrieval on BEIR SciFact: NDCG@10 of BM25 alone, dense alone and the hybrid.

    python benchmarks/scifact.py ../shared/benchmarks/scifact [--keep-index DIR]

Each abstract becomes a Document (title + text) and goes through careqa's own chunker, embedder,
BM25 and fusion with the default settings (CAREQA_INDEX_EMBEDDER=onnx embeds with the ONNX
export instead of torch); a document's rank is its best passage's. All three
figures come from the same index in the same run. Embedding 5,183 abstracts takes ~5-8 minutes
on 2 CPU cores; --keep-index reuses a built index on the next run.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path

from careqa.config import Settings
from careqa.embed import get_embedder, get_query_embedder
from careqa.index import build_from_documents
from careqa.load import Document
from careqa.retrieve import Searcher
from careqa.store import open_store


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]


def read_qrels(folder: Path) -> dict[str, set[str]]:
    """The relevant documents of each test query."""
    qrels: dict[str, set[str]] = {}
    for line in (folder / "qrels" / "test.tsv").read_text().splitlines()[1:]:
        qid, did, score = line.split("\t")
        if int(score) > 0:
            qrels.setdefault(qid, set()).add(did)
    return qrels


def ndcg_at_10(ranked: list[str], relevant: set[str]) -> float:
    dcg = sum(1 / math.log2(i + 2) for i, d in enumerate(ranked[:10]) if d in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(relevant), 10)))
    return dcg / ideal if ideal else 0.0


def doc_ranking(passages, n: int = 10) -> list[str]:
    seen: list[str] = []
    for p in passages:
        if p.doc_id not in seen:
            seen.append(p.doc_id)
    return seen[:n]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", type=Path)
    ap.add_argument("--keep-index", type=Path, help="folder to keep (and reuse) the built index in")
    args = ap.parse_args()
    corpus = read_jsonl(args.dir / "corpus.jsonl")
    queries = {q["_id"]: q["text"] for q in read_jsonl(args.dir / "queries.jsonl")}
    qrels = read_qrels(args.dir)

    root = args.keep_index or Path(tempfile.mkdtemp(prefix="careqa-scifact-"))
    settings = Settings.from_env(corpus_dir=root / "corpus", index_root=root, index_name="scifact")
    store = open_store(settings)
    if store.current() is None:
        docs = [Document(doc_id=d["_id"], path=d["_id"], title=d["title"] or d["_id"], text=d["text"],
                         headings=[], sha256="") for d in corpus if d["text"].strip()]
        started = time.time()
        report = build_from_documents(settings, docs, sentences=False,
                                      progress=lambda s, done, total: print(f"\r{s}: {done}/{total}", end="", file=sys.stderr))
        print(f"\nbuilt {report.chunks} passages from {report.documents} abstracts in {time.time() - started:.0f} s",
              file=sys.stderr)
    stored = store.load()
    embedder = get_query_embedder(settings.model, settings.cache_dir) if settings.index_embedder == "onnx" \
        else get_embedder(settings.model)
    qids = [q for q in qrels if q in queries]
    vectors = embedder.encode([queries[q] for q in qids])
    methods = {"bm25": "bm25", "dense": "dense", "hybrid (careqa default)": settings.fusion}
    print(f"SciFact test: {len(qids)} queries, {len(corpus)} abstracts, {stored.num_chunks} passages "
          f"(passages and questions embedded with {settings.index_embedder})")
    for name, method in methods.items():
        searcher = Searcher(stored, method, settings.fusion_weight)
        scores = [ndcg_at_10(doc_ranking(searcher.search(v, queries[q], k=100)), qrels[q])
                  for q, v in zip(qids, vectors)]
        print(f"NDCG@10 {name:<24} {sum(scores) / len(scores):.4f}")


if __name__ == "__main__":
    main()
