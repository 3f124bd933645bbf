"""Each supported format loads into a Document with a stable id, metadata and headings."""
from pathlib import Path

import pytest

from careqa.errors import DocumentError
from careqa.config import Settings
from careqa.load import load_corpus, load_document


def write_pdf(path: Path, lines: list[str]) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4)
    y = 800
    for line in lines:
        c.drawString(60, y, line)
        y -= 16
    c.save()


def write_docx(path: Path) -> None:
    import docx

    d = docx.Document()
    d.add_heading("Norway", level=1)
    d.add_paragraph("The municipalities are fined per day for patients ready for discharge.")
    d.add_heading("Denmark", level=1)
    d.add_paragraph("Health agreements cover admission and discharge.")
    d.save(str(path))


@pytest.fixture
def corpus(tmp_path):
    root = tmp_path / "corpus"
    (root / "sub").mkdir(parents=True)
    (root / "plain.txt").write_text("NORWAY\n\nThe municipalities are fined per day.\n", encoding="utf-8")
    (root / "notes.md").write_text("# Notes\n\n## Sweden\n\nThe 0-7-90-90 rule.\n", encoding="utf-8")
    (root / "sub" / "page.html").write_text(
        "<html><head><title>Page title</title><style>p{}</style></head><body>"
        "<nav>menu</nav><h1>Integrated care</h1><p>Joining up   services.</p>"
        "<h2>Japan</h2><p>Support <b>centres</b> coordinate services.</p></body></html>", encoding="utf-8")
    write_pdf(root / "brief.pdf", ["SWEDEN", "", "Responsibility moved to the municipalities."])
    write_docx(root / "report.docx")
    (root / "sources.toml").write_text('["plain.txt"]\ntitle = "A plain report"\npublisher = "Someone"\n'
                                       'date = "2020"\n', encoding="utf-8")
    return root


def test_every_format_loads_with_ids_metadata_and_headings(corpus):
    result = load_corpus(Settings(corpus_dir=corpus))
    assert result.skipped == []
    docs = {d.doc_id: d for d in result.documents}
    assert set(docs) == {"plain", "notes", "sub/page", "brief", "report"}
    assert docs["plain"].title == "A plain report" and docs["plain"].publisher == "Someone"
    assert docs["notes"].title == "Notes"  # no entry: derived from the file name
    assert docs["sub/page"].title == "Page title"
    expected = {"plain": ["NORWAY"], "notes": ["Notes", "Sweden"], "sub/page": ["Integrated care", "Japan"],
                "brief": ["SWEDEN"], "report": ["Norway", "Denmark"]}
    for doc_id, titles in expected.items():
        doc = docs[doc_id]
        assert [h.title for h in doc.headings] == titles, doc_id
        for h in doc.headings:
            assert h.title.lower().lstrip("# ") in doc.text[h.start:h.end].lower()
    assert "Joining up services." in docs["sub/page"].text
    assert "menu" not in docs["sub/page"].text
    assert "fined per day" in docs["report"].text
    assert "municipalities" in docs["brief"].text


def test_unreadable_file_raises_one_clear_line_naming_it(corpus):
    bad = corpus / "broken.pdf"
    bad.write_bytes(b"%PDF-1.4 this is not really a pdf")
    with pytest.raises(DocumentError) as err:
        load_document(bad, corpus, Settings())
    message = str(err.value)
    assert message.startswith("broken.pdf: ") and "\n" not in message
    result = load_corpus(Settings(corpus_dir=corpus))
    assert [s.path for s in result.skipped] == ["broken.pdf"]
    assert len(result.documents) == 5
