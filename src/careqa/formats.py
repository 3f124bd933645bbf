"""Text extraction per file format. Each returns the text shown to users and its headings."""
from __future__ import annotations

import io
import re
from dataclasses import dataclass

from .clean import Heading, clean_text, find_headings
from .errors import DocumentError


@dataclass
class Extracted:
    text: str
    headings: list[Heading]
    title: str = ""


def decode_text(data: bytes) -> str:
    """Bytes to str: BOMs, UTF-8, UTF-16 without BOM, then Windows-1252/Latin-1; binary refused."""
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(codec)
            except UnicodeDecodeError as exc:
                raise DocumentError(f"not valid {codec.upper()} text ({exc.reason} at byte {exc.start})") from None
    sample = data[:4096]
    if sample.count(b"\x00") > len(sample) // 4:
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        codec = "utf-16-le" if odd > even else "utf-16-be"
        if max(even, odd) > 0.8 * (len(sample) // 2):
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                pass
    if b"\x00" in sample:
        raise DocumentError("binary file, not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        utf8_error = exc
    if re.search(rb"[\xc2-\xf4][\x80-\xbf]", data):
        line = data.count(b"\n", 0, utf8_error.start) + 1
        raise DocumentError(f"invalid UTF-8 at line {line} (byte {utf8_error.start}); "
                            "re-save the file as UTF-8")
    text = data.decode("cp1252", errors="replace")
    controls = sum(1 for c in text[:4096] if ord(c) < 32 and c not in "\t\n\r\f")
    if controls > 0.05 * min(len(text), 4096):
        raise DocumentError("binary file, not text")
    return text


def _plain(text: str, markdown: bool = False) -> Extracted:
    cleaned = clean_text(text)
    headings = find_headings(cleaned.text)
    if markdown:
        headings = [h for h in headings if cleaned.text.startswith("#", h.start)] or headings
    return Extracted(cleaned.text, headings)


MAX_HTML_DEPTH = 256  # libxml2's limit without XML_PARSE_HUGE, which stays off

_BLOCK = {"p", "div", "section", "article", "main", "header", "footer", "aside", "li", "ul", "ol",
          "table", "tr", "td", "th", "br", "blockquote", "pre", "dd", "dt", "dl", "figure",
          "figcaption", "h1", "h2", "h3", "h4", "h5", "h6", "nav", "hr"}
_SKIP = {"script", "style", "noscript", "template", "head", "svg", "nav"}


class _TextBuilder:
    """Text assembled from an HTML walk: spaces collapsed, blocks separated by blank lines,
    headings recorded with their offsets."""

    def __init__(self):
        self.out: list[str] = []
        self.length = 0
        self.headings: list[Heading] = []
        self.open_headings: list[tuple[int, int]] = []

    def emit(self, s: str) -> None:
        if not s:
            return
        s = re.sub(r"\s+", " ", s)
        if (not self.out or self.out[-1].endswith(("\n", " "))) and s.startswith(" "):
            s = s[1:]
        self.out.append(s)
        self.length += len(s)

    def block_break(self) -> None:
        while self.out and self.out[-1].endswith(" "):
            self.out[-1] = self.out[-1][:-1]
            self.length -= 1
        if self.out and not self.out[-1].endswith("\n\n"):
            add = "\n" if self.out[-1].endswith("\n") else "\n\n"
            self.out.append(add)
            self.length += len(add)

    def close_heading(self) -> None:
        level, start = self.open_headings.pop()
        text = "".join(self.out)
        end = len(text.rstrip())
        lead = len(text[start:end]) - len(text[start:end].lstrip())
        if text[start + lead:end].strip():
            self.headings.append(Heading(" ".join(text[start + lead:end].split()), float(level), start + lead, end))

    def result(self, title: str) -> Extracted:
        whole = "".join(self.out)
        shift = len(whole) - len(whole.lstrip("\n "))
        headings = sorted((Heading(h.title, h.level, h.start - shift, h.end - shift) for h in self.headings),
                          key=lambda h: h.start)
        return Extracted(whole.strip("\n "), headings, title)


_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


def _html(data: bytes) -> Extracted:
    """Walk the tree iteratively (deep nesting cannot overflow the stack), collapsing spaces."""
    from lxml import etree, html

    parser = html.HTMLParser(recover=True, huge_tree=False)
    try:
        root = html.document_fromstring(data, parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise DocumentError(f"not readable HTML ({exc})") from None
    if any(e.type == etree.ErrorTypes.ERR_RESOURCE_LIMIT for e in parser.error_log):
        raise DocumentError(f"HTML nested more than {MAX_HTML_DEPTH} levels deep (the parser stops there)")
    title_el = root.find(".//title")
    title = " ".join((title_el.text_content() if title_el is not None else "").split())
    text = _TextBuilder()
    skip_depth = 0
    for event, el in etree.iterwalk(root, events=("start", "end")):
        tag = el.tag if isinstance(el.tag, str) else ""
        if event == "start":
            skip_depth += tag in _SKIP
            if skip_depth:
                continue
            if tag in _BLOCK:
                text.block_break()
            if tag in _HEADINGS:
                text.open_headings.append((int(tag[1]), text.length))
            text.emit(el.text or "")
            continue
        if tag in _SKIP:
            skip_depth -= 1
            if not skip_depth:
                text.emit(el.tail or "")
            continue
        if skip_depth:
            continue
        if tag in _HEADINGS and text.open_headings:
            text.close_heading()
        if tag in _BLOCK:
            text.block_break()
        text.emit(el.tail or "")
    return text.result(title)


def _pdf(data: bytes) -> Extracted:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except Exception:
                ok = 0
            if not ok:
                raise DocumentError("encrypted PDF (needs a password)")
        if not len(reader.pages):
            raise DocumentError("not a readable PDF (no pages)")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = str((reader.metadata or {}).get("/Title") or "")
    except DocumentError:
        raise
    except (PdfReadError, Exception) as exc:
        raise DocumentError(f"not a readable PDF ({type(exc).__name__}: {str(exc)[:80]})") from None
    if not "".join(pages).strip():
        raise DocumentError("PDF has no text layer (scanned images?)")
    extracted = _plain("\n\n".join(pages))
    extracted.title = title
    return extracted


def _docx(data: bytes) -> Extracted:
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:
        raise DocumentError(f"not a readable .docx ({type(exc).__name__})") from None
    parts: list[str] = []
    headings: list[Heading] = []
    pos = 0
    for para in document.paragraphs:
        text = " ".join(para.text.split())
        if not text:
            continue
        style = (para.style.name if para.style is not None else "") or ""
        m = re.match(r"Heading (\d)", style)
        if m or style == "Title":
            headings.append(Heading(text, float(m.group(1)) if m else 0.5, pos, pos + len(text)))
        parts.append(text)
        pos += len(text) + 2
    for table in document.tables:
        for row in table.rows:
            text = " | ".join(" ".join(c.text.split()) for c in row.cells)
            parts.append(text)
            pos += len(text) + 2
    title = document.core_properties.title or ""
    return Extracted("\n\n".join(parts), headings, title)


def extract(data: bytes, ext: str) -> Extracted:
    """Extracted text of a file's bytes by extension; DocumentError when it cannot be read."""
    if ext in (".html", ".htm"):
        return _html(data)
    if ext == ".pdf":
        return _pdf(data)
    if ext == ".docx":
        return _docx(data)
    return _plain(decode_text(data), markdown=ext == ".md")
