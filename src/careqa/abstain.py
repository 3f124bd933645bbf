"""When the documents do not answer a question, and how to say why in plain words.

Word overlap alone never decides. The checks, in order: a passage within the filters at all; an
entity the question names that the documents never mention (or not within the filters); a pair
the question puts together (a programme and a place) that no passage speaks of together; a
number question with no figure of the asked kind; and last, how closely the best grounded
sentence matches the question in meaning and terms, calibrated on paraphrased and unanswerable
questions written for the purpose (benchmarks/questions).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .compose import place_of
from .evidence import Sentence, needs_antecedent
from .question import Analysis, Entity
from .records import Passage
from .speaks import grounds, text_mentions

MIN_RELEVANCE = 0.5  # best grounded sentence: cosine + W_COVER x coverage of focus terms and entities; see the issue note
MIN_FIGURE_RELEVANCE = 0.55  # a sentence holding the asked figure must still be about the question
MIN_TOPIC = 0.25  # ... and hold this share of the focus terms itself, when the question names no programme
_EVALUATION = re.compile(r"\b(?:evaluations?|evaluated|study|studies|review|research|trials?|pilots?|surveys?|"
                         r"assessments?|audits?|analys[ie]s|findings|results|consultations?)\b", re.I)  # "what did the evaluation find" needs a result

_STUDY = re.compile(r"\b(?:evaluations?|evaluated|study|studies|review|research|trials?|surveys?|assessments?|audits?)\b",
                    re.I)  # a question about a study's findings, not results in general


@dataclass
class Verdict:
    """An abstention's plain-language reason ('' when answering) and the figures behind it."""

    reason: str = ""
    figures: dict | None = None


def titles(docs: list[str], documents: dict[str, dict]) -> str:
    names = [documents[d]["title"] if d in documents else d for d in docs]
    return "the document " + " and ".join(f"\u201c{n}\u201d" for n in names)


def missing(analysis: Analysis, where, scope: str, within) -> str:
    """The reason when an entity is never mentioned (anywhere, or within the filters)."""
    absent = [e for e in analysis.entities if not where(e)]
    if absent and not (analysis.compared and len(absent) < len(analysis.compared)
                       and all(e.name in analysis.compared for e in absent)):
        return f"The documents never mention {_names(absent, analysis.question)}."
    outside = [e for e in analysis.entities if e.name not in analysis.compared and not within(e)]
    if outside:
        return f"{scope[:1].upper()}{scope[1:]} {'never mentions' if scope.startswith('the document') else 'mentions'} " \
               f"{_names(outside, analysis.question)}."
    return ""


def unpaired(analysis: Analysis, where) -> str:
    """The reason when a place and a programme, body or other name the question puts together
    never appear together: "The documents describe the Better Care Fund only for England"."""
    places = [e for e in analysis.entities if e.type == "place" and e.name not in analysis.compared]
    names = [e for e in analysis.entities if e.type != "place" and e.name not in analysis.compared]
    for n in names:
        found = where(n)
        for place in places:
            if found and not any(grounds(p, place) for p in found):
                elsewhere = sorted({x for p in found if (x := place_of(p.section) or place_of(p.title))})
                return (f"The documents describe {_the(analysis.question, n.said)} only for {' and '.join(elsewhere[:3])}; "
                        f"they say nothing about it for {place.name}.")
    return ""


def on_topic(s: Sentence, analysis: Analysis, context: str = "") -> bool:
    """Whether a sentence is about what the question asks of: it (or its section, or `context`:
    the sentence "This ..." points back to) names every programme, body or name the question
    does, or, failing such names, holds enough of its terms."""
    named = [e for e in analysis.entities if e.type != "place" and e.name not in analysis.compared]
    if named:
        return all(text_mentions(s.text, e) or text_mentions(s.passage.section, e) or
                   (context and text_mentions(context, e)) for e in named)
    return s.own >= MIN_TOPIC


def evaluated(quotable: list[Sentence], analysis: Analysis) -> list[Sentence]:
    """For "what did the evaluation of X find", the sentences that say a finding came from an
    evaluation or study, themselves or in the sentence before ("The evaluation found ...", "A study
    ... Results included ..."), not "A report shows that X was set up"; otherwise all of them."""
    if not _STUDY.search(analysis.question):
        return quotable
    return [s for s in quotable if any(x is not None and _EVALUATION.search(x.text) for x in (s, s.previous or s.before))]


def about_document(analysis: Analysis) -> bool:
    """A question about a document itself ("When did Policy Brief 62 come out?"): it names the
    document and little else, so its words cannot be looked for in the text."""
    return bool(analysis.documents) and len(analysis.focus) <= 1 and not analysis.entities


def supported(quotable: list[Sentence], analysis: Analysis, mark: str, itself: bool = False) -> bool:
    """A sentence with the mark ("figure", "result") that is relevant and on the question's topic."""
    def topical(s: Sentence) -> bool:  # "This found that ..." is on the topic its antecedent names
        antecedent = s.previous or s.before
        if needs_antecedent(s) and antecedent is not None:
            return on_topic(s, analysis, antecedent.text) or on_topic(antecedent, analysis)
        return on_topic(s, analysis)

    return any(getattr(s, mark) and (itself or s.relevance >= MIN_FIGURE_RELEVANCE and topical(s)) for s in quotable)


def _the(question: str, said: str) -> str:
    """A name as the question puts it, with its article: "the Better Care Fund"."""
    return f"the {said}" if re.search(rf"\bthe {re.escape(said)}", question, re.I) else said


def _names(entities: list[Entity], question: str = "") -> str:
    said = [_the(question, e.said) for e in entities]
    return said[0] if len(said) == 1 else ", ".join(said[:-1]) + " or " + said[-1]


def judge(analysis: Analysis, passages: list[Passage], grounded: list[Sentence], where, within,
          scope: str) -> Verdict:
    """Whether to abstain, and why. `where(entity)` gives passages anywhere that mention it;
    `within(entity)` whether one within the filters does."""
    if not passages:
        return Verdict("No passage matches the filters.")
    reason = missing(analysis, where, scope, within) or unpaired(analysis, where)
    if reason:
        return Verdict(reason)
    quotable = [s for s in grounded if s.quotable]
    if not quotable:
        names = [e for e in analysis.entities if e.name not in analysis.compared]
        return Verdict(f"No passage speaks of {_names(names)}." if names else "No passage answers this question.")
    best = max(quotable, key=lambda s: s.relevance)
    figures = {"best_similarity": round(best.dense, 3), "best_coverage": round(best.coverage, 3),
               "best_relevance": round(best.relevance, 3), "min_relevance": MIN_RELEVANCE}
    about = [e.said for e in analysis.entities if e.name not in analysis.compared]
    itself = about_document(analysis)
    if not analysis.compared and not itself and best.relevance < MIN_RELEVANCE:
        where_text = f"The passages about {' and '.join(about)}" if about else "The closest passages"
        return Verdict(f"{where_text} do not answer this question.", figures)
    if analysis.kind == "number" and not supported(quotable, analysis, "figure", itself):
        return Verdict("The documents give no figure for this.", figures)
    if analysis.kind == "finding" and _EVALUATION.search(analysis.question) and not supported(
            evaluated(quotable, analysis), analysis, "result", itself):
        return Verdict("The documents report no findings on this.", figures)
    return Verdict("", figures)
