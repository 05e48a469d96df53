"""Fuzz: the readers of model answers (``ts_instruct.eval.reading`` and ``normalize``) never raise on any string.

A model can answer anything: empty strings, runaway repetitions, half a JSON list, control characters. Each reader
returns a value of its documented type (or ``None`` for "unparsed"), and scoring a whole set of records, one
per task the evaluator knows, with arbitrary answers never raises either.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.eval.records import build
from ts_instruct.eval.normalize import match_answer, normalize_area, normalize_text, parse_number, parse_yes_no
from ts_instruct.eval.reading import Case, choice_in_text, class_in_text, class_numbers, classes_in_text
from ts_instruct.eval.runner import TASK_METRICS, evaluate_cases

CLASSES = [
    "storage_tank",
    "storage tank area",
    "dense_residential",
    "residential",
    "ship",
    "plane",
    "a",
    "tennis-court",
]
OPTIONS = ["airport", "beach", "dense residential", "forest"]
REFERENCES = ["yes", "no", "3", "0", "between 10m2 and 100m2", "more than 1000m2", "rural", "urban", "0m2"]

PIECES = st.sampled_from(
    [
        "yes", "No", "none", "nothing", "Option", "answer:", "(a)", "B.", "C)", "E", "d:", " ", "\n", ",", ".", "%",
        "m2", "m²", "square meters", "between", "and", "more than", "about", "1", "12", "1,200", "-3", "4.5", "1e999",
        "9" * 40, "three", "zero", "dozen", "_", "-", "storage", "tank", "storage_tank", "dense", "residential",
        "Ship", "plane", "tennis", "court", "airport", "beach", "[", "]", "{", "}", '"', "```json\n", "bbox_2d",
        '{"bbox_2d": [', "<|box_start|>", "(1,2),(3,4)", "<|box_end|>", "\u00a0", "\u200b", "\x00", "é", "ﬁ", "①",
    ]
)  # fmt: skip
TEXT = st.one_of(st.text(), st.lists(PIECES, max_size=40).map("".join))


@settings(max_examples=400, deadline=None)
@given(text=TEXT)
def test_class_readers_never_raise(text: str) -> None:
    one = class_in_text(text, CLASSES)
    assert one is None or one in CLASSES
    many = classes_in_text(text, CLASSES)
    assert len(set(many)) == len(many) and set(many) <= set(CLASSES)
    numbers = class_numbers(text, CLASSES)
    assert set(numbers) <= set(CLASSES)
    assert all(isinstance(v, float) and not math.isnan(v) for v in numbers.values())
    choice = choice_in_text(text, OPTIONS)
    assert choice is None or choice in OPTIONS
    assert choice_in_text(text, []) is None


@settings(max_examples=400, deadline=None)
@given(text=TEXT)
def test_short_answer_readers_never_raise(text: str) -> None:
    assert isinstance(normalize_text(text), str)
    assert parse_yes_no(text) in (True, False, None)
    number = parse_number(text)
    assert number is None or (isinstance(number, float) and not math.isnan(number))
    area = normalize_area(text)
    assert area is None or area.endswith("m2")
    for ref in REFERENCES:
        assert match_answer(text, ref) in (True, False, None)


@pytest.fixture(scope="module", params=["qwen2vl", "qwen25vl", "qwen3vl"])
def records(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[list, Path]:
    folder = tmp_path_factory.mktemp(f"eval_{request.param}")
    return build(request.param, folder), folder


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_scoring_any_answers_never_raises(records: tuple[list, Path], data: st.DataObject) -> None:
    recs, folder = records
    answers = data.draw(st.lists(TEXT, min_size=len(recs), max_size=len(recs)))
    cases = [Case(r, a, folder) for r, a in zip(recs, answers, strict=True)]
    for c in cases:  # every geometry kind through the record's own style
        for kind in ("hbox", "qbox", "polygon", "point"):
            g = c.geometry(kind)
            w, h = c.image_size()
            assert all(0 <= x <= w for it in g.items for x in it.coords[0::2])
            assert all(0 <= y <= h for it in g.items for y in it.coords[1::2])
    report = evaluate_cases(cases)
    scored = {t.split("/")[0] for tasks in report["results"].values() for t in tasks}
    assert scored == set(TASK_METRICS)
