"""Question analysis: what kind of answer a question wants, what it names, and what it is about.

The result, an Analysis, is read by retrieval and composition and shown in `--json`, so a wrong
answer can be traced to a wrong reading of the question. Everything here comes from the shape
of English questions, the place names of a data package and the index's own metadata and
abbreviations: nothing about particular documents or questions.
"""
from __future__ import annotations

import calendar
import re
import threading
import weakref
from dataclasses import asdict, dataclass, field

from .aliases import find_places, find_subplaces
from .lexical import stopwords, terms
from .references import ReferenceTable, find_references

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
_FRAME = {"tell", "describe", "explain", "list", "name", "give", "say", "says", "said", "mean", "meant",
          "stand", "compare", "compared", "comparison", "versus", "vs", "difference", "differences", "differ",
          "please", "much", "many", "kind", "type", "sort", "whose", "according", "roughly", "approximately",
          "documents", "sources"}  # "what do the documents say about X": X is the topic
_COUNT_WORDS = r"\d+|a|dozen|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelv\w*|\w+teen|\w+ty"
_CALENDAR = {w.lower() for w in (*calendar.month_name, *calendar.day_name) if w}


@dataclass(frozen=True)
class Entity:
    """Something a question names: a place, an abbreviation, or a proper name (a programme, body,
    fund, case study). `aliases` are the forms to look for in passages, `said` its words."""

    name: str
    aliases: tuple[str, ...]
    type: str
    said: str
    within: str = ""  # for a province or state, its country (a passage about the country may do)


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
    masked = _without(question, refs.spans)
    entities, covered = find_entities(masked, index)
    if kind == "list" and _asked_noun(question, kind) and any(
            _asked_noun(question, kind) in e.said.lower() for e in entities):
        kind = "definition"  # "What are Family Medicine Groups?" names a thing, not a list
    entity_words = {t for e in entities for t in terms(e.said)}
    frame = set(terms(" ".join(_FRAME)))
    if kind == "which-entity":
        frame |= set(terms(_asked_noun(question, kind)))
    focus = [t for t in dict.fromkeys(terms(_without(masked, covered)))
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


def _without(text: str, spans: list[tuple[int, int]], fill: str = " ") -> str:
    """The text with the spans blanked out (offsets kept)."""
    for a, b in sorted(spans, reverse=True):
        text = text[:a] + fill * (b - a) + text[b:]
    return text


_CAPITALISED = re.compile(r"[A-Z][\w\u2019'&-]*")
_CODE = re.compile(r"(?<![\w-])(?:\d+(?:[-\u2013]\d+){2,}|[A-Za-z]+\d+\w*)(?![\w-])")  # "0-7-90-90", "Health2020"
_CONNECTOR = re.compile(r"^\s+(?:of|for|de|the|du|la|et|von|van)\s+$|^\s+$|^-$")
COMMON_NAME_SHARE = 0.08  # a one-word "name" in more passages than this is a topic word ("Health"), not a name
_ACRONYM = re.compile(r"\b[A-Z][A-Z&]{1,6}s?\b")


_TABLES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_TABLES_LOCK = threading.Lock()


@dataclass(frozen=True)
class IndexTables:
    """What analysis looks up in an index, built once per loaded version (not per question): the
    documents' metadata words, the abbreviations defined, and each long form's abbreviation."""

    references: ReferenceTable
    defined: frozenset[str]
    shorts: dict[str, str]
    long_forms: re.Pattern | None = None  # any long form the documents define, in lower or title case


def _either_spelling(form: str) -> str:
    """A pattern for the form in British or American spelling ("organisations"/"organizations")."""
    return re.sub(r"i[sz](?=e|ation|ing)", "i[sz]", re.escape(form))


def _long_form_pattern(shorts: dict[str, str]) -> re.Pattern | None:
    forms = sorted((f for f in shorts if len(f.split()) > 1), key=len, reverse=True)
    return re.compile(r"(?<![\w-])(?:" + "|".join(_either_spelling(f) for f in forms) + r")s?(?![\w-])", re.I) \
        if forms else None


def _spelled(text: str) -> str:
    return re.sub(r"is(?=e|ation|ing)", "iz", text.lower())


def tables(index) -> IndexTables:
    with _TABLES_LOCK:
        found = _TABLES.get(index)
        if found is None:
            abbreviations = index.abbreviations
            shorts = {_spelled(v): k for k, v in abbreviations.items()}
            found = _TABLES[index] = IndexTables(ReferenceTable(index.documents), frozenset(abbreviations), shorts,
                                                 _long_form_pattern(shorts))
        return found


def find_entities(question: str, index) -> tuple[list[Entity], list[tuple[int, int]]]:
    """Places (with their adjectives), abbreviations and proper names a question names, in the
    order it names them (each once), and the character spans they cover."""
    defined = tables(index).defined
    found: list[tuple[int, Entity]] = []
    spans: list[tuple[int, int]] = []
    for a, b, place in sorted(find_places(question, defined) + find_subplaces(question), key=lambda x: x[0]):
        if not any(a < y and x < b for x, y in spans):
            spans.append((a, b))
            found.append((a, Entity(place.name, tuple(dict.fromkeys((*place.forms, *place.codes))), "place",
                                    question[a:b], place.within)))
    for m in _CODE.finditer(question):
        if not any(m.start() < y and x < m.end() for x, y in spans):
            spans.append((m.start(), m.end()))
            found.append((m.start(), Entity(m.group(), (m.group(),), "name", m.group())))
    long_forms = tables(index).long_forms
    for m in long_forms.finditer(question) if long_forms else ():
        # "accountable care organizations": a long form the documents define is its abbreviation too
        if not any(m.start() < y and x < m.end() for x, y in spans):
            spans.append((m.start(), m.end()))
            found.append((m.start(), _named(m.group(), index)))
    common = COMMON_NAME_SHARE * max(index.num_chunks, 1)
    for a, b in _names(_without(question, spans, "#")):
        said = question[a:b].strip()
        if " " in said or _ACRONYM.fullmatch(said) or any(index.doc_frequency(t) <= common for t in terms(said)):
            spans.append((a, b))
            found.append((a, _named(said, index)))
    found.sort(key=lambda x: x[0])
    unique: dict[str, Entity] = {}
    for _, e in found:
        unique.setdefault(e.name, e)
    return list(unique.values()), spans


def _named(said: str, index) -> Entity:
    """An abbreviation (with the long form the documents give it) or a proper name (with its
    abbreviation, or the spelling the documents use)."""
    abbreviations = index.abbreviations
    if _ACRONYM.fullmatch(said):
        long = abbreviations.get(said) or abbreviations.get(said.rstrip("s"))
        return Entity(long or said, tuple(dict.fromkeys((said, said.rstrip("s")) + ((long,) if long else ()))),
                      "abbreviation", said)
    shorts = tables(index).shorts
    short = shorts.get(_spelled(said)) or shorts.get(_spelled(said).rstrip("s"))
    variant = spelling_variant(said, index)
    return Entity(said, (said,) + ((short, f"{short}s") if short else ()) + ((variant,) if variant else ()), "name", said)


MIN_VARIANT_LENGTH = 5  # shorter words have too many one-letter neighbours to guess a misspelling ...
MIN_LONE_VARIANT_LENGTH = 8  # ... and a one-word name needs a longer word ("Rovereto", not "Martian")


def _edits(word: str) -> set[str]:
    """Words one deletion, insertion, substitution or transposition away (Norvig's edits1)."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return ({a + b[1:] for a, b in splits if b} | {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
            | {a + c + b[1:] for a, b in splits if b for c in letters} | {a + c + b for a, b in splits for c in letters})


def spelling_variant(name: str, index) -> str:
    """The name as the documents misspell it ("Vittorio Venteto" for Vittorio Veneto), when a
    word of it never occurs but exactly one word a letter away does; '' otherwise."""
    words = name.split()
    shortest = MIN_VARIANT_LENGTH if len(words) > 1 else MIN_LONE_VARIANT_LENGTH
    for i, word in enumerate(words):
        low = word.lower()
        if len(low) < shortest or not low.isalpha() or any(index.doc_frequency(t) for t in terms(low)):
            continue
        found = {e for e in _edits(low) if (t := terms(e)) and index.doc_frequency(t[0]) > 0}
        if len(found) == 1:
            variant = found.pop()
            return " ".join(words[:i] + [variant[:1].upper() + variant[1:] if word[:1].isupper() else variant]
                            + words[i + 1:])
    return ""


def _names(question: str) -> list[tuple[int, int]]:
    """Spans of proper names: runs of capitalised words joined by 'of', 'for', 'and' when a
    capitalised word follows; the question's first word only when it is possessive or an acronym."""
    stop = stopwords()
    words = [m for m in _CAPITALISED.finditer(question)
             if m.group().lower().rstrip("s") not in stop and m.group().lower() not in stop
             and m.group().lower() not in _FRAME]
    words = [m for m in words if m.group().lower() not in _CALENDAR]
    if words and not question[:words[0].start()].strip():
        first = words[0].group()
        if not (re.fullmatch(r"[\w-]+['\u2019]s", first) or _ACRONYM.fullmatch(first)):
            words = words[1:]
    runs: list[list[int]] = []
    for m in words:
        previous = question[runs[-1][0]:runs[-1][1]] if runs else ""
        if runs and _CONNECTOR.match(question[runs[-1][1]:m.start()]) and not _ACRONYM.fullmatch(m.group()) \
                and not _ACRONYM.fullmatch(previous) and not re.search(r"['\u2019]s$", previous):
            runs[-1][1] = m.end()
        else:
            runs.append([m.start(), m.end()])
    out = []
    for a, b in runs:
        text = question[a:b]
        trimmed = re.sub(r"['\u2019]s$|['\u2019\u201d\"]+$", "", text)
        trimmed = re.sub(r"-(?:funded|led|based|run|backed|wide|style|owned|sponsored|supported|managed)$", "", trimmed)
        out.append((a, a + len(trimmed)))  # "NIHR-funded" names NIHR
    return out


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
