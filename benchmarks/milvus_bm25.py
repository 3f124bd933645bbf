"""Why the Milvus store sends careqa's own BM25 weights rather than using Milvus's BM25 function.

    python benchmarks/milvus_bm25.py ../shared/benchmarks/scifact

BEIR SciFact, lexical search alone, NDCG@10 over whole abstracts (title + text): careqa's BM25
(stemmed, stop words removed; lexical.py) against Milvus Lite's BM25 function (its standard
analyzer) on the same abstracts, written once as one segment and once flushed every 500 abstracts
(Milvus Lite keeps BM25 statistics per segment, so the same data can score differently).
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from scifact import ndcg_at_10, read_jsonl, read_qrels

SEGMENT = 500  # abstracts per flush in the many-segment run


def careqa_ndcg(ids: list[str], texts: list[str], queries: dict, qrels: dict) -> float:
    from careqa.lexical import bm25_scores, build_bm25

    index = build_bm25(texts)
    scores = [ndcg_at_10([ids[i] for i in np.argsort(-bm25_scores(index, queries[q]), kind="stable")[:10]], rel)
              for q, rel in qrels.items()]
    return float(np.mean(scores))


def milvus_ndcg(ids: list[str], texts: list[str], queries: dict, qrels: dict, every: int | None) -> float:
    from pymilvus import DataType, Function, FunctionType, MilvusClient

    client = MilvusClient(str(Path(tempfile.mkdtemp(prefix="careqa-bm25-")) / "bm25.db"))
    schema = client.create_schema(auto_id=False)
    schema.add_field("row", DataType.INT64, is_primary=True)
    schema.add_field("text", DataType.VARCHAR, max_length=65535, enable_analyzer=True)
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["text"],
                                 output_field_names=["sparse"]))
    client.create_collection("abstracts", schema=schema)
    step = every or len(texts)
    for a in range(0, len(texts), step):
        client.insert("abstracts", [{"row": i, "text": texts[i]} for i in range(a, min(a + step, len(texts)))])
        client.flush("abstracts")
    ip = client.prepare_index_params()
    ip.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
    client.create_index("abstracts", ip, sync=False)
    client.load_collection("abstracts")
    scores = []
    for q, rel in qrels.items():
        hits = client.search("abstracts", data=[queries[q]], anns_field="sparse", limit=10, output_fields=["row"])[0]
        scores.append(ndcg_at_10([ids[h["row"]] for h in hits], rel))
    return float(np.mean(scores))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", type=Path)
    args = ap.parse_args()
    corpus = read_jsonl(args.dir / "corpus.jsonl")
    ids, texts = [d["_id"] for d in corpus], [f"{d['title']}\n{d['text']}" for d in corpus]
    queries = {q["_id"]: q["text"] for q in read_jsonl(args.dir / "queries.jsonl")}
    qrels = read_qrels(args.dir)
    print(f"SciFact: {len(texts)} abstracts, {len(qrels)} queries; lexical search alone, NDCG@10")
    for name, run in (("careqa BM25 (stemmed)", lambda: careqa_ndcg(ids, texts, queries, qrels)),
                      ("Milvus Lite BM25 function, 1 segment", lambda: milvus_ndcg(ids, texts, queries, qrels, None)),
                      (f"Milvus Lite BM25 function, a segment per {SEGMENT}",
                       lambda: milvus_ndcg(ids, texts, queries, qrels, SEGMENT))):
        started = time.time()
        print(f"{name:<44} {run():.3f}   ({time.time() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
