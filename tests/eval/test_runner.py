import json

import pytest

from tests.eval.records import build
from ts_instruct.cli import main
from ts_instruct.errors import RecordValidationError
from ts_instruct.eval.reading import Case
from ts_instruct.eval.report import HEADLINES, format_table, headline
from ts_instruct.eval.runner import TASK_METRICS, EvalOptions, evaluate, evaluate_cases
from ts_instruct.render import RenderItem, get_style

STYLES = ["qwen2vl", "qwen25vl", "qwen3vl"]
PERFECT = {"mae": 0.0, "CIDEr": 10.0}  # every other headline metric is 1.0 when perfect
# captions are scored against every reference caption: an answer equal to one of two references has BLEU 1 and
# ROUGE-L 1 (best reference) but not CIDEr 10 (the mean over references)
NOT_PERFECT = {("caps", "caption", "CIDEr")}


def _write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def _strip_special(text):
    import re

    return re.sub(r"<\|[A-Za-z_]+\|>", "", text)


@pytest.fixture(params=STYLES)
def reference(request, tmp_path):
    folder = tmp_path / "dataset"
    records = build(request.param, folder)
    ref = folder / "test-00000.jsonl"
    _write_jsonl(ref, [r.to_dict() for r in records])
    return records, ref


def test_every_task_has_records_and_a_headline(tmp_path):
    tasks = {r.task for r in build("qwen3vl", tmp_path)}
    assert tasks == set(TASK_METRICS)
    assert set(HEADLINES) == set(TASK_METRICS)


@pytest.mark.parametrize("form", ["keyed", "llamafactory"])
def test_perfect_predictions_score_perfectly_on_every_task(reference, tmp_path, form):
    records, ref = reference
    pred = tmp_path / "pred.jsonl"
    if form == "keyed":
        _write_jsonl(pred, [{"id": r.id, "predict": r.answer} for r in records])
    else:  # as LLaMA-Factory writes it: special tokens stripped from predict and label, label ends with "\n"
        rows = [
            {"prompt": r.prompt, "predict": _strip_special(r.answer), "label": _strip_special(r.answer) + "\n"}
            for r in records
        ]
        _write_jsonl(pred, rows)
    report = evaluate(pred, [ref])
    scored = {(d, t) for d, tasks in report["results"].items() for t in tasks}
    assert {t for _, t in scored} == set(TASK_METRICS)
    for dataset, tasks in report["results"].items():
        for task, metrics in tasks.items():
            assert metrics["unparsed"] == 0 and metrics["missing"] == 0, (dataset, task)
            for name, value in headline(task, metrics):
                if (dataset, task, name) not in NOT_PERFECT:
                    assert value == pytest.approx(PERFECT.get(name, 1.0)), (dataset, task, name)
    assert 0 < report["results"]["caps"]["caption"]["CIDEr"] < 10
    assert report["predictions"]["format"] == form and report["predictions"]["missing"] == 0


def test_empty_answers_are_unparsed_and_wrong(reference, tmp_path):
    records, ref = reference
    pred = tmp_path / "pred.jsonl"
    _write_jsonl(pred, [{"id": r.id, "predict": ""} for r in records])
    report = evaluate(pred, [ref])
    for dataset, tasks in report["results"].items():
        for task, metrics in tasks.items():
            assert metrics["unparsed"] == metrics["n"] > 0, (dataset, task)
            for name, value in headline(task, metrics):
                if name not in ("mae",):
                    assert value < 1.0, (dataset, task, name)


def test_missing_and_extra_keyed_predictions(reference, tmp_path):
    records, ref = reference
    pred = tmp_path / "pred.jsonl"
    rows = [{"id": r.id, "predict": r.answer} for r in records[1:]] + [{"id": "nope", "predict": "x"}]
    _write_jsonl(pred, rows)
    report = evaluate(pred, [ref])
    assert report["predictions"]["missing"] == 1 and report["predictions"]["extra"] == 1
    first = records[0]
    metrics = report["results"][first.dataset][first.task]
    assert metrics["missing"] == 1 and metrics["unparsed"] == 1


def test_llamafactory_predictions_must_follow_the_reference_order(reference, tmp_path):
    records, ref = reference
    pred = tmp_path / "pred.jsonl"
    shuffled = records[::-1]
    _write_jsonl(pred, [{"prompt": "", "predict": r.answer, "label": r.answer + "\n"} for r in shuffled])
    with pytest.raises(RecordValidationError, match="do not follow the order"):
        evaluate(pred, [ref])
    _write_jsonl(pred, [{"prompt": "", "predict": "", "label": ""}])
    with pytest.raises(RecordValidationError, match="pairs by position"):
        evaluate(pred, [ref])


def test_bad_prediction_files(reference, tmp_path):
    _, ref = reference
    pred = tmp_path / "pred.jsonl"
    pred.write_text('{"id": "a", "predict": "x"}\n{"id": "a", "predict": "y"}\n')
    with pytest.raises(RecordValidationError, match="duplicate prediction"):
        evaluate(pred, [ref])
    pred.write_text('{"answer": "x"}\n')
    with pytest.raises(RecordValidationError, match="must hold 'predict'"):
        evaluate(pred, [ref])
    pred.write_text("not json\n")
    with pytest.raises(RecordValidationError, match=r"pred\.jsonl:1: not valid JSON"):
        evaluate(pred, [ref])


def test_unsupported_task_is_counted_not_scored(tmp_path):
    records = build("qwen3vl", tmp_path)[:1]
    records[0].task = "future_task"
    out = evaluate_cases([Case(records[0], "x")])
    assert out["results"] == {} and out["unsupported_tasks"] == {"future_task": 1}


def test_wrong_detections_lower_the_map(tmp_path):
    records = [r for r in build("qwen3vl", tmp_path) if r.task == "detect_all" and r.dataset == "det_hbox"]
    perfect = evaluate_cases([Case(r, r.answer, tmp_path) for r in records])
    # one plane found, one plane and the (non-difficult) ship missed, a false ship
    style = get_style("qwen3vl")
    found = [RenderItem("hbox", (10, 10, 60, 50), label="plane"), RenderItem("hbox", (0, 0, 5, 5), label="ship")]
    partial_answer = style.render(found, style.frame(500, 500))
    partial = evaluate_cases([Case(r, partial_answer, tmp_path) for r in records])
    det = partial["results"]["det_hbox"]["detect_all"]
    assert perfect["results"]["det_hbox"]["detect_all"]["mAP50"] == 1.0
    assert det["per_class"]["plane"]["AP50"] == 0.5 and det["per_class"]["ship"]["AP50"] == 0.0
    assert det["mAP50"] == 0.25


def test_cli_end_to_end(reference, tmp_path, capsys):
    records, ref = reference
    pred = tmp_path / "pred.jsonl"
    _write_jsonl(pred, [{"id": r.id, "predict": r.answer} for r in records])
    out = tmp_path / "report.json"
    assert (
        main(["eval", "--pred", str(pred), "--ref", str(ref.parent), "--out", str(out), "--hbb-iou", "continuous"]) == 0
    )
    printed = capsys.readouterr().out
    assert "detect_all" in printed and "mAP50=1.0000" in printed and "report written" in printed
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["options"] == {"hbb_iou": "continuous", "tie_order": "dota"}
    assert report["results"]["scenes"]["scene_open"]["accuracy"] == 1.0


def test_cli_reports_missing_reference(tmp_path, capsys):
    pred = tmp_path / "p.jsonl"
    pred.write_text("")
    assert main(["eval", "--pred", str(pred), "--ref", str(tmp_path / "none.jsonl")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_format_table_lists_unsupported_tasks():
    text = format_table({"results": {}, "unsupported_tasks": {"x": 3}, "predictions": {"lines": 3, "format": "keyed"}})
    assert "not scored: 3 records of task 'x'" in text and "3 lines (keyed)" in text


def test_options_reach_the_detection_scorer(tmp_path):
    records = [r for r in build("qwen3vl", tmp_path) if r.task == "detect_all" and r.dataset == "det_hbox"]
    cases = [Case(r, r.answer, tmp_path) for r in records]
    for option in ("dota", "continuous"):
        out = evaluate_cases(cases, EvalOptions(hbb_iou=option))
        assert out["results"]["det_hbox"]["detect_all"]["mAP50"] == 1.0


def test_detection_in_two_kinds_is_reported_per_kind(tmp_path):
    records = [r for r in build("qwen3vl", tmp_path) if r.task == "detect_all"]
    for r in records:
        r.dataset = "dota"  # the HBB and OBB records of one dataset
    out = evaluate_cases([Case(r, r.answer, tmp_path) for r in records])
    assert set(out["results"]["dota"]) == {"detect_all/hbox", "detect_all/qbox"}
    assert out["results"]["dota"]["detect_all/qbox"]["kind"] == "qbox"
    name, value = headline("detect_all/qbox", out["results"]["dota"]["detect_all/qbox"])[0]
    assert name == "mAP50_voc07" and value == pytest.approx(1.0)
