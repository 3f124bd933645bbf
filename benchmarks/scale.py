"""careqa at 10k, 100k and 1M passages: build time, disk, serving memory, question latency, recall.

    python benchmarks/scale.py [--sizes 10000 100000 1000000] [--work DIR] [--questions N]
    python benchmarks/scale.py --store milvus [--milvus-uri http://host:19530] --sizes 10000 100000

Synthetic collections made of real sentences recombined: sentences of the bundled corpus and of
the SciFact abstracts (../shared/benchmarks/scifact) are embedded once with the real model (cached
in --work), then drawn into documents of 10 passages of 6-10 sentences (runs of 2-4 consecutive
sentences from random places), under real titles (SciFact) and real section headings (the
bundled corpus). Passage vectors are DERIVED, not
embedded: the normalised mean of their sentences' real vectors (embedding 1M passages would take
about 14 hours here); the output says how close derived vectors are to embedded ones. Sentence
vectors are the real ones. The store is written through careqa's own writer (store interface,
vector index chosen by size as in a real build, BM25 over the passages' terms).

Per size: build time of the store (not the embedding), size on disk, then a new serving process
(careqa's Assistant on that index) answers the held-out question set to warm up, then the shared
and dev question sets: its resident memory and warm latency p50/p95 of `Assistant.ask` (question
embedding with ONNX Runtime + retrieval + answer). Then exact and HNSW search are timed side by side on the same vectors, and recall@10 of
HNSW (and of the index chosen) against exact search, over the questions' vectors.

With --store milvus the collections are written through the Milvus store into a `milvus-lite server`
started per size (data in --work; or the server --milvus-uri names): the table gives that server's
resident memory beside the serving process's, and the time and recall@10 of Milvus's own search
(FLAT or HNSW as chosen by size) against exact search of the same passage vectors.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from scale_milvus import compare, rss_mb, use_server

ROOT = Path(__file__).resolve().parent.parent
SCIFACT = ROOT.parent / "shared" / "benchmarks" / "scifact"
QUESTION_FILES = [ROOT.parent / "shared" / "eval" / "questions.jsonl", ROOT / "benchmarks" / "questions" / "dev.jsonl"]
WARM_UP = ROOT / "benchmarks" / "questions" / "heldout.jsonl"  # other questions: warm caches, not answers
POOL = 20000  # distinct sentences to draw from: a vocabulary of tens of thousands of terms
PASSAGES_PER_DOC = 10
SENTENCES = (6, 10)  # sentences per passage, inclusive: about 250 tokens, like careqa's chunks
RUN = (2, 4)  # a passage is runs of consecutive source sentences: on a topic, as real text is
RECALL_QUERIES = 200
SEED = 7


def sentence_pool(limit: int) -> tuple[list[str], list[str], list[str]]:
    """(sentences, titles, section paths) from the bundled corpus and SciFact, real text only."""
    from careqa.chunk import sections
    from careqa.config import Settings
    from careqa.load import load_corpus
    from careqa.sentences import sentence_spans

    docs = load_corpus(Settings(corpus_dir=ROOT / "corpus")).documents
    texts = [d.text for d in docs]
    headings = sorted({path for d in docs for path, _, _ in sections(d) if path})
    titles = [d.title for d in docs]
    if SCIFACT.exists():
        for line in (SCIFACT / "corpus.jsonl").open(encoding="utf-8"):
            row = json.loads(line)
            texts.append(row["text"])
            titles.append(row["title"])
    seen: dict[str, None] = {}
    for text in texts:
        for a, b in sentence_spans(text):
            s = " ".join(text[a:b].split())
            if len(s.split()) >= 5:
                seen.setdefault(s)
        if len(seen) >= limit:
            break
    return list(seen)[:limit], titles, headings


def embedded_pool(work: Path, limit: int):
    """The pool's sentences with their real vectors, terms and token counts (cached in work)."""
    from careqa.chunk import count_tokens
    from careqa.config import Settings
    from careqa.embed import get_embedder
    from careqa.lexical import terms

    sentences, titles, headings = sentence_pool(limit)
    key = hashlib.sha256("\n".join(sentences).encode()).hexdigest()[:16]
    cached = work / f"pool-{key}.npy"
    if cached.exists():
        vectors = np.load(cached)
    else:
        started = time.time()
        vectors = get_embedder(Settings().model).encode(sentences, batch_size=64)
        np.save(cached, vectors)
        print(f"embedded {len(sentences)} pool sentences in {time.time() - started:.0f} s", flush=True)
    return {"sentences": sentences, "vectors": vectors, "terms": [terms(s) for s in sentences],
            "tokens": np.array([count_tokens(s) for s in sentences]), "titles": titles, "headings": headings}


class SyntheticPart:
    """Document i of a synthetic collection, made on demand from its seed (the writer reads each
    document several times; keeping 100k of them whole would need tens of GB)."""

    def __init__(self, pool: dict, i: int):
        rng = np.random.default_rng([SEED, i])
        counts = rng.integers(SENTENCES[0], SENTENCES[1] + 1, PASSAGES_PER_DOC)
        size, ids = len(pool["sentences"]), []
        for count in counts:
            while count > 0:
                run = min(count, int(rng.integers(RUN[0], RUN[1] + 1)))
                ids.extend((int(rng.integers(0, size)) + np.arange(run)) % size)
                count -= run
        self.ids = np.array(ids)
        self.bounds = np.concatenate([[0], np.cumsum(counts)])
        self.sections = [pool["headings"][j] for j in rng.integers(0, len(pool["headings"]), PASSAGES_PER_DOC)]
        self.title = f"{pool['titles'][i % len(pool['titles'])]} ({i})"
        self.pool, self.i = pool, i
        self._made = None

    def _make(self):
        from careqa.clean import Heading
        from careqa.load import Document
        from careqa.records import Chunk

        text, headings, chunks, spans = "", [], [], []
        for n, section in enumerate(self.sections):
            heading = section.rsplit(" > ", 1)[-1]
            headings.append(Heading(heading, 1, len(text), len(text) + len(heading)))
            text += heading + "\n\n"
            start = len(text)
            for j in self.ids[self.bounds[n]:self.bounds[n + 1]]:
                spans.append((len(text), len(text) + len(self.pool["sentences"][j])))
                text += self.pool["sentences"][j] + " "
            end = len(text) - 1
            tokens = int(self.pool["tokens"][self.ids[self.bounds[n]:self.bounds[n + 1]]].sum())
            chunks.append(Chunk(f"s{self.i}#{n}", f"s{self.i}", section, start, end, text[start:end], tokens))
            text = text[:-1] + "\n\n"
        doc = Document(f"s{self.i}", f"s{self.i}.txt", self.title, text, headings, f"{self.i:064x}")
        return doc, chunks, np.array(spans, dtype="int64")

    @property
    def doc(self):
        return self._cached()[0]

    @property
    def chunks(self):
        return self._cached()[1]

    @property
    def sentences(self):
        return self._cached()[2]

    def _cached(self):
        if self._made is None:
            self._made = self._make()
        return self._made

    def release(self) -> None:
        self._made = None

    @property
    def sentence_vectors(self) -> np.ndarray:
        return self.pool["vectors"][self.ids]

    @property
    def vectors(self) -> np.ndarray:
        v = np.add.reduceat(self.pool["vectors"][self.ids], self.bounds[:-1], axis=0)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    def terms(self) -> list[list[str]]:
        from careqa.lexical import terms

        head = terms(self.title)
        return [head + terms(s) + [t for j in self.ids[self.bounds[n]:self.bounds[n + 1]] for t in self.pool["terms"][j]]
                for n, s in enumerate(self.sections)]


class Parts(list):
    """The documents in order; each is released after use so only one is held whole at a time."""

    def __iter__(self):
        for part in super().__iter__():
            yield part
            part.release()


def build(pool: dict, size: int, index_root: Path) -> float:
    """Write a collection of `size` passages through careqa's store; the seconds it took."""
    from careqa.config import Settings
    from careqa.index import version_manifest
    from careqa.lexical import bm25_from_terms
    from careqa.store import NewVersion, open_store

    settings = Settings.from_env(index_root=index_root, corpus_dir=index_root / "corpus")
    parts = Parts(SyntheticPart(pool, i) for i in range(size // PASSAGES_PER_DOC))
    started = time.time()
    lexical = bm25_from_terms(t for p in parts for t in p.terms())
    manifest = version_manifest(settings, [], [], started, 0)
    manifest["documents"] = {f"s{p.i}.txt": {"doc_id": f"s{p.i}", "sha256": f"{p.i:064x}", "meta_sha256": "",
                                            "title": p.title, "chunks": PASSAGES_PER_DOC}
                             for p in list.__iter__(parts)}
    store = open_store(settings)
    with store.writing():
        store.write(NewVersion(manifest, parts, lexical))
    return time.time() - started


def questions(limit: int, files: list[Path] = QUESTION_FILES) -> list[str]:
    found = [json.loads(line)["question"] for path in files if path.exists()
             for line in path.open(encoding="utf-8") if line.strip()]
    return found[:limit]


def serve(index_root: Path, count: int) -> dict:
    """In a new process: answer the questions warm; latency and this process's resident memory."""
    from careqa.assistant import Assistant
    from careqa.config import Settings

    assistant = Assistant(Settings.from_env(index_root=index_root))
    asked = questions(count)
    for q in questions(count, [WARM_UP]):
        assistant.ask(q)
    times = []
    for q in asked:
        started = time.perf_counter()
        assistant.ask(q)
        times.append(1000 * (time.perf_counter() - started))
    rss = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmRSS"))
    hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
    return {"p50": float(np.percentile(times, 50)), "p95": float(np.percentile(times, 95)),
            "rss_mb": rss / 1024, "peak_mb": hwm / 1024, "asked": len(times)}


def compare_search(index_root: Path, count: int) -> dict:
    """Exact and HNSW search over the stored vectors: ms per question and HNSW recall@10."""
    import faiss

    from careqa import vectors
    from careqa.config import Settings
    from careqa.embed import get_query_embedder
    from careqa.store import open_store

    settings = Settings.from_env(index_root=index_root)
    stored = open_store(settings).load()
    queries = get_query_embedder(settings.model, settings.cache_dir).encode(questions(count))
    n = stored.index.ntotal
    exact = faiss.IndexFlatIP(stored.index.d)
    for a in range(0, n, vectors.ADD_BATCH):
        exact.add(vectors.gather(stored.index, np.arange(a, min(a + vectors.ADD_BATCH, n))))
    if stored.params["kind"] == "hnsw":
        hnsw = stored.index
    else:
        hnsw = vectors.build(vectors.choose(settings.with_(vector_index="hnsw"), n), exact.d,
                             [vectors.gather(exact, np.arange(n))])
    params = vectors.choose(settings.with_(vector_index="hnsw"), n)
    timing = {}
    for name, index, p in (("flat", exact, {"kind": "flat"}), ("hnsw", hnsw, params)):
        started = time.perf_counter()
        found = [vectors.search(index, p, q, 10, None)[0] for q in queries]
        timing[name] = (1000 * (time.perf_counter() - started) / len(queries), found)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(timing["flat"][1], timing["hnsw"][1])])
    return {"flat_ms": timing["flat"][0], "hnsw_ms": timing["hnsw"][0], "hnsw_recall": float(recall),
            "chosen": stored.params["kind"],
            "chosen_recall": 1.0 if stored.params["kind"] == "flat" else float(recall)}


def derived_agreement(pool: dict, sample: int = 100) -> float:
    """Mean cosine between derived passage vectors and the real model's embedding of the passages."""
    from careqa.chunk import embedded_text
    from careqa.config import Settings
    from careqa.embed import get_embedder

    parts = [SyntheticPart(pool, i) for i in range(sample // PASSAGES_PER_DOC)]
    texts = [embedded_text(p.title, c) for p in parts for c in p.chunks]
    real = get_embedder(Settings().model).encode(texts)
    derived = np.concatenate([p.vectors for p in parts])
    return float((real * derived).sum(axis=1).mean())


def disk_gb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e9


def run_size(pool: dict, size: int, work: Path, count: int, reuse: bool) -> dict:
    from careqa.config import Settings

    milvus = Settings.from_env().store == "milvus"
    index_root = work / f"index-{size}"
    record = work / f"build-{size}.json"
    fresh = not (reuse and record.exists())
    if fresh:  # a rebuild starts from nothing: an earlier run's collections would count in "disk"
        shutil.rmtree(work / f"milvus-{size}", ignore_errors=True)
    server = use_server(work, size) if milvus else None
    try:
        if not fresh:
            seconds = json.loads(record.read_text())["seconds"]
        else:
            shutil.rmtree(index_root, ignore_errors=True)
            seconds = build(pool, size, index_root)
            record.write_text(json.dumps({"seconds": seconds}))
        served = subprocess.run([sys.executable, __file__, "--serve", str(index_root), "--questions", str(count)],
                                capture_output=True, text=True, check=True, env={**os.environ, "CAREQA_QUIET": "1"})
        data = work / f"milvus-{size}" if milvus else index_root
        row = {"size": size, "build_s": seconds, "disk_gb": disk_gb(data) if data.exists() else float("nan"),
               **json.loads(served.stdout)}
        if not milvus:
            return row | compare_search(index_root, RECALL_QUERIES)
        row |= compare_milvus(pool, size, index_root)
        row["server_mb"] = rss_mb(server.pid) if server else float("nan")
        return row
    finally:
        if server:
            server.terminate()
            server.wait()


def compare_milvus(pool: dict, size: int, index_root: Path) -> dict:
    from careqa.config import Settings
    from careqa.embed import get_query_embedder
    from careqa.store import open_store

    settings = Settings.from_env(index_root=index_root)
    queries = get_query_embedder(settings.model, settings.cache_dir).encode(questions(RECALL_QUERIES))
    parts = [SyntheticPart(pool, i) for i in range(size // PASSAGES_PER_DOC)]
    return compare(parts, queries, open_store(settings).load())


def print_row(r: dict) -> None:
    if "milvus_ms" in r:
        print(f"{r['size']:>9,} {r['chosen']:>6} {r['build_s']:>8.0f} s {r['disk_gb']:>7.2f} GB {r['rss_mb']:>8.0f} MB "
              f"{r['server_mb']:>8.0f} MB {r['p50']:>7.1f} {r['p95']:>7.1f} ms {r['milvus_ms']:>8.2f} ms "
              f"{r['chosen_recall']:>7.3f}", flush=True)
        return
    print(f"{r['size']:>9,} {r['chosen']:>6} {r['build_s']:>8.0f} s {r['disk_gb']:>7.2f} GB {r['rss_mb']:>8.0f} MB "
          f"{r['peak_mb']:>8.0f} MB {r['p50']:>7.1f} {r['p95']:>7.1f} ms {r['flat_ms']:>8.2f} {r['hnsw_ms']:>7.2f} ms "
          f"{r['hnsw_recall']:>7.3f} {r['chosen_recall']:>7.3f}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--work", type=Path, help="folder for the collections (default: a temporary one)")
    ap.add_argument("--questions", type=int, default=200, help="questions asked per size")
    ap.add_argument("--reuse", action="store_true", help="measure collections already built in --work")
    ap.add_argument("--store", choices=("faiss", "milvus"), help="where the collections live (default CAREQA_STORE)")
    ap.add_argument("--milvus-uri", help="a Milvus server to use (default: a milvus-lite server per size, in --work)")
    ap.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    os.environ.update({k: v for k, v in (("CAREQA_STORE", args.store), ("CAREQA_MILVUS_URI", args.milvus_uri)) if v})
    if args.serve:
        print(json.dumps(serve(args.serve, args.questions)))
        return
    work = args.work or Path(tempfile.mkdtemp(prefix="careqa-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    pool = embedded_pool(work, POOL)
    from careqa.config import Settings
    from careqa.embed import get_query_embedder

    settings = Settings.from_env()
    get_query_embedder(settings.model, settings.cache_dir)  # the ONNX export, before any serving process
    print(f"{len(pool['sentences'])} real sentences (bundled corpus + SciFact), {len(pool['headings'])} real "
          f"headings; passage vectors DERIVED (mean of their sentences' real vectors), not embedded: "
          f"mean cosine to the real embedding {derived_agreement(pool):.3f} on 100 passages", flush=True)
    if settings.store == "milvus":
        print(f"{'passages':>9} {'index':>6} {'build':>10} {'disk':>10} {'serve RSS':>11} {'server RSS':>11} "
              f"{'ask p50':>7} {'p95':>10} {'search':>11} {'recall':>7}")
    else:
        print(f"{'passages':>9} {'index':>6} {'build':>10} {'disk':>10} {'serve RSS':>11} {'peak':>11} "
              f"{'ask p50':>7} {'p95':>10} {'flat':>8} {'hnsw':>10} {'recall':>7} {'chosen':>7}")
    for size in args.sizes:
        print_row(run_size(pool, size, work, args.questions, args.reuse))
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
