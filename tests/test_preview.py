from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests import share_data
from tests.headless import load_page
from ts_instruct.cli import main
from ts_instruct.errors import ConfigError, RecordValidationError
from ts_instruct.preview import COLORS, PreviewOptions, draw_panel, select, write_preview
from ts_instruct.recordset import Predictions, iter_records

LOADED = (
    "JSON.stringify({n: document.images.length,"
    " ok: Array.from(document.images).filter(i => i.complete && i.naturalWidth > 0).length,"
    " text: document.body.innerText})"
)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, Path]:
    root = tmp_path_factory.mktemp("share") / "converted"
    facts = share_data.build(root)
    pred = root.parent / "pred.jsonl"
    share_data.write_predictions(pred, root)
    return root, facts, pred


def _ref(root: Path, record_id: str, pred: Path | None = None):
    preds = Predictions(pred) if pred else None
    return next(r for r in iter_records(root, predictions=preds) if r.record.id == record_id)


def _has_color(panel: Image.Image, xy: tuple[float, float], color: tuple[int, int, int], radius: int = 2) -> bool:
    px = np.asarray(panel)
    x, y = round(xy[0]), round(xy[1])
    win = px[max(0, y - radius) : y + radius + 1, max(0, x - radius) : x + radius + 1]
    return bool((win == np.array(color)).all(axis=-1).any())


def test_panel_draws_annotations_green_and_predictions_red(tree):
    root, facts, pred = tree
    cell = 192
    s = cell / 96  # the 96x64 detection image fits the cell by its width
    panel, problems = draw_panel(_ref(root, facts["ids"]["det"], pred), cell)
    assert panel.size == (cell, cell) and problems == []
    # mid-point of the first edge of the stored plane (20,8)-(40,18) and of the predicted one, shifted 8 px right
    assert _has_color(panel, (30 * s, 13 * s), COLORS["annotation"])
    assert _has_color(panel, (38 * s, 13 * s), COLORS["prediction"])
    assert not _has_color(panel, (38 * s, 13 * s), COLORS["annotation"], radius=1)


def test_panel_without_prediction_has_no_red(tree):
    root, facts, _ = tree
    panel, _ = draw_panel(_ref(root, facts["ids"]["det"]), 128)
    px = np.asarray(panel)
    assert not (px == np.array(COLORS["prediction"])).all(axis=-1).any()
    assert (px == np.array(COLORS["annotation"])).all(axis=-1).any()


def test_change_pair_side_by_side_with_regions_on_both(tree):
    root, facts, _ = tree
    cell = 128
    panel, _ = draw_panel(_ref(root, facts["ids"]["change"]), cell)
    assert panel.size == (2 * cell + 4, cell)
    s = cell / 64
    for dx in (0, cell + 4):  # the region's left edge x=30, y in 30..50 on the before and the after image
        assert _has_color(panel, (dx + 30 * s, 40 * s), COLORS["annotation"])


def test_unreadable_prediction_is_reported_not_raised(tree):
    root, facts, pred = tree
    panel, problems = draw_panel(_ref(root, facts["ids"]["seg"], pred), 64)
    assert problems and panel.size == (64, 64)


def test_missing_image_gives_placeholder(tree, tmp_path):
    root, _, _ = tree
    copy = tmp_path / "c"
    shutil.copytree(root / "toy_vqa", copy)
    for f in (copy / "images").rglob("*.png"):
        f.unlink()
    ref = next(iter_records(copy))
    panel, _ = draw_panel(ref, 64)
    assert panel.size == (64, 64)


@pytest.mark.parametrize(
    "n, seed, expected",
    [
        (3, None, [0, 1, 2]),  # first n
        (20, None, list(range(10))),  # fewer records than n
        (20, 5, list(range(10))),  # sampling fewer records than n keeps all, in order
    ],
)
def test_select(n, seed, expected):
    assert select(range(10), n, seed) == expected


def test_select_sample_is_seeded_sorted_subset():
    a = select(range(1000), 10, seed=3)
    assert a == select(range(1000), 10, seed=3)
    assert a == sorted(set(a)) and len(a) == 10
    assert a != select(range(1000), 10, seed=4)
    assert max(a) > 100  # not simply the first ten


def test_options_are_checked():
    with pytest.raises(ConfigError, match="cell must be a positive int"):
        PreviewOptions(cell=0)


def test_cli_preview_page_opens_in_headless_browser(tree, tmp_path, capsys):
    root, facts, pred = tree
    out = tmp_path / "prev"
    assert main(["preview", str(root), "--pred", str(pred), "--out", str(out), "--columns", "2", "--rows", "2"]) == 0
    assert "6 records drawn (7 annotation shapes, 4 predicted shapes, 1 answers" in capsys.readouterr().out
    assert sorted(p.name for p in out.glob("sheet-*.png")) == ["sheet-000.png", "sheet-001.png"]
    assert len(list((out / "panels").glob("*.png"))) == facts["records"]
    errors, value = load_page((out / "index.html").resolve().as_uri(), LOADED)
    assert errors == []
    page = json.loads(value)
    assert page["n"] == page["ok"] == facts["records"]
    assert "café" in page["text"]  # the page keeps the exact text


def test_page_reports_a_missing_panel(tree, tmp_path):
    root, _, _ = tree
    out = tmp_path / "prev"
    write_preview(iter_records(root), out, PreviewOptions(n=2))
    (out / "panels" / "0001.png").unlink()
    errors, value = load_page((out / "index.html").resolve().as_uri(), LOADED)
    assert len(errors) == 1 and "0001.png" in errors[0]
    assert json.loads(value)["ok"] == 1


def test_markup_in_text_is_escaped(tree, tmp_path):
    root, _, _ = tree
    data = tmp_path / "d"
    shutil.copytree(root / "toy_vqa", data)
    shard = data / "train-00000.jsonl"
    rec = json.loads(shard.read_text(encoding="utf-8"))
    rec["messages"][0]["content"] = "<image><script>console.error('injected')</script><b>bold?</b>"
    shard.write_text(json.dumps(rec) + "\n", encoding="utf-8")
    out = tmp_path / "prev"
    write_preview(iter_records(data), out)
    errors, value = load_page((out / "index.html").resolve().as_uri(), LOADED)
    assert errors == []
    assert "<script>console.error('injected')</script><b>bold?</b>" in json.loads(value)["text"]


def test_task_filter_and_determinism(tree, tmp_path):
    root, _, _ = tree
    outs = [tmp_path / "a", tmp_path / "b"]
    for out in outs:
        assert main(["preview", str(root), "--task", "seg_polygons", "--out", str(out)]) == 0
    assert len(list((outs[0] / "panels").glob("*.png"))) == 2
    for name in ("index.html", "sheet-000.png", "panels/0000.png", "panels/0001.png"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name


def test_rerun_with_fewer_records_removes_stale_panels(tree, tmp_path):
    root, _, _ = tree
    out = tmp_path / "p"
    write_preview(iter_records(root), out, PreviewOptions(n=6, columns=1, rows=1))
    write_preview(iter_records(root), out, PreviewOptions(n=2, columns=1, rows=1))
    assert len(list((out / "panels").glob("*.png"))) == 2
    assert len(list(out.glob("sheet-*.png"))) == 2


def test_no_matching_record_exits_1(tree, tmp_path):
    root, _, _ = tree
    assert main(["preview", str(root), "--task", "nope", "--out", str(tmp_path / "p")]) == 1


def test_positional_predictions_must_match_record_count(tree, tmp_path):
    root, _, _ = tree
    pred = tmp_path / "generated_predictions.jsonl"
    pred.write_text(json.dumps({"prompt": "p", "predict": "1", "label": "1"}) + "\n", encoding="utf-8")
    with pytest.raises(RecordValidationError, match="pairs by position"):
        list(iter_records(root, predictions=Predictions(pred)))


def test_positional_predictions_pair_by_order(tree, tmp_path):
    root, _, _ = tree
    refs = list(iter_records(root))
    pred = tmp_path / "generated_predictions.jsonl"
    pred.write_text("".join(json.dumps({"predict": f"p{i}"}) + "\n" for i in range(len(refs))), encoding="utf-8")
    got = [(r.record.id, r.prediction) for r in iter_records(root, tasks=["vqa"], predictions=Predictions(pred))]
    index = [r.record.id for r in refs].index(got[0][0])
    assert got == [(refs[index].record.id, f"p{index}")]


def test_per_task_cap(tree, tmp_path):
    root, facts, _ = tree
    twice = itertools.chain(iter_records(root), iter_records(root))
    counts = write_preview(twice, tmp_path, PreviewOptions(per_task=1))
    assert counts["records"] == facts["records"]  # each (dataset, task) once
    twice = itertools.chain(iter_records(root), iter_records(root))
    assert write_preview(twice, tmp_path, PreviewOptions(per_task=2))["records"] == 2 * facts["records"]
    with pytest.raises(ConfigError, match="per_task must be a positive int"):
        PreviewOptions(per_task=0)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("plane", "plane"),  # ASCII unchanged
        ("café", "cafe"),  # accents dropped
        ("bare land→building", "bare land->building"),  # change labels
        ("«a» “b” ‘c’ – …", '"a" "b" \'c\' - ...'),  # typographic punctuation
        ("机场", "??"),  # no glyph in the bundled font
    ],
)
def test_sheet_text_is_drawable(text, expected):
    from ts_instruct.preview import _ascii

    assert _ascii(text) == expected


def test_mixture_records_without_meta_are_read(tree, tmp_path):
    """``terrasense mix`` keeps only id, dataset, task, messages and images (paths relative to its output folder)."""
    root, _, _ = tree
    mix = tmp_path / "mix"
    mix.mkdir()
    rec = json.loads((root / "toy_det" / "train-00000.jsonl").read_text(encoding="utf-8").splitlines()[0])
    slim = {k: rec[k] for k in ("id", "dataset", "task", "messages")}
    slim["images"] = [f"../{root.name}/toy_det/{rec['images'][0]}"]
    (mix / "terrasense_mix.jsonl").write_text(json.dumps(slim) + "\n", encoding="utf-8")
    shutil.copytree(root, tmp_path / root.name)
    (ref,) = list(iter_records(mix))
    assert ref.split == "train" and ref.sample_key == ("toy_det", "train", "det_a")
    counts = write_preview([ref], tmp_path / "p")
    assert counts == {"records": 1, "sheets": 1, "shapes_annotation": 0, "shapes_prediction": 0, "problems": 0}
    errors, value = load_page((tmp_path / "p" / "index.html").resolve().as_uri(), LOADED)
    assert errors == [] and json.loads(value)["ok"] == 1
