"""Answers of each shape the answerer produces (Answer.to_dict()), built by hand for exact
rendering and export tests: a list, a comparison with one side missing, a follow-up."""
from __future__ import annotations

DOC = "zorbland-care-review"
TITLE = "Zorbland care review"
# A text whose sentences hold Markdown- and HTML-like characters: they must read exactly as here.
TEXT = ("Zorbland care review\n\n"
        "Barriers\n\n"
        "Budgets are split between councils and hospitals.\n"
        "Staff data is kept in [separate](systems) (see annex 2) <b>unlinked</b>.\n"
        "Eastland\n\n"
        "Eastland pays councils a bonus for every week of home care.\n"
        "The last sentence of the review is here.")


def span(sentence: str) -> tuple[int, int]:
    start = TEXT.index(sentence)
    return start, start + len(sentence)


def sentence(text: str, n: int, lead: str = "") -> dict:
    start, end = span(text)
    return {"text": text, "n": n, "doc_id": DOC, "start": start, "end": end, "lead": lead}


def passage(first: str, last: str, rank: int, section: str, score: float, url: str = "") -> dict:
    start, end = span(first)[0], span(last)[1]
    return {"chunk_id": f"{DOC}#{rank}", "doc_id": DOC, "path": f"{DOC}.txt", "title": TITLE,
            "publisher": "Zorbland Institute", "date": "2031", "section": section, "text": TEXT[start:end],
            "start": start, "end": end, "score": score, "dense": score / 2, "lexical": score * 3, "rank": rank,
            "url": url}


def citation(n: int, p: dict, sentences: list[dict]) -> dict:
    return {"n": n, **p, "highlights": [[s["start"], s["end"]] for s in sentences]}


def answer(question: str, blocks: list[dict], passages: list[dict], citations: list[dict], kind: str,
           rewritten: str = "") -> dict:
    flat = [s for b in blocks for s in b["sentences"]]
    text = " ".join(f"{s['text']} [{s['n']}]" for s in flat)
    return {"question": question, "rewritten": rewritten, "answer": text, "abstained": False, "reason": "",
            "kind": kind, "filters": {"k": 5, "docs": [], "section": ""}, "analysis": {}, "blocks": blocks,
            "sentences": flat, "citations": citations, "passages": passages, "diagnostics": {"similarity": 0.42}}


BARRIERS = passage("Budgets are split", "<b>unlinked</b>.", 1, f"{TITLE} > Barriers", 0.9,
                   url="https://example.org/zorbland?page=2&part=barriers")
EASTLAND = passage("Eastland pays", "The last sentence of the review is here.", 2, f"{TITLE} > Eastland", 0.45)
SPLIT = "Budgets are split between councils and hospitals."
STAFF = "Staff data is kept in [separate](systems) (see annex 2) <b>unlinked</b>."
BONUS = "Eastland pays councils a bonus for every week of home care."


def list_answer() -> dict:
    quoted = [sentence(SPLIT, 1), sentence(STAFF, 1)]
    block = {"heading": "", "style": "list", "note": "", "sentences": quoted}
    return answer("What are the barriers?", [block], [BARRIERS, EASTLAND], [citation(1, BARRIERS, quoted)], "list")


def comparison_answer() -> dict:
    bonus = sentence(BONUS, 1, lead="Eastland")
    blocks = [{"heading": "Eastland", "style": "paragraph", "note": "", "sentences": [bonus]},
              {"heading": "Westland", "style": "paragraph", "note": "The documents say nothing about Westland.",
               "sentences": []}]
    return answer("Compare Eastland and Westland", blocks, [EASTLAND, BARRIERS], [citation(1, EASTLAND, [bonus])],
                  "comparison")


def follow_up_answer() -> dict:
    bonus = sentence(BONUS, 1, lead="Eastland")
    block = {"heading": "", "style": "paragraph", "note": "", "sentences": [bonus]}
    return answer("How is it paid?", [block], [EASTLAND], [citation(1, EASTLAND, [bonus])], "how-why",
                  rewritten="How is Eastland home care paid?")


def abstained_answer() -> dict:
    result = answer("What does Mars pay for?", [], [EASTLAND, BARRIERS], [], "finding")
    result.update(abstained=True, reason="The documents say nothing about Mars.", answer="")
    return result


def document() -> dict:
    """What Assistant.document returns for the document above."""
    heading = span("Eastland\n\n")
    return {"doc_id": DOC, "path": f"{DOC}.txt", "title": TITLE, "publisher": "Zorbland Institute",
            "date": "2031", "kind": "review", "url": BARRIERS["url"], "short": "", "text": TEXT,
            "headings": [["Eastland", 1.0, heading[0], heading[0] + len("Eastland")]]}
