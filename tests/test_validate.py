"""The validator catches each kind of broken record, names file, line, record and field, and passes good ones."""

import json
from pathlib import Path

import pytest
from PIL import Image

from ts_instruct.render import RenderItem, get_style
from ts_instruct.validate import validate_path

STYLE = get_style("qwen2vl")


def _record(**over):
    frame = STYLE.frame(100, 80)
    item = RenderItem("hbox", (10, 20, 50, 60), label="ship")
    rec = {
        "id": "toy/train/a/detect_all",
        "dataset": "toy",
        "task": "detect_all",
        "messages": [
            {"role": "user", "content": "<image>Detect all objects."},
            {"role": "assistant", "content": STYLE.render([item], frame)},
        ],
        "images": ["images/a.png"],
        "annotations": {
            "objects": [
                {"label": "ship", "hbox": [10, 20, 50, 60], "qbox": None, "difficult": False, "truncated": False}
            ]
        },
        "meta": {
            "images": [{"width": 100, "height": 80}],
            "render": STYLE.describe(),
            "target": {"type": "geometry", "kind": "hbox", "items": [{"label": "ship", "coords": [10, 20, 50, 60]}]},
        },
    }
    for k, v in over.items():
        cur = rec
        *path, last = k.split(".")
        for p in path:
            cur = cur[p]
        cur[last] = v
    return rec


def _write(tmp_path: Path, records) -> Path:
    (tmp_path / "images").mkdir(exist_ok=True)
    Image.new("RGB", (100, 80)).save(tmp_path / "images" / "a.png")
    f = tmp_path / "train-00000.jsonl"
    f.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records), encoding="utf-8")
    return f


def test_a_good_record_passes(tmp_path):
    summary, issues = validate_path(_write(tmp_path, [_record()]))
    assert issues == [] and summary.records == 1 and summary.ok


@pytest.mark.parametrize(
    "override, field, message",
    [
        # one placeholder too many
        (
            {"messages": [{"role": "user", "content": "<image><image>x"}, {"role": "assistant", "content": "y"}]},
            "messages",
            "2 <image> placeholder(s) but 1 image(s)",
        ),
        # turns out of order
        (
            {"messages": [{"role": "assistant", "content": "<image>x"}, {"role": "user", "content": "y"}]},
            "messages",
            "turn 0 must be 'user'",
        ),
        # image file missing
        ({"images": ["images/missing.png"]}, "images[0]", "image file is missing"),
        # recorded size differs from the file
        ({"meta.images": [{"width": 90, "height": 80}]}, "images[0]", "but meta.images says 90x80"),
        # box outside the image
        (
            {"annotations.objects": [{"label": "ship", "hbox": [10, 20, 150, 60]}]},
            "annotations.objects[0].hbox",
            "outside the 100x80 image",
        ),
        # bow-tie quad
        (
            {"annotations.objects": [{"label": "ship", "hbox": [0, 0, 10, 10], "qbox": [0, 0, 10, 10, 10, 0, 0, 10]}]},
            "annotations.objects[0].qbox",
            "self-intersecting",
        ),
        # answer does not encode the target
        (
            {"meta.target": {"type": "geometry", "kind": "hbox", "items": [{"label": "ship", "coords": [0, 0, 5, 5]}]}},
            "answer[0]",
            "differ from target",
        ),
        # wrong label in the answer
        (
            {
                "meta.target": {
                    "type": "geometry",
                    "kind": "hbox",
                    "items": [{"label": "plane", "coords": [10, 20, 50, 60]}],
                }
            },
            "answer[0]",
            "label",
        ),
        # a text target absent from the answer
        ({"meta.target": {"type": "text", "value": "harbor"}}, "answer", "does not contain"),
    ],
)
def test_each_broken_record_is_reported(tmp_path, override, field, message):
    summary, issues = validate_path(_write(tmp_path, [_record(), _record(id="toy/train/b/x", **override)]))
    assert not summary.ok and summary.bad_records == 1
    assert any(i.field == field and message in i.message for i in issues), [str(i) for i in issues]
    bad = next(i for i in issues if i.field == field)
    assert bad.line == 2 and bad.record == "toy/train/b/x" and bad.file.endswith("train-00000.jsonl")


def test_malformed_json_and_duplicate_ids(tmp_path):
    summary, issues = validate_path(_write(tmp_path, [_record(), "{not json", _record()]))
    assert summary.records == 3 and summary.bad_records == 2
    assert [(i.line, i.field) for i in issues] == [(2, "record"), (3, "id")]


def test_a_quad_read_back_from_its_neighbouring_corner_is_the_same_box(tmp_path):
    # near 45°, rounding to the grid can move which corner is "first"; the validator compares rings cyclically
    diamond = (50, 10, 80, 40, 50, 70, 20, 40)  # canonical: (50,10) wins the x+y tie with (20,40) by smaller y
    rolled = [20, 40, 50, 10, 80, 40, 50, 70]  # same box, written from the neighbouring corner
    rec = _record(
        **{
            "messages": [
                {"role": "user", "content": "<image>Detect all objects."},
                {
                    "role": "assistant",
                    "content": STYLE.render([RenderItem("qbox", diamond, label="ship")], STYLE.frame(100, 80)),
                },
            ],
            "annotations.objects": [{"label": "ship", "hbox": [20, 10, 80, 70], "qbox": None}],
            "meta.target": {"type": "geometry", "kind": "qbox", "items": [{"label": "ship", "coords": rolled}]},
        }
    )
    _, issues = validate_path(_write(tmp_path, [rec]))
    assert issues == [], [str(i) for i in issues]
    # a genuinely different quad still fails
    rec["meta"]["target"]["items"][0]["coords"] = [20, 40, 50, 10, 80, 40, 50, 60]
    _, issues = validate_path(_write(tmp_path, [rec]))
    assert [i.field for i in issues] == ["answer[0]"]
