import pytest

from ts_instruct.eval.normalize import (
    answer_kind,
    area_bin,
    match_answer,
    normalize_area,
    normalize_text,
    parse_number,
    parse_yes_no,
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Airport", "airport"),  # case
        ("  the airport. ", "airport"),  # article, final period, spaces
        ("storage_tank", "storage tank"),  # underscores
        ("Baseball-Diamond", "baseball diamond"),  # hyphen between words
        ('"harbor"', "harbor"),  # quotes
        ("Three planes!", "3 planes"),  # number words
        ("2-lane road", "2-lane road"),  # a hyphen after a digit stays
        ("", ""),
    ],
)
def test_normalize_text(text, expected):
    assert normalize_text(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("yes", True),
        ("Yes.", True),
        ("YES, there is a harbor", True),
        ("no", False),
        ("No, there isn't.", False),
        ("False", False),
        ("There is a harbor", None),  # no leading yes/no: unparsed
        ("", None),
        ("yesterday", None),  # a word that starts with "yes" is not yes
    ],
)
def test_parse_yes_no(text, expected):
    assert parse_yes_no(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("3", 3.0),
        ("There are 12 planes.", 12.0),
        ("1,200", 1200.0),
        ("3.5", 3.5),
        ("seven", 7.0),
        ("Twenty ships", 20.0),
        ("none", 0.0),
        ("There are no planes.", 0.0),
        ("12%", 12.0),
        ("many", None),
        ("", None),
        ("two of the 5 tanks", 2.0),  # the first number, word or digits
    ],
)
def test_parse_number(text, expected):
    assert parse_number(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("0m2", "0m2"),
        ("between 0m2 and 10m2", "between 0m2 and 10m2"),
        ("Between 10 m² and 100 m²", "between 10m2 and 100m2"),
        ("more than 1000 square meters", "more than 1000m2"),
        ("more than 1,000m2.", "more than 1000m2"),
        ("250 m2", "between 100m2 and 1000m2"),  # a plain area goes to its bin
        ("100m^2", "between 10m2 and 100m2"),  # upper bounds included
        ("about 5 sq m", "between 0m2 and 10m2"),
        ("yes", None),
        ("12", None),  # no unit: not an area
    ],
)
def test_normalize_area(text, expected):
    assert normalize_area(text) == expected


@pytest.mark.parametrize(
    "area, expected",
    [(0, "0m2"), (0.1, "between 0m2 and 10m2"), (1000, "between 100m2 and 1000m2"), (1000.5, "more than 1000m2")],
)
def test_area_bin(area, expected):
    assert area_bin(area) == expected


@pytest.mark.parametrize(
    "reference, kind",
    [("yes", "yes_no"), ("No.", "yes_no"), ("0m2", "area"), ("3", "number"), ("three", "number"), ("river", "text")],
)
def test_answer_kind(reference, kind):
    assert answer_kind(reference) == kind


@pytest.mark.parametrize(
    "prediction, reference, expected",
    [
        ("Yes.", "yes", True),
        ("No", "yes", False),
        ("It is hard to say", "yes", None),  # unparsed yes/no
        ("3 planes", "3", True),
        ("three", "3", True),
        ("4", "3", False),
        ("some", "3", None),  # unparsed count
        ("between 10 m2 and 100 m2", "between 10m2 and 100m2", True),
        ("50 m2", "between 10m2 and 100m2", True),
        ("between 0m2 and 10m2", "between 10m2 and 100m2", False),
        ("large", "between 10m2 and 100m2", None),  # unparsed area
        ("The Rural area", "rural", False),
        ("Rural.", "rural", True),
    ],
)
def test_match_answer(prediction, reference, expected):
    assert match_answer(prediction, reference) is expected
