"""Calibrating the check of a model's answer: how far a cited passage must match a sentence.

Reads benchmarks/llm_support.jsonl: claims written by hand about passages of the bundled corpus,
as a model would write them (paraphrases, two sentences merged, condensed) or as it might
invent them (a related claim the passage does not make, a figure or a country swapped). Each
claim is measured against its own passage (support.support: lexical share, closest sentence
similarity, figures and places held) and, as a negative, every supported claim is measured
against every other passage. Then it searches the thresholds and prints the rates per kind.

    python benchmarks/llm_support.py [--claims benchmarks/llm_support.jsonl]
"""
from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

from careqa.assistant import Assistant
from careqa.embed import get_embedder
from careqa.evaluate import norm
from careqa.support import MIN_LEXICAL, MIN_SIMILARITY, MIN_SUPPORT, prepare, support

HERE = Path(__file__).resolve().parent
MAX_CROSS_ACCEPTED = 0.01  # a claim from another passage may pass the check at most this often


def locate(assistant: Assistant, doc: str, quote: str):
    """The passage of `doc` holding the quote."""
    for p in assistant.search(quote, k=10, docs=[doc]):
        if norm(quote) in norm(p.text):
            return p
    raise SystemExit(f"{doc}: no passage holds {quote!r}")


def measure(assistant: Assistant, items: list[dict]) -> list[dict]:
    """One row per (claim, passage) pair: own passage for every claim, other passages for supported ones."""
    encode = get_embedder(assistant.manifest["embedding_model"]).encode
    passages = {}
    for item in items:
        passages.setdefault((item["doc"], item["quote"]), locate(assistant, item["doc"], item["quote"]))
    unique = list({p.chunk_id: p for p in passages.values()}.values())
    sources = dict(zip([p.chunk_id for p in unique], prepare(unique, encode, set(range(1, len(unique) + 1)))))
    vectors = encode([item["claim"] for item in items])
    rows = []
    for item, vector in zip(items, vectors):
        own = passages[(item["doc"], item["quote"])]
        s = support(item["claim"], vector, 1, sources[own.chunk_id])
        rows.append({**item, "pair": "own", **vars(s) | {"ok": s.ok}})
        if not item["supported"]:
            continue
        for other in unique:
            overlap = other.doc_id == own.doc_id and other.start < own.end and own.start < other.end
            if other.chunk_id == own.chunk_id or overlap:
                continue
            s = support(item["claim"], vector, 1, sources[other.chunk_id])
            pair = "same-doc" if other.doc_id == own.doc_id else "other-doc"
            rows.append({**item, "supported": False, "kind": f"other passage ({pair})", "pair": pair,
                         **vars(s) | {"ok": s.ok}})
    return rows


def accepts(r: dict, sim: float, lex: float, both: float) -> bool:
    return r["numbers"] and r["places"] and r["similarity"] >= sim and r["lexical"] >= lex \
        and r["similarity"] + r["lexical"] >= both


def search(rows: list[dict]) -> tuple[float, float, float]:
    """Thresholds accepting the most supported claims while accepting at most MAX_CROSS_ACCEPTED of
    the other-passage pairs, then the fewest invented claims, then the lowest bars."""
    good = [r for r in rows if r["supported"]]
    cross = [r for r in rows if r["pair"] != "own"]
    invented = [r for r in rows if r["pair"] == "own" and not r["supported"]]
    best = None
    for sim, lex, both in itertools.product([x / 100 for x in range(30, 81, 5)], [x / 100 for x in range(20, 81, 5)],
                                            [x / 100 for x in range(60, 161, 5)]):
        if sum(accepts(r, sim, lex, both) for r in cross) > MAX_CROSS_ACCEPTED * len(cross):
            continue
        key = (sum(accepts(r, sim, lex, both) for r in good), -sum(accepts(r, sim, lex, both) for r in invented),
               -sim, -lex, -both)
        if best is None or key > best[0]:
            best = (key, (sim, lex, both))
    return best[1]


def table(rows: list[dict], sim: float, lex: float, both: float) -> None:
    kinds = list(dict.fromkeys(r["kind"] for r in rows))
    print(f"{'kind':<28} {'pairs':>5} {'supported':>9} {'accepted':>12} {'sim p10/p50/p90':>18} {'lex p10/p50/p90':>18}")
    for kind in kinds:
        sub = [r for r in rows if r["kind"] == kind]
        q = lambda key: "/".join(f"{sorted(r[key] for r in sub)[int(f * (len(sub) - 1))]:.2f}"  # noqa: E731
                                 for f in (0.1, 0.5, 0.9))
        n = sum(accepts(r, sim, lex, both) for r in sub)
        print(f"{kind:<28} {len(sub):>5} {str(sub[0]['supported']):>9} {f'{n} ({n / len(sub):.2f})':>12} "
              f"{q('similarity'):>18} {q('lexical'):>18}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--claims", default=str(HERE / "llm_support.jsonl"))
    ap.add_argument("--verbose", action="store_true", help="print every own-passage claim with its figures")
    args = ap.parse_args()
    items = [json.loads(line) for line in open(args.claims, encoding="utf-8") if line.strip()]
    rows = measure(Assistant(), items)
    if args.verbose:
        for r in rows:
            if r["pair"] == "own":
                print(f"{r['kind']:<11} sim {r['similarity']:.2f} lex {r['lexical']:.2f} num {r['numbers']:d} "
                      f"place {r['places']:d} ok {r['ok']:d}  {r['claim']}")
    print(f"{len(items)} claims, {sum(r['pair'] != 'own' for r in rows)} other-passage pairs\n")
    print(f"in use: similarity >= {MIN_SIMILARITY}, lexical >= {MIN_LEXICAL}, sum >= {MIN_SUPPORT}")
    table(rows, MIN_SIMILARITY, MIN_LEXICAL, MIN_SUPPORT)
    sim, lex, both = search(rows)
    print(f"\nsearched on all claims (at most {MAX_CROSS_ACCEPTED:.0%} of other-passage pairs accepted): "
          f"similarity >= {sim}, lexical >= {lex}, sum >= {both}")
    table(rows, sim, lex, both)
    held_out(rows)


def held_out(rows: list[dict]) -> None:
    """Two folds split by passage: thresholds searched on one fold, rates measured on the other."""
    quotes = list(dict.fromkeys(r["quote"] for r in rows))
    folds = [set(quotes[0::2]), set(quotes[1::2])]
    for i, fold in enumerate(folds):
        fitted = search([r for r in rows if r["quote"] not in fold])
        test = [r for r in rows if r["quote"] in fold]
        print(f"\nfold {i + 1}: searched on the other half -> similarity >= {fitted[0]}, lexical >= {fitted[1]}, "
              f"sum >= {fitted[2]}; rates on this half:")
        table(test, *fitted)


if __name__ == "__main__":
    sys.exit(main())
