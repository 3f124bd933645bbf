"""Bad input: every good file is indexed, each bad one is reported in one line, nothing is lost.

Decisions pinned here: Latin-1 (read as Windows-1252) and UTF-16 are valid text and are indexed.
A file that is mostly UTF-8 with a broken byte is refused with the line and byte: guessing another
encoding would turn its real accents into mojibake, and replacing the byte would put characters
the author never wrote into verbatim quotes. These tests are about reading files, not answer
quality: they use the deterministic `hash:64` embedder, so no model is loaded.
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

MAX_MB = 0.0625  # 64 KB: the size limit is a setting; a small one keeps the test file small
READS = ".txt, .md, .html, .htm, .pdf, .docx"


def pdf_bytes(text: str | None, password: str | None = None) -> bytes:
    from reportlab.lib import pdfencrypt
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, encrypt=pdfencrypt.StandardEncryption(password) if password else None)
    if text:
        c.drawString(72, 720, text)
    else:
        c.rect(72, 400, 300, 300, fill=1)  # a picture of a page: no text layer
    c.save()
    return buf.getvalue()


def docx_bytes(paragraphs: list[str]) -> bytes:
    import docx

    d = docx.Document()
    for p in paragraphs:
        d.add_paragraph(p)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def docx_bomb(paragraphs: int) -> bytes:
    """A small .docx whose document.xml inflates to ~35 bytes per paragraph."""
    src = zipfile.ZipFile(io.BytesIO(docx_bytes(["x"])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "word/document.xml":
                head, tail = data.split(b"<w:body>")
                data = head + b"<w:body>" + b"<w:p><w:r><w:t>a</w:t></w:r></w:p>" * paragraphs + tail
            z.writestr(item.filename, data)
    return out.getvalue()


GOOD = {
    "carers.txt": "Aldermoor council pays unpaid carers a weekly allowance of 40 pounds.\n".encode(),
    "latin1.txt": "Malm\u00f6 caf\u00e9 lunches for carers cost 45 kronor in 2019.\n".encode("latin-1"),
    "utf16.txt": "Bergen runs a respite service that gives carers two free weeks a year.\n".encode("utf-16"),
    "discharge.pdf": pdf_bytes("Tromso hospital discharge teams meet families within two days."),
    "visits.docx": docx_bytes(["Odense home care visits start within 24 hours of discharge."]),
    "esbjerg.html": b"<html><body><h1>Esbjerg</h1><p>Esbjerg pairs every discharged patient "
                 b"with a named coordinator.</p></body></html>",
}
BAD = {
    "binary.txt": bytes(range(256)) * 8,
    "deep.html": b"<html><body>" + b"<div>" * 5000 + b"lost" + b"</div>" * 5000 + b"</body></html>",
    "empty.txt": b"",
    "encrypted.pdf": pdf_bytes("Secret minutes.", password="secret"),
    "huge.txt": b"Too big to read. " * 6100,
    "invalid-utf8.txt": "Caf\u00e9 one\nCaf\u00e9 two \u2014 broken: ".encode() + b"\xff\xfe!\n",
    "malformed.pdf": b"%PDF-1.4\nthis is not really a pdf\n%%EOF\n",
    "notes.xyz": b"an unknown format",
    "scanned.pdf": pdf_bytes(None),
    "visits.md": b"# Visits\n\nSame name as visits.docx.\n",
}
REPORT = [
    "skipped binary.txt: binary file, not text",
    "skipped deep.html: HTML nested more than 256 levels deep (the parser stops there)",
    "skipped empty.txt: file is empty",
    "skipped encrypted.pdf: encrypted PDF (needs a password)",
    "skipped huge.txt: file is 101.3 KB, over the 64 KB limit (CAREQA_MAX_FILE_MB)",
    "skipped invalid-utf8.txt: invalid UTF-8 at line 2 (byte 32); re-save the file as UTF-8",
    "skipped malformed.pdf: not a readable PDF (PdfReadError: startxref not found)",
    f"skipped notes.xyz: unsupported file type '.xyz' (careqa reads {READS})",
    "skipped scanned.pdf: PDF has no text layer (scanned images?)",
    "skipped visits.md: same document id 'visits' as visits.docx; rename one of them",
]


@pytest.fixture
def bad_corpus(tmp_path, monkeypatch) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, data in {**GOOD, **BAD}.items():
        (corpus / name).write_bytes(data)
    monkeypatch.setenv("CAREQA_MAX_FILE_MB", str(MAX_MB))
    monkeypatch.setenv("CAREQA_MODEL", "hash:64")  # about reading files, not answer quality
    return corpus


def run_cli(capsys, *argv: str) -> tuple[int, list[str]]:
    from careqa.cli import main

    code = main(list(argv))
    return code, capsys.readouterr().out.splitlines()


def test_build_indexes_good_files_and_reports_each_bad_one(bad_corpus, capsys):
    from careqa.assistant import Assistant

    code, lines = run_cli(capsys, "index", "build")
    assert code == 3
    assert lines[0].startswith(f"{len(GOOD)} added, 0 changed, 0 removed, 0 unchanged; ")
    assert lines[1:] == REPORT
    assistant = Assistant()
    texts = {d.path: assistant.document(d.doc_id)["text"] for d in assistant.documents()}
    assert sorted(texts) == sorted(GOOD)
    assert "Malm\u00f6 caf\u00e9" in texts["latin1.txt"] and "two free weeks" in texts["utf16.txt"]
    assert "45 kronor" in assistant.ask("How much do carers' lunches cost in Malmö?").text


def test_update_keeps_what_was_indexed_when_a_file_goes_bad(bad_corpus, capsys):
    from careqa.assistant import Assistant

    assert run_cli(capsys, "index", "build")[0] == 3
    (bad_corpus / "discharge.pdf").write_bytes(BAD["malformed.pdf"])
    (bad_corpus / "carers.txt").write_bytes(b"\x00\x01\x02 overwritten by a binary blob")
    code, lines = run_cli(capsys, "index", "update")
    assert code == 3
    assert lines[0].startswith(f"0 added, 0 changed, 0 removed, {len(GOOD) - 2} unchanged; 0 chunks embedded")
    assert lines[1:] == sorted(REPORT + [
        "skipped carers.txt: binary file, not text; kept the version indexed before",
        "skipped discharge.pdf: not a readable PDF (PdfReadError: startxref not found); kept the version indexed before"])
    assert sorted(d.path for d in Assistant().documents()) == sorted(GOOD)
    assert "40 pounds" in Assistant().ask("How much is the Aldermoor carers allowance?").text
    code, lines = run_cli(capsys, "index", "verify")
    assert code == 1 and "problem: discharge.pdf: changed but cannot be read (not a readable PDF" in "\n".join(lines)


def test_parsing_is_bounded_in_memory_and_time(tmp_path, monkeypatch):
    from careqa.errors import DocumentError
    from careqa.load import load_document

    from careqa.config import Settings

    (tmp_path / "bomb.docx").write_bytes(docx_bomb(1_000_000))  # 130 KB inflating to 35 MB of XML
    monkeypatch.setenv("CAREQA_PARSE_MEMORY_MB", "200")
    with pytest.raises(DocumentError, match=r"^bomb.docx: parsing needs more than 200 MB of memory$"):
        load_document(tmp_path / "bomb.docx", tmp_path, Settings.from_env())
    monkeypatch.setenv("CAREQA_PARSE_MEMORY_MB", "4000")
    monkeypatch.setenv("CAREQA_PARSE_SECONDS", "0.5")
    with pytest.raises(DocumentError, match=r"^bomb.docx: parsing took longer than 0.5 s$"):
        load_document(tmp_path / "bomb.docx", tmp_path, Settings.from_env())
    (tmp_path / "fine.docx").write_bytes(docx_bytes(["The worker is fresh again after a kill."]))
    assert "fresh again" in load_document(tmp_path / "fine.docx", tmp_path, Settings.from_env()).text
