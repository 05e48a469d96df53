"""The batch object builder of detection converters decides and orders every box exactly as the one-by-one one."""

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from data_converters.families.detection import DetectionConverter
from ts_instruct.errors import GeometryError

coord = st.one_of(
    st.floats(-50, 1050, allow_nan=False),
    st.integers(0, 8).map(float),  # small integers: repeated corners, collinear and zero-area boxes
    st.sampled_from([math.nan, math.inf]),
)
box = st.one_of(
    st.lists(coord, min_size=8, max_size=8),
    # a rotated rectangle (the common case), sometimes tiny, its corners sometimes listed as a bow-tie
    st.tuples(
        st.floats(0, 1000),
        st.floats(0, 1000),
        st.floats(1e-4, 80),
        st.floats(1e-4, 80),
        st.floats(0, math.pi),
        st.booleans(),
    ).map(
        lambda a: [
            v
            for k in ((0, 1, 3, 2) if a[5] else (0, 1, 2, 3))
            for v in (
                a[0]
                + (a[2] / 2 if k in (1, 2) else -a[2] / 2) * math.cos(a[4])
                - (a[3] / 2 if k in (2, 3) else -a[3] / 2) * math.sin(a[4]),
                a[1]
                + (a[2] / 2 if k in (1, 2) else -a[2] / 2) * math.sin(a[4])
                + (a[3] / 2 if k in (2, 3) else -a[3] / 2) * math.cos(a[4]),
            )
        ]
    ),
)


def _one_by_one(qboxes, difficult, wheres):
    out = []
    for q, d, w in zip(qboxes, difficult, wheres, strict=True):
        try:
            out.append(DetectionConverter.make_object("plane", qbox=q, difficult=d, where=w))
        except GeometryError as e:
            out.append(e)
    return out


@given(st.lists(st.tuples(box, st.booleans()), max_size=30))
def test_make_qbox_objects_equals_make_object(items):
    qboxes = [q for q, _ in items]
    difficult = [d for _, d in items]
    wheres = [f"P0001.txt:{i + 1}" for i in range(len(items))]
    batch = DetectionConverter.make_qbox_objects(["plane"] * len(items), qboxes, difficult, wheres)
    single = _one_by_one(qboxes, difficult, wheres)
    assert len(batch) == len(single)
    for b, s in zip(batch, single, strict=True):
        if isinstance(s, GeometryError):
            assert isinstance(b, GeometryError) and str(b) == str(s)
        else:
            assert b == s


def test_make_qbox_objects_keeps_order_and_reports_the_bad_box_in_place():
    good = [0, 0, 10, 0, 10, 5, 0, 5]
    bow_tie = [0, 0, 10, 5, 10, 0, 0, 5]  # repaired into hull order
    flat = [0, 0, 10, 0, 20, 0, 30, 0]  # refused
    out = DetectionConverter.make_qbox_objects(["a", "b", "c"], [good, bow_tie, flat], [False, True, False],
                                               ["f:1", "f:2", "f:3"])  # fmt: skip
    assert [type(o).__name__ for o in out] == ["ObjectAnn", "ObjectAnn", "GeometryError"]
    assert out[1].difficult and out[1].hbox == [0.0, 0.0, 10.0, 5.0]
    assert str(out[2]).startswith("f:3: ")
    assert np.isclose(out[0].qbox, good).all()
