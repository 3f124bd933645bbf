"""Answers from the real model over a tiny corpus written for these tests: each capability of the
answer stage (adjectives, abbreviations, document references, lists, comparisons, meta and
pronoun sentences, follow-ups, numbers, abstention) on text whose right answer is known."""
from __future__ import annotations

import pytest

PROFILES = """# Discharge planning: country profiles

## Germany

Sickness funds pay a bonus of 40 euros for each discharge plan agreed before a patient leaves hospital. Hospitals report their waiting times to the funds every quarter.

## Portugal

Municipal teams visit every patient within two days of discharge. The Lisbon Care Compact funds the visits from pooled budgets.

## England

The Westshire Care Fund pools health and social care budgets in three counties. It pays for reablement after a hospital stay.
"""

BRIEF = """Working together on discharge

This briefing highlights the key enablers of safe discharge from hospital.

Shared electronic records are the key enabler of safe discharge, because every team sees the same plan.

Rapid Home Support Teams (RHSTs) were created in 2019 to help older people home from hospital. Each RHST includes a nurse, a physiotherapist and a social worker. The teams are funded by a levy on hospital trusts.

The review of discharge named four barriers:

- Late referrals from hospital wards
- Unclear responsibility for transport home
- Shortages of care workers at weekends
- Records that cannot be shared between teams

The Ostrava pilot followed 400 patients for two years. It found that readmissions fell by a third.
"""

EXPLAINER = """Pooled budgets explained

Pooled budgets let councils and health bodies spend from one pot. Critics say pooled budgets blur accountability.
"""

SOURCES = """["brief.txt"]
title = "Working together on discharge (Zeta briefing)"
publisher = "Zeta Institute"
date = "2023"

["explainer.txt"]
title = "Pooled budgets explained"
publisher = "Omega Trust"
kind = "web explainer"
"""


def assistant_over(root, files: dict[str, str]):
    """An Assistant over the files written into root/corpus, indexed with the real model."""
    from careqa.assistant import Assistant
    from careqa.config import Settings

    (root / "corpus").mkdir()
    for name, text in files.items():
        (root / "corpus" / name).write_text(text, encoding="utf-8")
    assistant = Assistant(Settings(corpus_dir=root / "corpus", index_root=root / "index"))
    assistant.build()
    return assistant


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """An Assistant over the three documents above."""
    return assistant_over(tmp_path_factory.mktemp("tiny"), {"profiles.md": PROFILES, "brief.txt": BRIEF,
                                                             "explainer.txt": EXPLAINER, "sources.toml": SOURCES})


def verbatim(assistant, answer) -> None:
    """Every answer sentence is a span of the document and of the passage it cites."""
    cited = {c.n: c.passage for c in answer.citations}
    for s in answer.sentences:
        assert assistant.document(s.doc_id)["text"][s.start:s.end] == s.text
        assert cited[s.n].start <= s.start and s.end <= cited[s.n].end and s.text in cited[s.n].text
        assert f"[{s.n}]" in answer.text


def test_an_adjective_finds_its_country_and_leads_the_answer(tiny):
    answer = tiny.ask("How do German sickness funds reward discharge plans?")
    assert not answer.abstained and "40 euros" in answer.text
    assert answer.analysis["entities"][0]["name"] == "Germany"
    verbatim(tiny, answer)


def test_which_country_names_the_country_its_section_gives(tiny):
    answer = tiny.ask("Which country pays a bonus for discharge plans agreed before patients leave hospital?")
    assert not answer.abstained and answer.text.startswith("Germany: ")
    verbatim(tiny, answer)


def test_which_body_is_answered_only_by_a_sentence_naming_one(tiny):
    named = tiny.ask("Which body pools health and social care budgets in three counties?")
    assert not named.abstained and "Westshire Care Fund" in named.text
    common = tiny.ask("Which body pays for the Rapid Home Support Teams?")
    assert not common.abstained and "hospital trusts" in common.text
    nobody = tiny.ask("Which body inspects the Rapid Home Support Teams?")
    assert nobody.abstained and nobody.reason == "The documents do not say which body this is."


def test_an_abbreviation_is_harvested_and_answers_what_it_stands_for(tiny):
    answer = tiny.ask("What does RHST stand for?")
    assert not answer.abstained and "Rapid Home Support Teams (RHSTs)" in answer.text
    staffed = tiny.ask("Who is in an RHST?")
    assert "physiotherapist" in staffed.text
    verbatim(tiny, staffed)


def test_a_document_named_in_the_question_is_the_only_source(tiny):
    answer = tiny.ask("What does the Omega Trust explainer say about pooled budgets?")
    assert not answer.abstained and "blur accountability" in answer.text
    assert {p.doc_id for p in answer.passages} == {"explainer"}
    assert answer.filters["docs_named"] == ["explainer"]


def test_a_list_question_gets_the_items_verbatim_each_cited(tiny):
    answer = tiny.ask("What barriers did the review of discharge name?")
    assert answer.kind == "list" and answer.blocks[0].style == "list"
    items = [s.text for s in answer.blocks[0].sentences]
    assert items == ["Late referrals from hospital wards", "Unclear responsibility for transport home",
                     "Shortages of care workers at weekends", "Records that cannot be shared between teams"]
    assert answer.text.startswith("The document lists four barriers:")
    verbatim(tiny, answer)


def test_a_comparison_answers_each_side_and_says_plainly_which_is_missing(tiny):
    answer = tiny.ask("Compare Germany and Chile on discharge planning")
    assert not answer.abstained and [b.heading for b in answer.blocks] == ["Germany", "Chile"]
    assert answer.blocks[0].sentences and "Sickness funds" in answer.text
    assert answer.blocks[1].sentences == [] and answer.blocks[1].note == "The documents never mention Chile."


def test_a_statement_about_the_document_itself_is_never_quoted(tiny):
    answer = tiny.ask("What is the key enabler of safe discharge from hospital?")
    assert not answer.abstained and "Shared electronic records" in answer.text
    assert "This briefing highlights" not in answer.text


def test_a_pronoun_sentence_comes_with_the_sentence_it_points_back_to(tiny):
    answer = tiny.ask("What did the Ostrava pilot find about readmissions?")
    assert not answer.abstained and "It found that readmissions fell by a third." in answer.text
    texts = [s.text for s in answer.sentences]
    found = texts.index("It found that readmissions fell by a third.")
    assert found > 0 and texts[found - 1].startswith("The Ostrava pilot followed 400 patients")


def test_a_follow_up_is_rewritten_with_what_it_points_back_to(tiny):
    answer = tiny.ask("How are they funded?", history=["What are Rapid Home Support Teams?"])
    assert answer.rewritten == "How are Rapid Home Support Teams funded?"
    assert "levy on hospital trusts" in answer.text
    assert answer.to_dict()["rewritten"] == answer.rewritten


def test_a_number_question_quotes_the_figure_or_says_there_is_none(tiny):
    assert "400 patients" in tiny.ask("How many patients did the Ostrava pilot follow?").text
    none = tiny.ask("How many care workers do the Rapid Home Support Teams employ?")
    assert none.abstained and none.reason == "The documents give no figure for this."


def test_abstention_reasons_are_plain_words(tiny):
    wrong_place = tiny.ask("What does the Westshire Care Fund pay for in Portugal?")
    assert wrong_place.abstained
    assert wrong_place.reason == ("The documents describe the Westshire Care Fund only for England; "
                                  "they say nothing about it for Portugal.")
    assert tiny.ask("What does the Westshire Care Fund pay for in Scotland?").reason == \
        "The documents never mention Scotland."
    assert tiny.ask("What is Brazil's policy on discharge?").reason == "The documents never mention Brazil."
    off_topic = tiny.ask("What is the boiling point of water at sea level?")
    assert off_topic.abstained and not any(c.isdigit() for c in off_topic.reason)
    assert off_topic.diagnostics["best_relevance"] < off_topic.diagnostics["min_relevance"]
    assert off_topic.citations == [] and off_topic.passages


def test_the_same_question_in_other_words_is_answered(tiny):
    answer = tiny.ask("Which staff go to older people's houses to get them settled after a hospital stay?")
    assert not answer.abstained and "nurse, a physiotherapist and a social worker" in answer.text


def test_a_compound_question_answers_each_part(tiny):
    answer = tiny.ask("When were Rapid Home Support Teams created, and how are the teams funded?")
    assert not answer.abstained and "2019" in answer.text and "levy on hospital trusts" in answer.text
    verbatim(tiny, answer)


def test_documents_named_together_each_answer_under_their_title(tiny):
    answer = tiny.ask("What do the Zeta briefing and the Omega Trust explainer say about discharge and budgets?")
    assert [b.heading for b in answer.blocks] == ["Working together on discharge", "Pooled budgets explained"]
    assert {c.passage.doc_id for c in answer.citations} == {"brief", "explainer"}
    verbatim(tiny, answer)


CASES = {
    "calder.md": "# The Calder Vale scheme\n\nThe Calder Vale scheme joins Calder Vale's community nurses with Calder Vale council's "
                 "home carers. Calder Vale GPs refer patients to the Calder Vale scheme every week. The Calder Vale scheme's nurses "
                 "and carers share one office in Calder Vale. Calder Vale council chairs the Calder Vale scheme's board. Emergency "
                 "admissions fell by 12% over three years.\n",
    "brin.md": "# The Brin Valley project\n\nThe Brin Valley project places Brin Valley social workers on Brin Valley hospital wards. Brin Valley's "
               "ward managers meet the Brin Valley project's social workers every month. The Brin Valley project's staff are "
               "employed by Brin Valley council. The Brin Valley project covers both of Brin Valley's hospitals. Delayed transfers of "
               "care halved within a year.\n",
    "other.md": "# Elsewhere\n\nMost councils publish a yearly plan for adult social care. In 2020 the national "
                "government published the Healthy Homes Plan. It set up four Calder Vale care hubs.\n",
}


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    """An Assistant over the case studies above."""
    return assistant_over(tmp_path_factory.mktemp("cases"), CASES)


def test_asked_for_results_each_side_quotes_the_sentence_reporting_them(cases):
    """Sentences naming a case study again and again must not crowd out the one sentence that
    reports its result, when results are what the question asks for."""
    answer = cases.ask("How do the results of the Calder Vale scheme compare with those of the Brin Valley project?")
    verbatim(cases, answer)
    assert [b.heading for b in answer.blocks] == ["Calder Vale", "Brin Valley"]
    assert "fell by 12%" in answer.text and "halved within a year" in answer.text


def test_a_figure_in_an_it_sentence_counts_with_the_name_its_antecedent_gives(cases):
    """"It set up four Calder Vale care hubs" answers how many hubs the plan named just before set up."""
    answer = cases.ask("How many Calder Vale care hubs did the Healthy Homes Plan set up?")
    verbatim(cases, answer)
    assert not answer.abstained and "It set up four Calder Vale care hubs." in answer.text


def test_a_statement_about_the_document_in_the_possessive_is_meta_too():
    from careqa.evidence import flags

    assert "meta" in flags("This brief\u2019s key messages are:", False, "")
    assert "meta" not in flags("This report has built on previous country reports.", False, "")


def test_this_report_needs_no_antecedent_but_this_programme_does():
    """"This report ..." names the cited document itself; "This programme ..." points back."""
    from types import SimpleNamespace

    from careqa.evidence import needs_antecedent

    assert not needs_antecedent(SimpleNamespace(text="This report is supported by the Omega Network."))
    assert needs_antecedent(SimpleNamespace(text="This programme is supported by the Omega Network."))


def test_a_sentence_cut_off_early_is_never_quoted_but_one_cut_off_late_is():
    """"X believes that" says nothing; a long sentence that lost its last words at a page's end
    has already said what it says."""
    from careqa.evidence import flags

    assert "fragment" in flags("Darzi and Howitt (2012) believe that", False, "")
    late = ("The partnerships are intended to join together the full range of health and social care services "
            "in each area including GPs, community providers and representatives from")
    assert "fragment" not in flags(late, False, "")


LISTS = {
    "framework.md": "# A framework for joined-up care\n\nThere are six strategies that together help deliver joined-up care:\n\n"
                    "- Engaging stakeholders and agreeing the way forward together.\n"
                    "- Training staff in shared care planning across services.\n"
                    "- Developing new roles for care coordinators.\n"
                    "- Securing long-term funding for integration.\n"
                    "- Using shared electronic records.\n"
                    "- Balancing flexibility and formal structures.\n",
    "background.md": "# Background\n\nAn ageing population will raise spending on care. In addition Varga and Holm (2011) identified "
                     "a number of challenges to care systems across Europe. These are: loss of informal carers; the "
                     "multi-system nature of chronic illness; hospital-centred services and rural isolation.\n",
    "summary.md": "# Summary\n\nMany European countries face the same challenges when they join up care. These include:\n\n"
                  "- shortages of home care staff\n- rising prices of medicines\n- poor sharing of data between teams\n",
    "programme.txt": "The Brin Frailty Programme\n\nThe Brin Frailty Programme was established in April 2019. It is funded by "
                     "the regional government. The programme aims to: \n\n Ensure that people see the right person at the "
                     "right time \n\n Reduce the length of a hospital stay \n\n Reduce the need for complex care packages "
                     "\n\n Avert crises by providing care when needed \n\nLonger term support will be provided by care "
                     "coordinators who take referrals.\n",
    "plan.txt": "Recent reforms\n\nThe government plan for care, Fair Care Plan (DoH, 2022), contains provisions for joint budgets. "
                "This will be shaped by three principles:\n\n- Outcomes focussed - one set of outcomes for each area.\n"
                "- Empowering local leaders - freedom to align incentives.\n- Wider reforms - inspection of commissioning."
                "\n\nReferences\n\nDoH. (2022). Fair Care Plan: Our Plan for Care. Department of Health Policy Paper. "
                "Retrieved from: Accessed on 28/03/2022\n",
    "regions.md": "# Discharge reforms\n\n## Norway\n\nMunicipalities pay a fine for each day a patient waits in hospital. "
                  "The Norwegian reform aims to: \n\n Cut delayed discharges from hospital \n\n Share records between "
                  "hospitals and municipalities \n\n Fund home care teams in every municipality \n\n## Denmark\n\n"
                  "Danish regions run the hospitals and municipalities run home care. Danish municipalities co-finance "
                  "each hospital stay.\n",
    "joined.txt": "What is joined-up care?\n\nIn broad terms, joined-up care links the services a person needs into one "
                  "plan.\n\nThis is hard to deliver, because services are split across many bodies with their own "
                  "budgets and rules.\n",
    "zones.txt": "Care zones\n\nAn EU report shows that in 2017 the region of Falderland was divided into care zones "
                 "to improve the governance of home care. These zones coordinate the partners within each zone.\n",
    **{f"note{i}.md": f"# Note {i}\n\nCouncil {topic} budgets were agreed for the year ahead after a long debate.\n"
       for i, topic in enumerate(["housing", "transport", "library", "parks", "school", "leisure", "roads", "waste",
                                  "planning", "museum", "sports", "events", "lighting", "markets"])},
}  # the notes make names rare, as in a real corpus


@pytest.fixture(scope="module")
def lists(tmp_path_factory):
    """An Assistant over the list-shaped documents above."""
    return assistant_over(tmp_path_factory.mktemp("lists"), LISTS)


def test_which_of_a_listed_set_answers_with_the_items_that_match(lists):
    answer = lists.ask("Which of the six strategies concern staff training and new roles?")
    verbatim(lists, answer)
    items = [s.text for b in answer.blocks for s in b.sentences]
    assert any("Training staff" in i for i in items) and any("new roles" in i for i in items)
    assert not any("funding" in i or "records" in i for i in items)
    assert answer.text.startswith("The document lists six strategies, among them these:")


def test_a_list_comes_from_the_passage_naming_who_the_question_names(lists):
    """The authors' own enumeration, not a bulleted list of the same noun elsewhere, even when
    the question also names something no passage spells as it does ("European")."""
    answer = lists.ask("What challenges facing European care systems did Varga and Holm identify?")
    verbatim(lists, answer)
    assert "rural isolation" in answer.text and "shortages of home care staff" not in answer.text


def test_a_sentence_introducing_unmarked_list_lines_brings_them_right_after_it(lists):
    """"The programme aims to:" followed by short lines with no bullet: the lines look like
    headings and are never quoted alone, so the answer quotes the intro and its list under it."""
    answer = lists.ask("What does the Brin Frailty Programme aim to do about hospital stays and care packages?")
    verbatim(lists, answer)
    styles = [b.style for b in answer.blocks]
    assert "list" in styles
    intro = answer.blocks[styles.index("list") - 1].sentences[-1]
    items = [s.text for s in answer.blocks[styles.index("list")].sentences]
    assert intro.text == "The programme aims to:"
    assert "Reduce the length of a hospital stay" in items and "Reduce the need for complex care packages" in items
    quoted = [s.text for b in answer.blocks if b.style != "list" for s in b.sentences]
    assert not set(quoted) & set(items)  # an item the list gives is not quoted again


def test_no_sentence_of_a_bibliography_line_is_quoted(lists):
    """"DoH. (2022). Fair Care Plan: Our Plan for Care. ... Retrieved from: ..." is a reference
    entry: its title sentence names the plan but says nothing about it."""
    answer = lists.ask("What do the documents say about the Fair Care Plan?")
    verbatim(lists, answer)
    assert "contains provisions for joint budgets" in answer.text and "Our Plan for Care" not in answer.text
    title = lists.ask("What is the title of the 2022 policy paper by DoH on the Fair Care Plan?")
    assert "Fair Care Plan: Our Plan for Care." in title.text  # asked for, a reference is the answer


def test_in_a_comparison_a_quoted_list_intro_brings_its_list_under_its_side(lists):
    answer = lists.ask("How do the aims of the Norwegian discharge reform compare with Denmark?")
    verbatim(lists, answer)
    shape = [(b.heading, b.style) for b in answer.blocks]
    assert shape[:2] == [("Norway", "paragraph"), ("", "list")] and ("Denmark", "paragraph") in shape
    assert "Cut delayed discharges from hospital" in [s.text for s in answer.blocks[1].sentences]


def test_a_this_sentence_opening_a_paragraph_comes_with_the_last_sentence_before_it(lists):
    answer = lists.ask("Why is joined-up care so hard to deliver?")
    verbatim(lists, answer)
    quoted = [s.text for b in answer.blocks for s in b.sentences]
    assert any(t.startswith("This is hard to deliver") for t in quoted)
    assert any(t.startswith("In broad terms, joined-up care links") for t in quoted)


def test_a_compound_answer_names_only_the_document_filters_its_answered_parts_used(tiny):
    """The explainer the second part names says nothing of Portugal, so only the first part is
    answered, from the profiles: the answer must not claim it came only from the explainer."""
    answer = tiny.ask("What is the Westshire Care Fund, and what does the Omega Trust explainer say about Portugal?")
    verbatim(tiny, answer)
    assert "Westshire Care Fund pools" in answer.text
    assert answer.filters["docs_named"] == []


def test_what_examples_of_x_lists_x_items_though_no_intro_says_examples(lists):
    answer = lists.ask("What examples are given of the difficulties countries face when they join up care?")
    verbatim(lists, answer)
    assert answer.blocks[0].style == "list"
    assert [s.text for s in answer.blocks[0].sentences][:2] == ["shortages of home care staff", "rising prices of medicines"]


def test_what_an_evaluation_found_needs_a_finding_said_to_come_from_one(lists):
    """"A report shows that the region was divided into zones" describes the zones; no sentence
    reports what an evaluation of them found, so careqa says so instead of answering."""
    answer = lists.ask("What did the evaluation of Falderland's care zones find?")
    assert answer.abstained and answer.reason == "The documents report no findings on this."
    assert not lists.ask("What do the documents say about Falderland's care zones?").abstained
