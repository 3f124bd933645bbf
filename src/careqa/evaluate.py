"""Scoring careqa on a question file (the format of shared/eval/questions.jsonl)."""
from __future__ import annotations

import json
import re
import time
import unicodedata
from pathlib import Path

from .errors import CareqaError

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                         "\u2013": "-", "\u2014": "-", "\u00a0": " "})


def norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").translate(_QUOTES)
    return re.sub(r"\s+", " ", text.lower()).strip()


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9%]+", norm(text))


def holds(passage: dict, evidence: dict, n: int = 4) -> bool:
    """A passage holds evidence when it is from its document and has half the quote's 4-grams."""
    if evidence["doc"] not in passage.get("doc_id", ""):
        return False
    q, p = _words(evidence["quote"]), _words(passage.get("text", ""))
    if len(q) < n:
        return " ".join(q) in " ".join(p)
    grams = {tuple(q[i:i + n]) for i in range(len(q) - n + 1)}
    have = {tuple(p[i:i + n]) for i in range(len(p) - n + 1)}
    return len(grams & have) / len(grams) >= 0.5


def read_questions(path: Path) -> list[dict]:
    rows = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise CareqaError(f"{path}: cannot read question file ({exc.strerror})") from None
    for no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            row["question"], row.setdefault("answerable", True)
        except (json.JSONDecodeError, KeyError, TypeError):
            raise CareqaError(f"{path}:{no}: not a question object with a \"question\" field") from None
        row.setdefault("id", str(no))
        rows.append(row)
    if not rows:
        raise CareqaError(f"{path}: no questions in the file")
    return rows


def evaluate(assistant, questions: list[dict], k: int = 5) -> dict:
    """Retrieval and answer figures over the questions, averaged like shared/eval/score.py,
    overall and per `kind` when the questions have one."""
    per, latencies = [], []
    for q in questions:
        started = time.perf_counter()
        result = assistant.ask(q["question"], k=k, history=q.get("history")).to_dict()
        latencies.append(time.perf_counter() - started)
        passages, cited = result["passages"], result["citations"]
        row = {"id": q["id"], "kind": q.get("kind", ""), "answerable": q["answerable"],
               "abstained": result["abstained"]}
        evidence = q.get("evidence") or []
        if q["answerable"] and evidence:
            row["recall"] = sum(any(holds(p, e) for p in passages[:k]) for e in evidence) / len(evidence)
            first = next((i for i, p in enumerate(passages) if any(holds(p, e) for e in evidence)), None)
            row["rr"] = 0.0 if first is None else 1.0 / (first + 1)
            row["cited"] = float(any(holds(p, e) for p in cited for e in evidence))
        if q["answerable"] and q.get("facts"):
            answer = norm(result["answer"])
            row["facts"] = sum(any(norm(a) in answer for a in g) for g in q["facts"]) / len(q["facts"])
        per.append(row)
    latencies.sort()
    kinds = sorted({r["kind"] for r in per if r["kind"]})
    return {**figures(per, k), "p50_ms": 1000 * latencies[len(latencies) // 2], "rows": per,
            "kinds": {kind: figures([r for r in per if r["kind"] == kind], k) for kind in kinds}}


def figures(rows: list[dict], k: int) -> dict:
    """The scorer's figures over some rows (nan where a figure has no question)."""
    def mean(key, subset):
        vals = [r[key] for r in subset if key in r]
        return sum(vals) / len(vals) if vals else float("nan")

    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    return {
        "questions": len(rows),
        f"recall@{k}": mean("recall", answerable),
        "mrr": mean("rr", answerable),
        "cited": mean("cited", answerable),
        "facts": mean("facts", answerable),
        "answered": sum(not r["abstained"] for r in answerable) / len(answerable) if answerable else float("nan"),
        "abstained_unanswerable": (sum(r["abstained"] for r in unanswerable) / len(unanswerable)
                                   if unanswerable else float("nan")),
    }
