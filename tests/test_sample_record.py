import json

import numpy as np
import pytest

from ts_instruct.errors import RecordValidationError
from ts_instruct.record import Message, Record
from ts_instruct.sample import (
    Annotations,
    ChangeRegion,
    ImageRef,
    MaskRef,
    ObjectAnn,
    PolygonAnn,
    QAPair,
    RefExpr,
    Sample,
    SampleMeta,
    Window,
)


def _full_sample() -> Sample:
    return Sample(
        key="P0001__0_0",
        images=[
            ImageRef(
                "train/images/P0001.png",
                64,
                48,
                Window(10, 20, 74, 68),
                0.5,
                (500, 400),
                "images/train/a.png",
                pixels=np.zeros((48, 64, 3), np.uint8),
                fingerprint={"sha256": "ab", "phash": "cd"},
            ),
            ImageRef("B/P0001.png", 64, 48),
        ],
        annotations=Annotations(
            objects=[ObjectAnn("plane", [1, 2, 3, 4], [1, 2, 3, 2, 3, 4, 1, 4], difficult=True, truncated=True)],
            polygons=[PolygonAnn("building", [[0, 0], [4, 0], [4, 4]], holes=[[[1, 1], [2, 1], [2, 2]]])],
            masks=[MaskRef("semantic", {0: "background", 1: "building"}, path="masks/a.png", ignore_index=255)],
            scene="airport",
            captions=["Ünïcödé caption with ✓"],
            qa=[QAPair("How many?", "3", "count")],
            refs=[RefExpr("the plane on the left", [1, 2, 3, 4], "plane")],
            changes=[
                ChangeRegion([0, 0, 2, 2], [[0, 0], [2, 0], [2, 2]], from_label="tree", to_label="building", area=2.0)
            ],
            classes=["plane", "ship"],
            stats={"changed_fraction": 0.25},
            extra={"keywords": ["a", "b"]},
            negative=False,
        ),
        meta=SampleMeta(
            "dota",
            "train",
            version="v1.0",
            gsd=0.5,
            license="academic",
            georef=None,
            extra={"imagesource": "GoogleEarth"},
        ),
    )


def test_sample_json_round_trip_keeps_every_field():
    s = _full_sample()
    back = Sample.from_dict(json.loads(json.dumps(s.to_dict())))
    assert back == s  # pixels are excluded from comparison and never serialised
    assert "pixels" not in json.dumps(s.to_dict())
    assert back.images[0].window == Window(10, 20, 74, 68)
    assert back.annotations.masks[0].classes == {0: "background", 1: "building"}


def test_coordinates_are_rounded_to_three_decimals():
    o = ObjectAnn("ship", [1.23456, 2, 3, 4.00001])
    assert o.hbox == [1.235, 2.0, 3.0, 4.0]


def test_empty_annotations_serialise_to_empty_object():
    assert Annotations().to_dict() == {}


def test_record_round_trip_and_key_order():
    r = Record(
        "d/train/k/t",
        "d",
        "t",
        [Message("user", "<image>Was ist das? ✓"), Message("assistant", "ok")],
        ["images/train/k.png"],
        {"scene": "x"},
        {"split": "train"},
    )
    line = r.to_json()
    assert list(json.loads(line)) == ["id", "dataset", "task", "messages", "images", "annotations", "meta"]
    assert "✓" in line  # UTF-8 kept readable
    assert Record.from_json(line) == r


@pytest.mark.parametrize(
    "line, match",
    [
        ("[1, 2]", "JSON object"),  # not an object
        ("{bad json", "not valid JSON"),  # malformed
        ('{"id": "x"}', "missing"),  # missing keys
    ],
)
def test_record_from_json_rejects_bad_lines(line, match):
    with pytest.raises(RecordValidationError, match=match):
        Record.from_json(line)
