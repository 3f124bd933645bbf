"""Documents a question names: "the Zeta brief", "according to the Omega Trust explainer".

Matching comes from each document's metadata (title, publisher, kind and an optional `short`
in sources.toml), never from names written here. A reference is a run of metadata words ending
in a word for a document ("the Zeta briefing"), the object of "according to", or the subject
of a reporting verb ("what does Omega say"); it names the documents whose metadata hold its
distinctive words (words few documents share).
"""
from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass

from .lexical import stopwords

DOC_NOUNS = frozenset(("brief", "briefing", "report", "explainer", "profile", "profiles", "paper", "review",
                       "article", "publication", "document", "page", "website", "guide", "factsheet", "summary"))
_REPORTING = (r"say|says|said|report|reports|reported|find|found|recommend|recommends|describe|describes|"
              r"propose|proposes|suggest|suggests|list|lists|note|notes|state|states|mention|mentions|argue|"
              r"argues|conclude|concludes|explain|explains|identify|identifies|highlight|highlights")
_TOKEN = re.compile(r"[A-Za-z][\w\u2019'-]*|\d+")
MAX_WORDS = 6  # "the WHO European Observatory policy brief": longer runs are sentences, not names
DISTINCTIVE_SHARE = 0.1  # a word in more than this share of documents (and in more than one) names none


@dataclass(frozen=True)
class References:
    """The documents a question names, where it names them, and those words."""

    documents: tuple[str, ...] = ()
    spans: tuple[tuple[int, int], ...] = ()
    text: str = ""


def _norm(word: str) -> str:
    return re.sub(r"['\u2019]s$", "", word.lower())


class ReferenceTable:
    """The metadata words of every document, read once per index version (a question then costs
    a few look-ups, however many documents there are): which documents hold each word, and each
    document's metadata as one lower-cased text."""

    def __init__(self, documents: dict[str, dict]):
        self.words: dict[str, set[str]] = {}
        self.texts: dict[str, str] = {}
        self.holders: dict[str, list[str]] = {}
        for doc_id, meta in documents.items():
            short = meta.get("short", "")
            short = " ".join(short) if isinstance(short, list) else str(short)
            text = " ".join(str(meta.get(k, "")) for k in ("title", "publisher", "kind")) + f" {short}"
            self.texts[doc_id] = " ".join(_norm(w) for w in _TOKEN.findall(text.replace("-", " ")))
            self.words[doc_id] = {_norm(w) for w in _TOKEN.findall(f"{text} {doc_id}".replace("-", " "))}
            for w in self.words[doc_id]:
                self.holders.setdefault(w, []).append(doc_id)
        self.limit = max(1, int(DISTINCTIVE_SHARE * len(self.words)))
        self.order = {d: i for i, d in enumerate(self.words)}

    def count(self, word: str) -> int:
        return len(self.holders.get(word, ()))

    def holding(self, words) -> list[str]:
        """Documents whose metadata hold any of the words, in index order."""
        return sorted({d for w in words for d in self.holders.get(w, ())}, key=self.order.__getitem__)

    def holding_all(self, words: list[str]) -> list[str]:
        """Documents whose metadata hold every one of the words, in index order."""
        rarest = min(words, key=self.count)
        return [d for d in self.holders.get(rarest, ()) if all(w in self.words[d] for w in words)]


def _candidates(question: str, known: Container[str]) -> list[tuple[int, int]]:
    """Spans that may name documents (see the module docstring)."""
    tokens = list(_TOKEN.finditer(question))
    stop = stopwords()
    spans = []
    for i, t in enumerate(tokens):
        if _norm(t.group()) not in DOC_NOUNS:
            continue
        j, end = i, i
        while j > 0 and i - j < MAX_WORDS - 1 and _norm(tokens[j - 1].group()) in known:
            j -= 1
        while j < i and _norm(tokens[j].group()) in stop:
            j += 1
        while end + 1 < len(tokens) and tokens[end + 1].group().isdigit() and tokens[end + 1].group() in known:
            end += 1  # "Policy Brief 62"
        spans.append((tokens[j].start(), tokens[end].end()))
    for m in re.finditer(r"\baccording to\s+(?:the\s+)?(.{1,60}?)(?=[,?.;]|$)", question, re.I):
        spans.append((m.start(1), m.end(1)))
    for m in re.finditer(r"\b(?:when|as|where|since|after|before)\s+(?:the\s+)?((?:[A-Z][\w\u2019'-]*\s+){1,%d}?)(?:%s)\b"
                         % (MAX_WORDS, _REPORTING), question):
        spans.append((m.start(1), m.end(1) - 1))  # "when LTCcovid reported on it"
    for m in re.finditer(r"\b(?:does|do|did)\s+(?:the\s+)?((?:[\w\u2019'-]+\s+){1,%d}?)(?:%s)\b"
                         % (2 * MAX_WORDS, _REPORTING), question, re.I):
        start = m.start(1)
        for part in re.split(r"(\s+and\s+(?:the\s+)?)", question[start:m.end(1) - 1]):  # "the brief and the Trust"
            if part and not re.fullmatch(r"\s+and\s+(?:the\s+)?", part):
                spans.append((start, start + len(part)))
            start += len(part)
    return spans


def find_references(question: str, documents: dict[str, dict], table: ReferenceTable | None = None) -> References:
    """The documents the question names, the spans naming them, and those words (`table`: the
    documents' ReferenceTable, when the caller keeps one). A span naming no document as a whole
    may name one on either side of an "and" ("the Omega Trust and the Zeta brief")."""
    table = table or ReferenceTable(documents)
    found: dict[str, None] = {}
    used: dict[tuple[int, int], None] = {}
    for a, b in _candidates(question, table.holders):
        whole = _named(question, a, b, table)
        cuts = [] if whole else [m.span() for m in re.finditer(r"\s+and\s+(?:the\s+)?", question[a:b])]
        edges = [a] + [a + x for c in cuts for x in c] + [b]
        for x, y in zip(edges[::2], edges[1::2]):
            chosen = whole or (_named(question, x, y, table) if cuts else [])
            if chosen:
                used[(x, y)] = None
                found.update(dict.fromkeys(chosen))
    return References(tuple(found), tuple(sorted(used)), "; ".join(question[a:b] for a, b in sorted(used)))


def _named(question: str, a: int, b: int, table: ReferenceTable) -> list[str]:
    """The documents question[a:b] names: those whose metadata hold its distinctive words."""
    stop = stopwords()
    phrase = [_norm(w) for w in _TOKEN.findall(question[a:b])]
    named = [w for w in phrase if w not in stop and w not in DOC_NOUNS]
    proper = any(w[:1].isupper() or w.isdigit() for w in _TOKEN.findall(question[a:b]) if a > 0 or w != question.split()[0])
    if not proper and not any(w in DOC_NOUNS for w in phrase):
        return []  # "what did the evaluation find": a common noun, not a document's name
    if named:
        if any(w not in table.holders for w in named):
            return []  # a word no metadata holds: the phrase names something else
        said = " ".join(phrase)
        distinctive = [w for w in named if table.count(w) <= table.limit]
        # only documents holding a distinctive word, or every named word, can score
        scoring = sorted(set(table.holding(distinctive) + table.holding_all(named)), key=table.order.__getitem__)
        hits = {d: sum(w in table.words[d] for w in distinctive) + (said in table.texts[d]) for d in scoring}
        best = max(hits.values(), default=0)
        return [d for d, n in hits.items() if n == best and n > 0 and all(w in table.words[d] for w in named)]
    before = question[:a].rstrip().lower()
    nouns = [w for w in phrase if w in DOC_NOUNS]
    chosen = table.holding(nouns) if before.endswith(("the", "this")) else []
    return chosen if len(chosen) <= table.limit else []
