"""The store interface, round trip: build, load, search, filter, update, switch versions, verify.

Written once and run for every backend in BACKENDS (Milvus in a Milvus Lite .db in tmp_path). These
tests move data, so they use the deterministic `hash:64` embedder: no model is loaded.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BACKENDS = ["faiss", "milvus"]
MODEL = "hash:64"
FILES = {
    "alpha.md": "# Alderney\n\nThe Alderney respite grant pays unpaid carers 40 pounds a week.\n\n"
                "## Eligibility\n\nCarers looking after a relative for 35 hours a week qualify. "
                "The Carers Support Unit (CSU) checks each claim.\n",
    "beta.md": "# Bexley\n\nBexley discharge teams phone every patient within two days of leaving hospital.\n\n"
               "## Funding\n\nThe Better Care Fund (BCF) pays for the discharge teams.\n",
    "gamma.txt": "Gamma notes: the district runs a weekly lunch club for older residents.\n",
}
GRANT = "How much is the Alderney respite grant?"


@pytest.fixture(params=BACKENDS)
def settings(request, tmp_path):
    from careqa.config import Settings

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in FILES.items():
        (corpus / name).write_text(text, encoding="utf-8")
    yield Settings(corpus_dir=corpus, index_root=tmp_path / "index", model=MODEL, store=request.param,
                   milvus_uri=str(tmp_path / "milvus.db"))
    if request.param == "milvus":
        from careqa.milvus_store import release

        release(str(tmp_path / "milvus.db"))


def search(stored, question: str, **filters):
    from careqa.embed import get_embedder
    from careqa.retrieve import Searcher

    vector = get_embedder(MODEL).encode([question])[0]
    return Searcher(stored).search(vector, question, k=3, **filters)


def test_round_trip_build_load_search_filter_update_switch_verify(settings):
    from careqa.embed import get_embedder
    from careqa.index import build_index, update_index
    from careqa.store import open_store
    from careqa.verify import verify_index

    store = open_store(settings)
    assert store.current() is None
    first = build_index(settings).version
    stored = store.load()
    assert store.current() == first == stored.version and stored.num_chunks == 5
    assert list(stored.documents) == ["alpha", "beta", "gamma"]
    doc = stored.document("alpha")
    assert doc["text"] == stored.text("alpha") and doc["title"] == "Alpha" and doc["path"] == "alpha.md"
    assert [h[:2] for h in doc["headings"]] == [["Alderney", 1], ["Eligibility", 2]]
    assert stored.abbreviations == {"CSU": "Carers Support Unit", "BCF": "Better Care Fund"}
    assert stored.sections() == [("Alderney", 1), ("Alderney > Eligibility", 1), ("Bexley", 1),
                                 ("Bexley > Funding", 1)]

    top = search(stored, GRANT)[0]
    assert top.doc_id == "alpha" and "40 pounds" in top.text and top.chunk_id == "alpha#0"
    assert stored.text("alpha", top.start, top.end) == top.text
    rows, _ = stored.lexical(GRANT, 2, None)
    assert stored.passages(rows[:1])[0].chunk_id == "alpha#0"
    rows, scores = stored.dense(get_embedder(MODEL).encode([GRANT])[0], 5, None)
    assert list(scores) == sorted(scores, reverse=True) and len(rows) == 5
    spans, vecs = stored.sentences("alpha", top.start, top.end)
    sentence = stored.text("alpha", *spans[0])
    assert sentence == "The Alderney respite grant pays unpaid carers 40 pounds a week."
    assert float(vecs[0] @ get_embedder(MODEL).encode([sentence])[0]) > 0.999
    assert stored.doc_frequency("alderney") == 2 and stored.doc_frequency("nowhere") == 0

    assert {p.doc_id for p in search(stored, GRANT, docs=["beta.md"])} == {"beta"}
    assert [p.section for p in search(stored, "who qualifies", section="eligib")] == ["Alderney > Eligibility"]
    assert search(stored, GRANT, docs=["gamma"], section="Eligibility") == []
    assert store.verify(stored) == []

    (settings.corpus_dir / "alpha.md").write_text(FILES["alpha.md"].replace("40 pounds", "75 pounds"))
    report = update_index(settings)
    assert report.changed == ["alpha.md"] and report.embedded == 2
    second = store.current()
    assert second == report.version != first and store.versions() == sorted([first, second])
    newer = store.load()
    assert "75 pounds" in search(newer, GRANT)[0].text
    kept = stored.contents("beta"), newer.contents("beta")
    assert kept[0].chunks == kept[1].chunks and np.array_equal(kept[0].vectors, kept[1].vectors)
    assert np.array_equal(kept[0].sentence_vectors, kept[1].sentence_vectors)
    assert verify_index(settings).problems == []

    with store.writing(wait=5):
        store.switch(first)
    assert store.current() == first and "40 pounds" in search(store.load(), GRANT)[0].text
    assert verify_index(settings).problems == ["alpha.md: changed since it was indexed; run `careqa index update`"]


def test_approximate_index_past_the_size_limit_is_recorded_and_finds_the_same(settings, monkeypatch):
    from careqa import vectors
    from careqa.index import build_index
    from careqa.store import open_store

    build_index(settings)
    exact = open_store(settings).load()
    small = settings.with_(index_name="hnsw", exact_max=2)
    build_index(small)
    approximate = open_store(small).load()
    assert exact.manifest["vectors"] == {"kind": "flat", "exact": True}
    assert approximate.manifest["vectors"] == {"kind": "hnsw", "exact": False, "m": 32,
                                               "ef_construction": 64, "ef_search": 128}
    for question in (GRANT, "discharge teams phone patients", "lunch club"):
        assert [p.chunk_id for p in search(approximate, question)] == [p.chunk_id for p in search(exact, question)]
    monkeypatch.setattr(vectors, "GATHER_MAX", 0)  # filters searched through the graph, not gathered
    for where in ({"docs": ["alpha"]}, {"section": "Funding"}):
        assert [p.chunk_id for p in search(approximate, GRANT, **where)] == \
            [p.chunk_id for p in search(exact, GRANT, **where)]


def mark_older_format(settings) -> str:
    """Rewrite the live manifest as if made by index format 1; where the error names the index."""
    from careqa.store import open_store

    store = open_store(settings)
    if settings.store == "faiss":
        live = settings.index_dir / store.current()
        manifest = json.loads((live / "manifest.json").read_text())
        (live / "manifest.json").write_text(json.dumps({**manifest, "format": 1}))
        return str(live)
    names = store.load().names
    [row] = store.client.query(names.documents, filter='kind == "manifest"', output_fields=["*"])
    store.client.upsert(names.documents, [{**row, "body": json.dumps({**json.loads(row["body"]), "format": 1})}])
    store.close()
    return f"Milvus at {settings.milvus_uri}"


def test_an_index_of_an_older_format_asks_for_a_rebuild_in_one_line(settings):
    from careqa.index import build_index

    build_index(settings)
    where = mark_older_format(settings)
    env_args = ["--corpus", str(settings.corpus_dir), "--index-dir", str(settings.index_root)]
    env = {"CAREQA_MODEL": MODEL, "PATH": "", "CAREQA_STORE": settings.store, "CAREQA_MILVUS_URI": settings.milvus_uri}
    for command in (["index", "status"], ["ask", GRANT]):
        done = subprocess.run([sys.executable, "-m", "careqa", *command, *env_args], capture_output=True,
                              text=True, env=env, timeout=60)
        assert done.returncode == 1 and done.stdout == ""
        assert done.stderr == (f"careqa: error: {where}: index format 1 is not 2 (made by another careqa "
                               "version); rebuild with `careqa index build`\n")


def test_bm25_weights_match_bm25s():
    """careqa computes BM25 itself (so questions never import bm25s and scipy); bm25s is the reference."""
    import bm25s

    from careqa.lexical import bm25_scores, build_bm25, terms

    texts = [t for t in FILES.values()] + ["carers carers carers week", "hospital discharge discharge"]
    ours = build_bm25(texts)
    reference = bm25s.BM25()
    reference.index([terms(t) for t in texts], show_progress=False)
    for question in ("carers a week", "discharge from hospital", "unknown words only"):
        known = [t for t in terms(question) if t in reference.vocab_dict]
        expected = reference.get_scores(known) if known else np.zeros(len(texts))
        assert np.allclose(bm25_scores(ours, question), expected, atol=1e-6)
        rows = np.array([1, 3, 4])
        assert np.allclose(bm25_scores(ours, question, rows), expected[rows], atol=1e-6)


@pytest.mark.parametrize("settings", ["faiss"], indirect=True)  # how the FAISS store keeps memory bounded
def test_reading_holds_no_copy_of_the_large_parts(settings):
    """A loaded version maps the vectors and the passage table and reads sentence vectors and BM25
    postings by row range: nothing large is read into memory when it is opened."""
    from careqa.faiss_index import DiskArray
    from careqa.index import build_index
    from careqa.store import open_store

    build_index(settings)
    stored = open_store(settings).load()
    assert isinstance(stored.table, np.memmap)
    assert all(isinstance(a, DiskArray) for a in (stored.spans, stored.codes, stored.bm25.data, stored.bm25.indices))
    assert stored.codes[2:4].shape == (2, 64) and stored.codes.dtype == np.float16
    assert np.array_equal(stored.codes[1:3], np.load(stored.path / "sentence_vectors.npy")[1:3])
