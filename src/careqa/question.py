"""Question analysis: what kind of answer a question wants, what it names, and what it is about.

The result, an Analysis, is read by retrieval and composition and shown in `--json`, so a wrong
answer can be traced to a wrong reading of the question. Everything here comes from the shape
of English questions, the place names of a data package and the index's own metadata and
abbreviations: nothing about particular documents or questions.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from .lexical import terms
from .names import FRAME, Entity, find_entities, tables, without
from .references import find_references

KINDS = ("definition", "which-entity", "list", "comparison", "number", "finding", "how-why", "yes-no", "other")

_AUX = r"(?:do|does|did|is|are|was|were|has|have|had|can|could|will|would|should|must|may|might|shall)"
_ENTITY_NOUNS = (r"(?:countr(?:y|ies)|nations?|states?|provinces?|regions?|cit(?:y|ies)|municipalit(?:y|ies)|"
                 r"count(?:y|ies)|territor(?:y|ies)|bod(?:y|ies)|organi[sz]ations?|agenc(?:y|ies)|boards?|"
                 r"councils?|governments?|departments?|ministr(?:y|ies)|authorit(?:y|ies)|institutions?|"
                 r"partners?|trusts?|networks?)")
_FINDING = re.compile(
    r"\b(?:find|found|finds|show|showed|shown|shows|conclude|concluded|concludes|reveal|revealed|"
    r"results?|outcomes?|effects?|impacts?|evidence|evaluat\w*|achiev\w*|work(?:ed)?\s*\?|effective\w*|success\w*)\b", re.I)
_AUXILIARY = r"(?:is|are|was|were|do|does|did|has|have|had|can|could|will|would|should|must|may)\b"
_RESULTS_ASKED = re.compile(r"\b(?:the|its|their|any|what) (?:\w+ )?(?:results?|outcomes?|effects?|impacts?|findings?|"
                            r"achievements?)\b", re.I)  # "the (reported) results of X", not "turned into results"
_RESULT_SUBJECT = re.compile(r"\b(?:evaluation|study|studies|review|research|report|survey|analysis|trial|pilot|"
                             r"evidence|assessment|audit|researchers|authors)\b", re.I)
_LIST_NOUNS = re.compile(
    r"\b(?:barriers|enablers|strategies|factors|principles|steps|measures|options|elements|components|features|"
    r"types|levels|forms|lessons|challenges|benefits|priorities|aims|areas|ways|approaches|themes|categories|"
    r"models|tools|actions|recommendations|objectives|goals|functions|services|initiatives|programmes|programs|"
    r"reforms|mechanisms|characteristics|criteria|dimensions|drivers|obstacles|problems|issues|roles|"
    r"responsibilities|examples|key messages|messages|conditions|groups|topics|things|reasons|policies)\b", re.I)
_MONEY = re.compile(r"\b(?:cost|costs|budget|budgets|funding|fund|spend|spending|spent|pay|paid|price|fee|fees|"
                    r"money|amount|invest\w*|financ\w*|worth|allowance|fine|grant|grants)\b", re.I)
_COUNT_WORDS = r"\d+|a|dozen|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelv\w*|\w+teen|\w+ty"


@dataclass(frozen=True)
class Analysis:
    """What the question asks for (kind), names (entities), refers to (documents) and is about."""

    question: str
    kind: str
    entities: tuple[Entity, ...] = ()
    documents: tuple[str, ...] = ()
    reference: str = ""
    focus: tuple[str, ...] = ()
    measure: str = ""
    counted: str = ""
    asked: str = ""
    compared: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def places(self) -> list[Entity]:
        return [e for e in self.entities if e.type == "place"]

    @property
    def criterion(self) -> tuple[str, ...]:
        """For "which of the (twelve) strategies concern training?", the focus terms that pick
        items out of a list ("train"); () when the question asks for a whole list."""
        if self.kind != "list" or not re.match(r"\s*(?:which|what) of\b", self.question, re.I):
            return ()
        asked = set(terms(self.asked))
        return tuple(t for t in self.focus if t not in asked and not re.fullmatch(_COUNT_WORDS, t))

    @property
    def wants_results(self) -> bool:
        """Whether the answer must report a result: a finding question, or one asking for results,
        outcomes or effects ("how do the results in X compare with Y?")."""
        return self.kind == "finding" or self.kind != "how-why" and bool(_RESULTS_ASKED.search(self.question))


def main_clause(q: str) -> str:
    """The question in lower case without a leading phrase ("Under people and relationships, which
    barriers ...", "Apart from X, which network ..."): its kind and asked noun are the main clause's."""
    return re.sub(r"^(?:in|under|for|according to|within|across|among|at|from|on|besides|apart from|beyond|after|"
                  r"before|during|since|outside)\b[^,?]{1,80},\s*(?=(?:what|which|who|how|why|when|where)\b)", "",
                  q.strip().lower())


def question_kind(q: str) -> str:
    """The kind of answer a question wants, from its wording (first match wins, most specific first)."""
    s = main_clause(q)
    lead = r"(?:(?:in|at|for|by|from|under|to|with|of) )?"
    if re.search(r"\b(?:compare|comparison|versus|vs\.?|contrast|differ|differs|difference|differences|"
                 r"compared (?:with|to)|unlike)\b", s):
        return "comparison"
    extent = re.search(r"\bhow much (?!(?:of|per|more|less|" + _AUX + r")\b)([a-z]+)", s) or re.search(
        r"\bhow much (?:is|was|has been|had been|have been) (known|understood|achieved|done|learn\w*|agreed|decided)\b", s)
    if extent and not _MONEY.match(extent.group(1)):
        s = s.replace(extent.group(0), "to what extent")  # "how much research has ...": an extent, not a figure
    if re.search(r"\bhow (?:much|many|long|often|old|large|big)\b", s) or re.match(
            r"(?:what (?:percentage|proportion|share|fraction|number|amount|sum|budget|cost|year|date|age)|when\b|"
            r"what (?:is|was|are|were) the (?:\w+ )?(?:budget|cost|number|amount|size|share|percentage|proportion|"
            r"total|price|fee|rate|figure)s?\b|what (?:is|was|are|were) the (?:maximum|minimum|average|typical) \w+|"
            r"in what year|by how much|on what date|since when|until when|what (?:reduction|increase|decrease|"
            r"rise|fall|drop|growth|saving|savings|change) (?:in|of)\b)", s):
        return "number"
    # "which (Swedish) council ...", not "what does Aldermoor council pay": the noun comes before any verb
    if re.match(lead + r"(?:which|what) (?:(?!" + _AUXILIARY + r")\w+ ){0,2}?" + _ENTITY_NOUNS + r"\b(?! "
                + _LIST_NOUNS.pattern + ")", s) \
            or re.match(r"who\b", s):
        if not re.match(r"who (?:is|are|was|were)\b", s) or re.search(r"\b(?:responsible|behind|in charge)\b", s):
            return "which-entity"
    aim = re.search(r"\b(?:meant|aim(?:ed|s)?|intended|designed|supposed|planned|expected|hoped|set up|trying) to\b", s)
    if (_RESULT_SUBJECT.search(s) and _FINDING.search(s) and not aim) or re.match(
            r"what (?:were|are|was|have been|has been) the (?:\w+ )?(?:results?|outcomes?|effects?|impacts?|findings?)"
            r"|what (?:results?|outcomes?|effects?|impacts?|difference)\b"
            r"|what (?:did|do|does|has|have) .*\b(?:find|found|conclude|show|reveal)\b", s):
        return "finding"
    if re.match(lead + r"(?:what|which) (?:of )?(?:are |were |have |do )?(?:the |some |its |their |these |those )?"
                r"(?:[\w'’-]+ ){0,3}?"
                + _LIST_NOUNS.pattern, s) or re.match(r"(?:list|name) ", s):
        return "list"
    if re.match(_AUX + r"\b", s):
        return "yes-no"
    if re.match(r"(?:how|why)\b", s):
        return "how-why"
    if re.match(r"what (?:is|are|was|were) (?:meant by .*|(?:an? |the )?[^,;]{1,60}\?)$|what does .* (?:mean|stand for)|"
                r"define\b|what do(?:es)? .* refer to", s) and not re.search(r"\b(?:doing|happen\w*)\b", s):
        return "definition"
    return "other"


_TIME_UNITS = re.compile(r"\bhow many (?:\w+ )?(?:days|weeks|months|years|decades|hours|minutes)\b|"
                         r"\b(?:maximum|minimum|average|typical) (?:wait|waiting|stay|time|delay|duration)\b")


def measure_asked(q: str) -> str:
    """For a number question, the kind of figure asked for: money, percent, year, duration or count."""
    s = q.lower()
    if _TIME_UNITS.search(s):
        return "duration"
    if re.search(r"\b(?:percentage|proportion|share|per ?cent|fraction|rate)\b", s):
        return "percent"
    if re.match(r"\s*(?:when|in what year|what year|on what date|since when|until when|what date)\b", s):
        return "year"
    if re.search(r"\bhow (?:long|often)\b", s):
        return "duration"
    if re.search(r"\bhow old\b|\bage (?:range|group|band|limit)s?\b|\bwhat ages?\b", s):
        return "count"  # an age or age range: any number ("0-5 year olds")
    if re.search(r"\bhow many\b|\bwhat number\b|\bnumber of\b", s):
        return "count"
    if re.search(r"\bhow much\b|\bwhat (?:amount|sum|budget|cost)\b", s) and not re.search(r"\bby how much\b", s):
        return "money" if _MONEY.search(s) else "amount"
    return "amount"


def counted_noun(q: str) -> str:
    """The head noun of "how many X" (stemmed), what a figure must be a count of; '' otherwise."""
    m = re.search(r"\bhow many ((?:[\w-]+ ){0,4}?)([\w-]+)(?=[,?;]| (?:are|were|is|was|have|has|had|do|does|"
                  r"did|will|would|can|could|in|of|for|per|took|take|been|there|from|on|at|with|by|across|under|"
                  r"and|or|that|which|who)\b|$)", q.lower())
    if not m:
        return ""
    words = (m.group(1) + m.group(2)).split()
    plural = next((w for w in words if w.endswith("s") and not w.endswith("ss")), words[-1])
    found = terms(plural)
    return found[0] if found else ""


def analyse(question: str, index) -> Analysis:
    """Read a question against the index: its abbreviations, documents' metadata and term counts
    (`index` offers abbreviations, documents, doc_frequency and num_chunks, as StoredIndex does)."""
    kind = question_kind(question)
    refs = find_references(question, index.documents, tables(index).references)
    masked = without(question, refs.spans)
    entities, covered = find_entities(masked, index)
    if kind == "list" and _asked_noun(question, kind) and any(
            _asked_noun(question, kind) in e.said.lower() for e in entities):
        kind = "definition"  # "What are Family Medicine Groups?" names a thing, not a list
    entity_words = {t for e in entities for t in terms(e.said)}
    frame = set(terms(" ".join(FRAME)))
    if kind == "which-entity":
        frame |= set(terms(_asked_noun(question, kind)))
    focus = [t for t in dict.fromkeys(terms(without(masked, covered)))
             if t not in entity_words and t not in frame]
    # a comparison of figures ("the number of X compared with Y") prefers sentences holding one
    figures = kind == "comparison" and re.search(r"\b(?:number of|how (?:many|much)|costs?|spend\w*|budgets?|"
                                                 r"percentage|proportion|share of)\b", question, re.I)
    measure = measure_asked(question) if kind == "number" or figures else ""
    compared = _compared(question, kind, entities)
    if kind == "comparison" and len(compared) < 2:
        kind = "other"
    return Analysis(question, kind, tuple(entities), refs.documents, refs.text, tuple(focus), measure,
                    counted_noun(question) if measure == "count" else "", _asked_noun(question, kind), compared)


def _compared(question: str, kind: str, entities: list[Entity]) -> tuple[str, ...]:
    """The entities asked about each in its own right, so each needs its own evidence: in a
    comparison, all of one type (else all); elsewhere, places joined by and/or ("Taiwan and
    South Korea")."""
    if kind == "comparison":
        sides = _sides(question, entities)
        if sides:
            return sides
        for type_ in ("place", "name", "abbreviation"):
            same = [e.name for e in entities if e.type == type_]
            if len(same) >= 2:
                return tuple(same)
        return tuple(e.name for e in entities) if len(entities) >= 2 else ()
    places = sorted(((question.find(e.said), e) for e in entities if e.type == "place"), key=lambda x: x[0])
    joined: list[Entity] = []
    for (a, e), (b, prev) in zip(places[1:], places):
        gap = question[b + len(prev.said):a].lower()
        if re.fullmatch(r"(?:['\u2019]s)?\s*(?:,|,?\s*and|,?\s*or|&|/)\s*(?:(?:in|for|of|to)\s+)?(?:the\s+)?", gap):
            joined += [x for x in (prev, e) if x not in joined]
    return tuple(e.name for e in joined) if len(joined) >= 2 else ()


_COMPARATOR = re.compile(r"\b(?:compared?|comparing|contrasts?|contrasted) (?:with|to|against)\b|\b(?:versus|vs\.?)"
                         r"(?=\s)|\bdiffers? from\b", re.I)


def _sides(question: str, entities: list[Entity]) -> tuple[str, ...]:
    """The entities of "X compared with Y": one from before the comparator, those after it, by
    the type both sides share (places before names), else the first on each side; () when
    either side names none."""
    m = _COMPARATOR.search(question)
    if not m:
        return ()
    left = [e for e in entities if 0 <= question.find(e.said) < m.start()]
    right = [e for e in entities if question.find(e.said) >= m.end()]
    if not left or not right:
        return ()
    for type_ in ("place", "name", "abbreviation"):
        ours, theirs = [e for e in left if e.type == type_], [e for e in right if e.type == type_]
        if ours and theirs:
            return tuple(dict.fromkeys(e.name for e in [ours[0], *theirs]))
    return tuple(dict.fromkeys((left[0].name, right[0].name)))


def side_focus(analysis: Analysis, name: str) -> tuple[str, ...]:
    """The focus terms of one side of "X compared with Y": the question's, less those only the
    other side holds ("the number of ACOs in the US compared with care groups in the Netherlands");
    the whole question's focus when it has no such sides."""
    m = _COMPARATOR.search(analysis.question)
    if not m or len(analysis.compared) != 2 or name not in analysis.compared:
        return analysis.focus
    left, right = set(terms(analysis.question[:m.start()])), set(terms(analysis.question[m.end():]))
    own, other = (left, right) if name == analysis.compared[0] else (right, left)
    return tuple(t for t in analysis.focus if t in own or t not in other)  # the other side's words go


def _asked_noun(question: str, kind: str) -> str:
    """For which-entity and list questions, the noun naming what is asked for ("country")."""
    s = main_clause(question)
    if kind == "which-entity":
        m = re.match(r"(?:in |at |for |by |from |under )?(?:which|what) (?:\w+ ){0,2}?(" + _ENTITY_NOUNS + r")\b", s)
        return m.group(1) if m else "who"
    if kind == "list":
        m = _LIST_NOUNS.search(s)
        return m.group(0) if m else ""
    return ""


_COMPOUND = re.compile(r"(?:,?\s+and|;)\s+(?=(?:what|how|who|when|which|why|where|is|are|does|do|did)\b)", re.I)


def split_compound(question: str) -> list[str]:
    """The questions a compound question asks ("When was X created, and what does it do?"), each
    on its own, later parts with what they point back to filled in from the first; the question
    itself when it asks one thing."""
    parts = [p.strip(" ,;?") for p in _COMPOUND.split(question)]
    parts = [p for p in parts if len(p.split()) >= 3]
    if len(parts) < 2:
        return [question]
    return [p[:1].upper() + p[1:] + "?" for p in parts]
