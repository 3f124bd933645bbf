"""Chunks are verbatim spans, sized in tokens, broken at sentences, never across a heading."""
from pathlib import Path

from careqa.chunk import chunk_document, sections
from careqa.config import Settings
from careqa.load import load_corpus

BUNDLED = Path(__file__).resolve().parent.parent / "corpus"


def test_chunks_of_the_bundled_corpus_respect_headings_and_sizes():
    docs = load_corpus(Settings(corpus_dir=BUNDLED)).documents
    assert len(docs) == 5
    for doc in docs:
        bounds = [h.start for h in doc.headings]
        chunks = chunk_document(doc, target=120, overlap=24)
        assert chunks
        for c in chunks:
            assert c.text == doc.text[c.start:c.end]
            assert not any(c.start < b < c.end for b in bounds), (c.chunk_id, c.section)
            assert c.tokens <= 1.3 * 120 + 10
        assert len({c.chunk_id for c in chunks}) == len(chunks)


def test_sections_name_the_country_a_chunk_belongs_to():
    doc = next(d for d in load_corpus(Settings(corpus_dir=BUNDLED)).documents if d.doc_id == "commonwealth-fund-care-coordination")
    chunk = next(c for c in chunk_document(doc, 256, 32) if "fined per day" in c.text)
    assert chunk.section.endswith("> Norway")
    spice = next(d for d in load_corpus(Settings(corpus_dir=BUNDLED)).documents if d.doc_id.startswith("spice"))
    paths = {p for p, _, _ in sections(spice)}
    assert "INTERNATIONAL EXAMPLES > SWEDEN > CASE STUDY: Norrtälje" in paths


def test_chunks_end_at_sentence_boundaries_and_overlap(tmp_path):
    root = tmp_path / "c"
    root.mkdir()
    sentences = [f"Sentence number {i} talks about integrated care in some detail here." for i in range(40)]
    (root / "a.txt").write_text(" ".join(sentences), encoding="utf-8")
    doc = load_corpus(Settings(corpus_dir=root)).documents[0]
    chunks = chunk_document(doc, target=60, overlap=15)
    assert len(chunks) > 3
    for c in chunks:
        assert c.text.startswith("Sentence number") and c.text.endswith(".")
    for a, b in zip(chunks, chunks[1:]):
        assert b.start < a.end  # consecutive chunks share a sentence


def test_no_chunk_after_the_first_starts_on_a_sentence_pointing_back(tmp_path):
    """"It found that ..." opening a chunk could never be quoted: the sentence it points back to
    would be in another passage. Such a sentence brings that one into its chunk."""
    from careqa.sentences import ANAPHOR

    root = tmp_path / "c"
    root.mkdir()
    sentences = []
    for i in range(30):
        sentences += [f"The evaluation of pilot number {i} in the northern region looked at hospital use in detail.",
                      f"It found that admissions fell in area {i}.", f"This was true in every one of the {i} teams."]
    (root / "a.txt").write_text(" ".join(sentences), encoding="utf-8")
    doc = load_corpus(Settings(corpus_dir=root)).documents[0]
    chunks = chunk_document(doc, target=60, overlap=10)
    assert len(chunks) > 5
    assert not any(ANAPHOR.match(c.text) for c in chunks[1:]), [c.text[:30] for c in chunks if ANAPHOR.match(c.text)]
