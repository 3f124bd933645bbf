"""Noise cleaning and heading detection on text shaped like real extractions."""
from careqa.clean import clean_text, find_headings, section_paths

NOISY = (
    "ArrowArrow IconLightbulbLightbulb IconBriefcaseBriefcase IconSurveySurvey IconStroke 1ClipboardClipboard Icon\n"
    "\n"
    "INTERNATIONAL EXAMPLES\n"
    "\n"
    "A short introduction to the examples that follow in this section of the briefing.\n"
    "\n"
    "SWEDEN\n"
    "\n"
    "Sweden has moved the responsibility for the care of older people from the county \n"
    "councils to the municipalities, which now run pooled budgets with co-\n"
    "ordinated teams in every area of the country and with polymorphous1 arrangements. \n"
    "http://www.example.org/report.pdf\n"
    " CASE STUDY: Norrtälje \n"
    " \n"
    "In 2006 one organisation was established to administer pooled budgets for all health \n"
    "and social care in the area, combining the management of all health and social care.\n"
    "\n"
    "  \u2022 Norway\n"
    "\n"
    "    The municipalities are fined per day for patients who stay in hospital.\n"
    "\n"
    "What is integrated care?\n"
    "\n"
    "Integrated care joins up services.\n"
)


def test_noise_is_removed_and_wrapped_lines_joined():
    text = clean_text(NOISY).text
    assert "Icon" not in text
    assert "http://" not in text
    assert "polymorphous arrangements" in text
    assert "from the county councils to the municipalities" in text
    assert "co-ordinated teams" in text
    assert "administer pooled budgets for all health and social care" in text


def test_every_kept_character_maps_back_to_the_raw_text():
    cleaned = clean_text(NOISY)
    for clean_start, raw_start in cleaned.segments:
        piece = cleaned.text[clean_start:clean_start + 5]
        if piece and piece.strip() and " " not in piece:
            assert NOISY[cleaned.raw_offset(clean_start):cleaned.raw_offset(clean_start) + len(piece)] == piece
    pos = cleaned.text.index("In 2006")
    assert NOISY[cleaned.raw_offset(pos):].startswith("In 2006")


def test_headings_are_found_with_offsets_and_nested_paths():
    cleaned = clean_text(NOISY)
    headings = find_headings(cleaned.text)
    titles = [h.title for h in headings]
    assert titles == ["INTERNATIONAL EXAMPLES", "SWEDEN", "CASE STUDY: Norrtälje", "Norway",
                      "What is integrated care?"]
    for h in headings:
        assert h.title.split()[-1] in cleaned.text[h.start:h.end]
    paths = section_paths(headings)
    assert paths[2] == "INTERNATIONAL EXAMPLES > SWEDEN > CASE STUDY: Norrtälje"


def test_lists_of_bullets_and_questions_inside_text_are_not_headings():
    text = ("Our work in this area:\n\n  \u2022 14/12/2021\n  \u2022 Sarah Reed | Camille Oung\n"
            "  \u2022 Another item\n  \u2022 And another\n\nShe asked: why?\nIt went on.\n")
    assert find_headings(clean_text(text).text) == []


def test_markdown_headings_have_levels():
    text = "# Title\n\nIntro.\n\n## Norway\n\nFines per day.\n\n## Denmark\n\nAgreements.\n"
    headings = find_headings(text)
    assert [(h.title, h.level) for h in headings] == [("Title", 1), ("Norway", 2), ("Denmark", 2)]
    assert section_paths(headings)[1] == "Title > Norway"


def test_glued_menu_residue_is_junk_whatever_its_words():
    junk = "HomeHome PageSearchSearch BoxMenuMenu ButtonShareShare Link\n\nCouncils publish a weekly dashboard.\n"
    text = clean_text(junk).text
    assert "Menu" not in text and "Councils publish a weekly dashboard." in text
    prose = "NHSScotland and eHealth teams work with iPhone users in Scotland.\n"
    assert clean_text(prose).text == prose


def test_a_caps_heading_introducing_others_in_a_sentence_becomes_their_parent():
    text = ("REGIONAL EXAMPLES\n\nThe following pages look at two regions.\n\nNORTH\n\nThe north pools budgets.\n\n"
            "SOUTH\n\nThe south does not. It plans to. It will consult first.\n\nMETHODS\n\nWe read the plans.\n")
    assert section_paths(find_headings(text))[:3] == ["REGIONAL EXAMPLES", "REGIONAL EXAMPLES > NORTH",
                                                      "REGIONAL EXAMPLES > SOUTH"]
    short = "NORTH\n\nThe north pools budgets.\n\nSOUTH\n\nThe south does not.\n"
    assert section_paths(find_headings(short)) == ["NORTH", "SOUTH"]


BROKEN = (
    "The partnerships are intended to join together the full range of health and social care services in \n"
    "\n"
    "                                            \n"
    "7\n"
    "each area including GPs, community providers, hospital specialists and the voluntary sector in it. \n"
    "\n"
    "Members will lead on workforce, management and organisational development and planning; and  \n"
    "\n"
    "an issue that budgets remained outside the control of the local primary care organisations. \n"
)


def test_a_sentence_cut_by_a_page_or_footnote_break_is_joined_and_list_items_are_not():
    text = clean_text(BROKEN).text
    assert "health and social care services in each area including GPs" in text
    assert "planning; and  \n" in text  # "; and" ends a list item: the next item stays on its own line
    from careqa.sentences import sentence_spans
    first = sentence_spans(text)[0]
    assert text[first[0]:first[1]].endswith("voluntary sector in it.")


def test_a_line_ending_in_a_comma_goes_on_and_a_finished_item_ends_its_list():
    from careqa.lists import units
    from careqa.sentences import sentence_spans

    text = "- Share records.\n- Fund teams.\nWHO Team\nEditors\nAnna Berg,\nJon Lund\n- a,\n- b"
    spans = [text[a:b] for a, b in sentence_spans(text)]
    assert "Anna Berg,\nJon Lund" in spans and "- a," in spans  # names one per line are one sentence; items are not
    found = units(text, 0)
    assert [u.text for u in found[:2]] == ["Share records.", "Fund teams."] and not found[2].bullet
