"""Record serialisation: the shared-annotations shortcut of to_json."""

from ts_instruct.record import _SLOT, Message, Record


def test_to_json_with_a_shared_cache_gives_the_same_line():
    """Records of one sample share their annotations dict; encoding it once changes no byte, even when the
    record's own text contains the marker the shortcut uses."""
    ann = {"objects": [{"label": "plane", "hbox": [1.0, 2.0, 3.0, 4.0], "qbox": None}], "classes": ["plane"]}
    msgs = [Message("user", "<image>Where?"), Message("assistant", "here")]
    records = [
        Record("d/train/k/a", "d", "a", msgs, ["a.png"], annotations=ann, meta={"n": 1}),
        Record("d/train/k/b", "d", "b", msgs, ["a.png"], annotations=ann, meta={"n": 2}),
        Record("d/train/k/c", "d", "c", msgs, ["a.png"], annotations={"scene": "port"}),
        Record("d/train/k/d", "d", "d", [Message("user", f"<image>{_SLOT}"), msgs[1]], ["a.png"], annotations=ann),
        Record("d/train/k/e", "d", "e", msgs, ["a.png"]),
    ]
    shared: dict = {}
    assert [r.to_json(shared) for r in records] == [r.to_json() for r in records]
    assert [r.to_json(shared) for r in records] == [r.to_json() for r in records]  # warm cache
    assert id(ann) in shared and shared[id(ann)][0] is ann
