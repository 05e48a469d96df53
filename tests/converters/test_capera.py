import json
import shutil

import pytest

from data_converters import get_converter
from data_converters.capera import event_of
from ts_instruct.errors import ConfigError, DatasetNotFoundError, InvalidAnnotationError
from ts_instruct.pipeline import ConvertOptions, convert_dataset
from ts_instruct.validate import validate_path
from ts_instruct.video import probe_video

from ..conftest import check_golden, read_jsonl

NAME = "capera"


@pytest.fixture(scope="module")
def converted(fake_dataset, tmp_path_factory):
    root, info = fake_dataset(NAME)
    out = tmp_path_factory.mktemp("out_capera")
    report = convert_dataset(get_converter(NAME)(root), ConvertOptions(out=out, progress=False))
    return out / NAME, report, info


@pytest.fixture(scope="module")
def frames(fake_dataset, tmp_path_factory):
    root, info = fake_dataset(NAME)
    out = tmp_path_factory.mktemp("out_capera_frames")
    conv = get_converter(NAME)(root, modality="frames", frames=3)
    report = convert_dataset(conv, ConvertOptions(out=out, progress=False))
    return out / NAME, report, info


def test_counts_per_split(converted):
    _, report, info = converted
    splits = report["splits"]
    assert {s: v["samples"] + v["skipped"] for s, v in splits.items()} == info["splits"] == {"train": 4, "test": 3}
    assert {s: v["samples"] for s, v in splits.items()} == info["samples"]
    for v in splits.values():
        assert v["tasks"] == {"caption": v["samples"], "scene_open": v["samples"], "scene_choice": v["samples"]}


def test_video_records_copy_the_video_and_use_the_placeholder(converted):
    out, _, _ = converted
    for r in read_jsonl(out):
        assert r["images"] == [] and len(r["videos"]) == 1
        assert r["messages"][0]["content"].startswith("<video>") and "<image>" not in r["messages"][0]["content"]
        path = out / r["videos"][0]
        assert path.parent.name == r["meta"]["split"] and path.parent.parent.name == "videos"
        info = probe_video(path)
        assert (info.width, info.height) == (32, 32) and info.frames == r["meta"]["extra"]["frames"] == 6
        assert "video" in r["messages"][0]["content"]


def test_event_class_is_the_video_id_prefix(converted):
    out, _, info = converted
    for r in read_jsonl(out):
        assert r["annotations"]["scene"] == info["events"][r["annotations"]["extra"]["video_id"]]
    choice = next(r for r in read_jsonl(out) if r["task"] == "scene_choice")
    assert set(choice["meta"]["target"]["options"]) <= {c.replace("_", " ") for c in get_converter(NAME).classes}


def test_corrupt_and_missing_videos_and_empty_caption_are_reported(converted):
    _, report, info = converted
    train, test = report["splits"]["train"], report["splits"]["test"]
    assert [s["file"] for s in train["skips"] if not s["kept"]] == info["corrupt"]
    assert train["dropped_parts"] == 1 and "caption 3 of 'Baseball_002.mp4' is empty" in train["skips"][0]["reason"]
    (missing,) = test["skips"]
    assert "video 'Flood_003.mp4'" in missing["reason"] and "not under the root" in missing["reason"]


def test_video_id_without_extension_and_unicode(converted):
    out, _, _ = converted
    keys = {r["meta"]["key"] for r in read_jsonl(out)}
    assert "Flood_001" in keys
    assert any("heurtées près du café" in c for r in read_jsonl(out) for c in r["annotations"].get("captions", []))


def test_every_record_validates(converted):
    out, _, _ = converted
    summary, issues = validate_path(out)
    assert summary.records == 15 and issues == []


def test_validator_notices_a_missing_video(converted, tmp_path):
    out, _, _ = converted
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    next((copy / "videos" / "train").iterdir()).unlink()
    _, issues = validate_path(copy)
    assert issues and all(i.field == "videos[0]" and "video file is missing" in i.message for i in issues)


def test_keyframes_option_emits_images_in_time_order(frames):
    out, report, info = frames
    assert {s: v["samples"] for s, v in report["splits"].items()} == info["samples"]
    for r in read_jsonl(out):
        assert "videos" not in r and len(r["images"]) == 3
        assert r["messages"][0]["content"].startswith("<image><image><image>")
        assert r["meta"]["extra"]["keyframes"]["frames"] == [1, 3, 5]
        assert "3 frames" in r["messages"][0]["content"] or "3 images" in r["messages"][0]["content"]
    summary, issues = validate_path(out)
    assert summary.records == 15 and issues == []


@pytest.mark.parametrize(
    "options, message", [({"modality": "audio"}, "modality must be"), ({"frames": 0}, "frames must be an integer >= 1")]
)
def test_bad_options_are_refused(options, message, tmp_path):
    with pytest.raises(ConfigError, match=message):
        get_converter(NAME)(tmp_path, **options)


@pytest.mark.parametrize(
    "video_id, expected",
    [
        ("Baseball_001.mp4", "Baseball"),  # the third-party grammar
        ("TrafficCollision_12", "TrafficCollision"),  # no extension
        ("post-earthquake_007.mp4", "post-earthquake"),  # hyphenated event
        ("Traffic_collision_003.mp4", "Traffic_collision"),  # underscore inside the event: not cut at the first _
        ("Concert", "Concert"),  # no number
    ],
)
def test_event_of(video_id, expected):
    assert event_of(video_id) == expected


@pytest.mark.parametrize(
    "event, expected",
    [
        ("TrafficCollision", "traffic_collision"),
        ("post-earthquake", "post_earthquake"),
        ("Parade", "parade_protest"),
        ("NonEvent", "non_event"),
        ("Skiing", None),
    ],
)
def test_event_class(event, expected, tmp_path):
    assert get_converter(NAME)(tmp_path).event_class(event) == expected


def test_malformed_json_names_the_file(fake_dataset, tmp_path):
    src, _ = fake_dataset(NAME)
    root = tmp_path / "raw"
    shutil.copytree(src, root)
    (root / "CapERA_test.json").write_text('{"ERA_caption": [\n{"video_id": ', encoding="utf-8")
    with pytest.raises(InvalidAnnotationError, match=r"CapERA_test\.json:2: not valid JSON"):
        get_converter(NAME)(root).units("train")


def test_missing_root_says_how_to_fix(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="ERA_caption"):
        convert_dataset(get_converter(NAME)(tmp_path / "nope"), ConvertOptions(out=tmp_path / "o", progress=False))


def test_golden_first_record(converted):
    out, _, _ = converted
    check_golden(NAME, read_jsonl(out, "train-*.jsonl")[0])


def test_validator_checks_the_text_target_of_video_records(converted, tmp_path):
    out, _, _ = converted
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    shard = copy / "train-00000.jsonl"
    lines = shard.read_text(encoding="utf-8").splitlines()
    rec = json.loads(lines[0])
    rec["messages"][1]["content"] = "Something else entirely."
    shard.write_text("\n".join([json.dumps(rec, ensure_ascii=False), *lines[1:]]) + "\n", encoding="utf-8")
    _, issues = validate_path(copy)
    assert [(i.line, i.field) for i in issues] == [(1, "answer")]
