"""Question analysis on tiny fixtures: kinds, entities with aliases, document references, focus,
follow-ups. No model: a fake index gives term counts, abbreviations and document metadata."""
from __future__ import annotations

import pytest

from careqa.aliases import find_places, harvest_abbreviations
from careqa.followup import rewrite
from careqa.lexical import terms
from careqa.question import analyse, question_kind
from careqa.references import find_references

TEXT = ("Rapid Home Support Teams (RHSTs) visit patients. The Westshire Care Fund pools budgets. "
        "Sickness funds pay a bonus. Health boards plan care. Health services and care homes. Health matters.")


class FakeIndex:
    """What analysis reads from an index: document metadata, abbreviations and term counts."""

    def __init__(self, text: str = TEXT, documents: dict | None = None):
        self.passages = [set(terms(s)) for s in text.split(". ")]
        self.abbreviations = harvest_abbreviations(text)
        self.documents = documents or {
            "zeta-brief": {"title": "Discharge in practice (Zeta policy brief)", "publisher": "Zeta Institute",
                           "kind": "policy brief"},
            "omega-review": {"title": "Pooled budgets reviewed", "publisher": "Omega Trust", "kind": "web explainer"},
        }

    @property
    def num_chunks(self) -> int:
        return len(self.passages)

    def doc_frequency(self, term: str) -> int:
        return sum(term in p for p in self.passages)


@pytest.mark.parametrize("question, kind", [
    ("Compare Sweden and Denmark on discharge", "comparison"),
    ("How does the Dutch model differ from the German one?", "comparison"),
    ("Which country fines municipalities for delayed discharges?", "which-entity"),
    ("Who is responsible for care plans?", "which-entity"),
    ("What does Westshire council pay carers?", "other"),  # a body named before the verb is not asked for
    ("What are the barriers to integration?", "list"),
    ("What financial barriers stand in the way?", "list"),
    ("How much does the bonus pay?", "number"),
    ("Roughly how many teams were set up?", "number"),
    ("When was the fund created?", "number"),
    ("What did the evaluation find?", "finding"),
    ("What were the results of the pilot?", "finding"),
    ("Why was the region divided into zones?", "how-why"),
    ("Do municipalities pay for delayed discharges?", "yes-no"),
    ("What is a care trust?", "definition"),
    ("What does RHST stand for?", "definition"),
    ("Which of the twelve strategies concern training?", "list"),  # a pick from a list
    ("What does the brief say about how much research has looked at outcomes?", "other"),  # an extent
    ("How far did the authors think integration had got?", "how-why"),
    ("What did the review achieve?", "finding"),
    ("Under people and relationships, which barriers are listed?", "list"),  # the main clause decides
    ("Which government policies make joint working harder?", "list"),  # "government" qualifies the asked noun
    ("According to the Zeta brief, which country fines municipalities?", "which-entity"),
    ("How much was known about the white paper's contents?", "other"),  # an extent, not a figure
    ("How much was spent on the pilot?", "number"),
])
def test_question_kinds(question, kind):
    assert question_kind(question) == kind


def test_what_something_was_meant_to_achieve_is_its_aim_not_a_finding():
    assert question_kind("What was the review meant to achieve, and who led it?") != "finding"


def test_adjectives_and_demonyms_resolve_to_their_country():
    for said, name in [("German", "Germany"), ("Dutch", "Netherlands"), ("Welsh", "Wales"),
                       ("Scottish", "Scotland"), ("Japanese", "Japan"), ("Chinese", "China")]:
        places = find_places(f"How do {said} sickness funds pay?")
        assert [p.name for _, _, p in places] == [name], said
    analysis = analyse("How do German sickness funds reward discharge plans?", FakeIndex())
    germany = analysis.entities[0]
    assert (germany.name, germany.type, germany.said) == ("Germany", "place", "German")
    assert "Germany" in germany.aliases and "German" in germany.aliases
    assert "german" not in analysis.focus and "sick" in " ".join(analysis.focus)
    for said, name in [("Israelis", "Israel"), ("Germans", "Germany"), ("New Zealanders", "New Zealand"),
                       ("America", "United States")]:
        assert [p.name for _, _, p in find_places(f"Why do {said} get seamless care?")] == [name], said
    assert find_places("How is care joined up in Latin America?") == []  # data/places.toml: not after "Latin"


def test_the_asked_noun_and_names_come_from_the_main_clause_and_the_name_itself():
    analysis = analyse("Apart from the Zeta-funded project, which network supports the brief?", FakeIndex())
    assert (analysis.kind, analysis.asked) == ("which-entity", "network")
    assert [e.said for e in analysis.entities] == ["Zeta"]  # "Zeta-funded" names Zeta


def test_an_age_is_a_figure_and_a_pick_from_a_list_has_its_criterion():
    analysis = analyse("What age range would the Headstart programme cover?", FakeIndex())
    assert (analysis.kind, analysis.measure) == ("number", "count")
    pick = analyse("Which of the twelve strategies concern workforce training?", FakeIndex())
    assert pick.kind == "list" and set(pick.criterion) == {"concern", "workforc", "train"}
    assert analyse("What strategies concern workforce training?", FakeIndex()).criterion == ()


def test_lower_case_words_and_codes_the_documents_define_are_not_places():
    assert [p.name for _, _, p in find_places("We ate turkey in Norway.")] == ["Norway"]
    assert [p.name for _, _, p in find_places("how are japanese hospitals paid")] == ["Japan"]
    assert find_places("How does IT support care?", frozenset({"IT"})) == []
    assert [p.name for _, _, p in find_places("What is the UK doing?")] == ["United Kingdom"]


def test_abbreviations_harvested_from_the_text_are_entities_with_their_long_form():
    index = FakeIndex()
    assert index.abbreviations["RHST"] == "Rapid Home Support Teams"
    analysis = analyse("Who works in an RHST?", index)
    entity = next(e for e in analysis.entities if e.type == "abbreviation")
    assert entity.name == "Rapid Home Support Teams" and "RHST" in entity.aliases
    named = analyse("How are Rapid Home Support Teams staffed?", index)
    assert "RHST" in next(e for e in named.entities if e.type == "name").aliases
    lower = analyse("How many rapid home support teams are there?", index)  # a long form in lower case too
    assert {"RHST", "RHSTs"} <= set(lower.entities[0].aliases) and "rapid" not in lower.focus
    spelled = FakeIndex("Accountable care organizations (ACOs) share savings. Plans. Boards. Funds. Teams.")
    british = analyse("What do accountable care organisations share?", spelled)  # either spelling
    assert "ACO" in british.entities[0].aliases


def test_each_side_of_a_comparison_of_figures_keeps_its_own_words():
    from careqa.question import side_focus

    analysis = analyse("How does the number of health boards in Sweden compare with the pooled budgets of Norway?",
                       FakeIndex())
    assert (analysis.kind, analysis.measure, analysis.compared) == ("comparison", "count", ("Sweden", "Norway"))
    sweden, norway = side_focus(analysis, "Sweden"), side_focus(analysis, "Norway")
    assert "board" in sweden and "pool" not in " ".join(sweden)
    assert "board" not in norway and "pool" in " ".join(norway)


def test_names_join_across_of_and_for_but_not_and():
    analysis = analyse("Is the Westshire Care Fund open to the Department of Health?", FakeIndex())
    assert [e.name for e in analysis.entities] == ["Westshire Care Fund", "Department of Health"]
    pair = analyse("How do the Wuhan and Shanghai models differ?", FakeIndex())
    assert [e.name for e in pair.entities] == ["Wuhan", "Shanghai"] and pair.compared == ("Wuhan", "Shanghai")


def test_a_common_capitalised_word_is_a_topic_not_a_name():
    analysis = analyse("What does Health mean for the Westshire Care Fund?", FakeIndex())
    assert [e.name for e in analysis.entities] == ["Westshire Care Fund"]


def test_document_references_come_from_metadata():
    docs = FakeIndex().documents
    assert find_references("What does the Zeta brief say about pooling?", docs).documents == ("zeta-brief",)
    assert find_references("According to the Omega Trust explainer, what is pooled?", docs).documents == ("omega-review",)
    assert find_references("What does the policy brief recommend?", docs).documents == ("zeta-brief",)
    assert find_references("What did the published report conclude?", docs).documents == ()
    assert find_references("What does Omega say about budgets?", docs).documents == ("omega-review",)
    assert find_references("What was known when Omega reported on it?", docs).documents == ("omega-review",)
    both = find_references("What is pooled, according to the Omega Trust and the Zeta brief?", docs)
    assert set(both.documents) == {"omega-review", "zeta-brief"} and both.text == "Omega Trust; Zeta brief"
    analysis = analyse("What does the Zeta brief say about pooled budgets?", FakeIndex())
    assert analysis.documents == ("zeta-brief",) and "zeta" not in analysis.focus and analysis.entities == ()


def test_comparisons_list_each_compared_place_and_counts_name_what_they_count():
    analysis = analyse("Compare Sweden and Denmark on discharge coordination", FakeIndex())
    assert analysis.kind == "comparison" and analysis.compared == ("Sweden", "Denmark")
    joined = analyse("How do Taiwan and South Korea promote integration?", FakeIndex())
    assert joined.kind == "how-why" and joined.compared == ("Taiwan", "South Korea")
    count = analyse("How many local projects were set up since 2018?", FakeIndex())
    assert (count.kind, count.measure, count.counted) == ("number", "count", "project")
    money = analyse("How much funding does the fund provide each year?", FakeIndex())
    assert money.measure == "money"


def test_the_sides_of_a_comparison_are_what_stands_either_side_of_compare_with():
    """A place on one side and a name on the other (with another name beside it) are still the
    two sides; several after the comparator are each a side."""
    mixed = analyse("How do results in Portugal compare with those of Jönköping's Esther project?", FakeIndex())
    assert mixed.kind == "comparison" and mixed.compared == ("Portugal", "Jönköping")
    three = analyse("How does Sweden compare with Denmark and Norway on discharge?", FakeIndex())
    assert three.compared == ("Sweden", "Denmark", "Norway")


def test_a_misspelled_name_in_the_documents_is_found_one_letter_away():
    index = FakeIndex("Studies in Vittorio Venteto found fewer admissions. Health matters.")
    entity = analyse("What happened in Vittorio Veneto?", index).entities[0]
    assert "Vittorio Venteto" in entity.aliases


def test_follow_ups_are_rewritten_with_what_they_point_back_to():
    index = FakeIndex()
    assert rewrite("How is it funded?", ["What is the Westshire Care Fund?"], index) == \
        "How is the Westshire Care Fund funded?"
    assert rewrite("Who are its members?", ["What is the Westshire Care Fund?"], index) == \
        "Who are the Westshire Care Fund's members?"
    assert rewrite("What about Denmark?", ["How does Norway incentivise discharge?"], index) == \
        "How does Denmark incentivise discharge?"
    assert rewrite("How is the Westshire Care Fund funded?", ["What is a care trust?"], index) == \
        "How is the Westshire Care Fund funded?"
    assert rewrite("How is it funded?", [], index) == "How is it funded?"
    assert rewrite("Who takes part in the leading ones?", ["What does the Zeta brief say about Norway's care hubs?"],
                   index) == "Who takes part in the leading ones of Norway's care hubs?"
    assert rewrite("What will it cost?", ["What was the Westshire Care Fund meant to achieve?"], index) == \
        "What will the Westshire Care Fund cost?"


def test_codes_are_names_the_evidence_must_hold():
    analysis = analyse("Which province has adopted the 0-7-90-90 rule?", FakeIndex())
    assert [(e.name, e.type) for e in analysis.entities] == [("0-7-90-90", "name")]
    from careqa.speaks import text_mentions
    assert text_mentions("the 0\u20137\u201390\u201390 rule of Sweden", analysis.entities[0])


def test_a_compound_question_splits_into_its_questions():
    from careqa.question import split_compound

    assert split_compound("When was the fund created, and what does it do?") == \
        ["When was the fund created?", "What does it do?"]
    assert split_compound("What is the Better Care Fund and what is it used for?") == \
        ["What is the Better Care Fund?", "What is it used for?"]
    assert split_compound("How do Sweden and Denmark pay?") == ["How do Sweden and Denmark pay?"]


def test_a_later_part_naming_someone_but_no_place_is_asked_where_the_first_part_put_it():
    from careqa.followup import in_context

    first = "What was Norway's review meant to achieve?"
    assert in_context("How far did Hennan think integration had got?", first, FakeIndex()) == \
        "How far did Hennan think integration had got in Norway?"
    assert in_context("How common is full integration?", first, FakeIndex()) == "How common is full integration?"
    assert in_context("What did Hennan find in Denmark?", first, FakeIndex()) == "What did Hennan find in Denmark?"


def test_provinces_are_places_within_their_country_unless_part_of_a_longer_name():
    from careqa.aliases import find_subplaces

    assert [(p.name, p.within) for _, _, p in find_subplaces("In Ontario and Quebec, one ministry")] == \
        [("Ontario", "Canada"), ("Quebec", "Canada")]
    assert find_subplaces("Studies in Vittorio Veneto found fewer admissions") == []


def test_the_project_question_sets_are_valid_against_the_bundled_corpus():
    """Every quote verbatim in its document, every fact near its quote, kinds and counts as stated."""
    import subprocess
    import sys
    from pathlib import Path

    check = Path(__file__).resolve().parent.parent / "benchmarks" / "questions" / "check.py"
    done = subprocess.run([sys.executable, str(check)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
