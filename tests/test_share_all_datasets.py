"""Preview, stats, Hugging Face and GeoJSON exports over the converted fake of every registered converter.

The fakes rebuild each dataset's real layout at toy scale, so this checks the four commands against every kind of
record the converters write (boxes, oriented boxes, polygons with holes, change pairs, QA, captions, videos,
georeferenced tiles), and grows with the converter registry. A model that repeats each reference answer is used as
the prediction: everything it says must read back as the target geometry.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from data_converters import get_converter, list_converters
from data_converters.fakes import FAKES, make_fake
from tests.headless import load_page
from tests.test_geojson import check_rfc7946
from ts_instruct.export_hf import export_hf
from ts_instruct.geojson import write_geojson
from ts_instruct.pipeline import ConvertOptions, convert_dataset
from ts_instruct.preview import PreviewOptions, write_preview
from ts_instruct.recordset import Predictions, iter_records
from ts_instruct.shapes import annotation_shapes, prediction_shapes
from ts_instruct.stats import collect

NAMES = sorted(FAKES)


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("all")
    for name in NAMES:
        root = work / "raw" / name
        make_fake(name, root, seed=0)
        convert_dataset(get_converter(name)(root), ConvertOptions(out=work / "converted", progress=False))
    return work / "converted"


@pytest.fixture(scope="module")
def echo_predictions(converted: Path) -> Path:
    """Every record answered with its own reference answer, keyed by id."""
    path = converted.parent / "echo.jsonl"
    with open(path, "w", encoding="utf-8") as fh:
        for ref in iter_records(converted):
            fh.write(json.dumps({"id": ref.record.id, "predict": ref.record.answer}, ensure_ascii=False) + "\n")
    return path


def test_every_converter_has_records(converted):
    assert {r.record.dataset for r in iter_records(converted)} == set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_reference_answers_read_back_as_their_targets(converted, echo_predictions, name):
    preds = Predictions(echo_predictions)
    for ref in iter_records(converted, datasets=[name], predictions=preds):
        target = ref.record.meta.get("target") or {}
        shapes, problems = prediction_shapes(ref.record, ref.prediction or "")
        if target.get("type") != "geometry":
            assert shapes == [] and problems == []
            continue
        assert problems == [], (ref.record.id, problems)
        hole_rings = sum(1 for it in target["items"] if str(it.get("label") or "").endswith(" hole"))
        rings = sum(1 + len(s.holes) for s in shapes)
        assert rings == len(target["items"]), ref.record.id
        assert sum(len(s.holes) for s in shapes) <= hole_rings


@pytest.mark.parametrize("name", NAMES)
def test_preview_draws_every_dataset(converted, echo_predictions, name, tmp_path):
    refs = iter_records(converted, datasets=[name], predictions=Predictions(echo_predictions))
    counts = write_preview(refs, tmp_path, PreviewOptions(n=6, cell=96))
    assert counts["records"] == min(6, sum(1 for _ in iter_records(converted, datasets=[name])))
    assert counts["problems"] == 0
    picked = list(iter_records(converted, datasets=[name]))[:6]
    assert counts["shapes_annotation"] == sum(len(annotation_shapes(r.record)) for r in picked)
    assert len(list((tmp_path / "panels").glob("*.png"))) == counts["records"]


def test_preview_of_everything_opens_in_a_browser(converted, echo_predictions, tmp_path):
    refs = iter_records(converted, predictions=Predictions(echo_predictions))
    counts = write_preview(refs, tmp_path, PreviewOptions(n=40, per_task=1, cell=96))
    expr = "JSON.stringify(Array.from(document.images).map(i => i.complete && i.naturalWidth > 0))"
    errors, value = load_page((tmp_path / "index.html").resolve().as_uri(), expr)
    assert errors == []
    assert json.loads(value) == [True] * counts["records"]


def test_stats_counts_every_record(converted):
    records = Counter((r.record.dataset, r.split, r.record.task) for r in iter_records(converted))
    stats = collect(iter_records(converted))
    assert stats.records == records
    assert set(stats.answer_tokens) == {t for _, _, t in records}


def test_hf_export_loads_back(converted, tmp_path):
    from datasets import load_dataset

    summary = export_hf(iter_records(converted), tmp_path / "hf")
    ds = load_dataset(str(tmp_path / "hf"), cache_dir=str(tmp_path / "cache"))
    counts = Counter(r.split for r in iter_records(converted))
    assert {s: ds[s].num_rows for s in ds} == dict(counts)
    for split in ds:
        row = ds[split][0]
        rec = next(r.record for r in iter_records(converted, splits=[split]) if r.record.id == row["id"])
        assert len(row["images"]) == len(rec.images) and len(row["videos"]) == len(rec.videos)
        assert len(row["masks"]) == len([m for m in rec.annotations.get("masks", []) if m.get("path")])
    card = (tmp_path / "hf" / "README.md").read_text(encoding="utf-8")
    for name in NAMES:
        assert f"| `{name}` |" in card
    assert set(summary.splits) == set(counts)


def test_geojson_of_every_dataset(converted, tmp_path):
    summary = write_geojson(iter_records(converted), tmp_path)
    assert summary.features
    for name in summary.features:
        check_rfc7946(json.loads((tmp_path / name).read_text(encoding="utf-8")), wgs84=".pixel." not in name)
    georeferenced = {r.record.dataset for r in iter_records(converted) if r.record.meta.get("georef")}
    world = {name.split("/")[0] for name in summary.features if ".pixel." not in name}
    assert "inria_aerial" in georeferenced and world == georeferenced


def test_video_records_show_a_key_frame(converted):
    import numpy as np

    from ts_instruct.preview import draw_panel

    ref = next(r for r in iter_records(converted) if r.record.videos)
    panel, _ = draw_panel(ref, 64)
    n = len(ref.record.images) + len(ref.record.videos)
    assert panel.size == (n * 68 - 4, 64)
    px = np.asarray(panel)[8:40, 8:56]
    assert px.std() > 0 and not (px == 90).all()  # decoded frame, not the grey "unreadable video" placeholder


@pytest.mark.parametrize("name", sorted(c.name for c in list_converters()))
def test_every_source_has_licence_citation_and_homepage_for_the_card(name):
    from ts_instruct.hf_card import source_info

    info = source_info(name)
    assert info["license"] and info["citation"] and info["homepage"].startswith("http"), info
