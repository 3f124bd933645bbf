"""Validate the careqa question sets dev, heldout and fresh to fresh4 .jsonl (standard library only).

Checks: required fields, kind names, unique ids and questions across all files, no evidence quote
shared between two files, evidence quotes verbatim in the named corpus file (after whitespace
normalisation, 10-30 words), every fact alternative present in an evidence document within WINDOW
characters of a quote, unanswerable questions with no evidence or facts, history only (and
always) on follow-up questions, and the minimum count per kind. Prints one line per problem and
exits 1 if there is any.

    python benchmarks/questions/check.py [corpus_dir]
"""
import json
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parent.parent / "corpus"
KINDS = ["definition", "which-entity", "list", "comparison", "number", "finding", "how-why",
         "yes-no", "paraphrase", "adjective", "document-reference", "follow-up", "two-passage",
         "heading-only", "look-up", "unanswerable"]
MINIMUM = {"dev": (6, 18), "heldout": (4, 12), "fresh": (5, 15), "fresh2": (0, 8), "fresh3": (0, 4), "fresh4": (0, 8)}  # per kind, unanswerable
FIELDS = {"id", "kind", "question", "answerable", "evidence", "facts"}
WINDOW = 3000


def norm(text):
    return re.sub(r"\s+", " ", text).strip().lower()


docs = {p.stem: norm(p.read_text(encoding="utf-8")) for p in CORPUS.glob("*.txt")}
problems, ids, questions, quote_file = [], set(), set(), {}


def near(fact, doc, quote):
    """True if fact occurs within WINDOW characters of some occurrence of quote in doc."""
    text, start = docs[doc], docs[doc].find(quote)
    while start >= 0:
        if fact in text[max(0, start - WINDOW):start + len(quote) + WINDOW]:
            return True
        start = text.find(quote, start + 1)
    return False


for name in MINIMUM:
    path = HERE / f"{name}.jsonl"
    kinds = Counter()
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        where = f"{name}.jsonl:{n}"
        try:
            q = json.loads(line)
        except json.JSONDecodeError as e:
            problems.append(f"{where}: bad JSON ({e})")
            continue
        missing, extra = FIELDS - q.keys(), q.keys() - FIELDS - {"history"}
        if missing or extra:
            problems.append(f"{where}: missing fields {sorted(missing)}, unknown fields {sorted(extra)}")
            continue
        where = f"{name}.jsonl:{n} ({q['id']})"
        kinds[q["kind"]] += 1
        if q["kind"] not in KINDS:
            problems.append(f"{where}: unknown kind {q['kind']!r}")
        if q["id"] in ids:
            problems.append(f"{where}: duplicate id")
        if norm(q["question"]) in questions:
            problems.append(f"{where}: duplicate question")
        ids.add(q["id"])
        questions.add(norm(q["question"]))
        if ("history" in q) != (q["kind"] == "follow-up"):
            problems.append(f"{where}: history must be present exactly on follow-up questions")
        if q["answerable"] != (q["kind"] != "unanswerable"):
            problems.append(f"{where}: answerable must be false exactly for kind unanswerable")
        if not q["answerable"]:
            if q["evidence"] or q["facts"]:
                problems.append(f"{where}: unanswerable question with evidence or facts")
            continue
        if not q["evidence"] or not q["facts"]:
            problems.append(f"{where}: answerable question without evidence or facts")
        quotes = []
        for ev in q["evidence"]:
            doc, quote = ev.get("doc"), norm(ev.get("quote", ""))
            if doc not in docs:
                problems.append(f"{where}: unknown doc {doc!r}")
            elif quote not in docs[doc]:
                problems.append(f"{where}: quote not in {doc}: {ev['quote'][:60]!r}")
            else:
                quotes.append((doc, quote))
                if quote_file.setdefault(quote, name) != name:
                    problems.append(f"{where}: quote also used in {quote_file[quote]}.jsonl: {ev['quote'][:60]!r}")
            if not 10 <= len(quote.split()) <= 30:
                problems.append(f"{where}: quote has {len(quote.split())} words (want 10-30)")
        if q["kind"] == "two-passage" and len(q["evidence"]) < 2:
            problems.append(f"{where}: two-passage question needs two evidence quotes")
        for group in q["facts"] if quotes else []:
            for alt in group:
                if not any(near(norm(alt), d, qt) for d, qt in quotes):
                    problems.append(f"{where}: fact {alt!r} not found near the evidence")
    for kind in KINDS:
        want = MINIMUM[name][1] if kind == "unanswerable" else MINIMUM[name][0]
        if kinds[kind] < want:
            problems.append(f"{name}.jsonl: only {kinds[kind]} {kind} questions (want {want})")
    print(f"{name}: {sum(kinds.values())} questions; " + ", ".join(f"{k} {kinds[k]}" for k in KINDS),
          file=sys.stderr)

for p in problems:
    print(p)
sys.exit(1 if problems else 0)
