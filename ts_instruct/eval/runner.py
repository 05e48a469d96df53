"""Read a predictions file and the TS-Instruct test records, pair them, and score every (dataset, task).

Predictions, one JSON object per line, in either form:

* LLaMA-Factory's ``generated_predictions.jsonl``: ``{"prompt": ..., "predict": ..., "label": ...}`` in the order
  of the test records. Pairing is by position, so the file must come from the same test file(s) in the same order;
  each ``label`` (the reference as LLaMA-Factory decoded it: special tokens stripped, a trailing newline kept) is
  checked against the record's answer with special tokens removed, and more than half of them differing stops the
  evaluation as misaligned.
* Keyed by record id: ``{"id": ..., "predict": ...}`` (what ``terrasense predict`` writes). A record without a
  prediction is scored with an empty answer (unparsed, so wrong); predictions for unknown ids are counted.

References: one or more ``.jsonl`` files, or folders whose ``*.jsonl`` files are read in sorted (shard) order.
Relative image and mask paths resolve against the folder of the file a record comes from, unless
``dataset_dir`` is given. Tasks are scored by :data:`TASK_METRICS`; a task without a scorer is counted under
``unsupported_tasks``.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from ts_instruct.errors import ConfigError, RecordValidationError
from ts_instruct.eval import geometry_tasks as geo
from ts_instruct.eval import text_tasks as text
from ts_instruct.eval.reading import Case
from ts_instruct.record import Record

Scorer = Callable[..., dict[str, Any]]

#: task name → scorer (cases of one dataset and task, keyword options) → metrics. Adding a task is one line.
TASK_METRICS: dict[str, Scorer] = {
    "scene_open": text.score_scene_open,
    "scene_choice": text.score_scene_choice,
    "caption": text.score_caption,
    "vqa": text.score_vqa,
    "detect_all": geo.score_detect_all,
    "detect_class": geo.score_detect_class,
    "count": text.score_count,
    "exists": text.score_yes_no,
    "classify_box": text.score_classify_box,
    "ground": geo.score_ground,
    "describe_box": text.score_describe_box,
    "seg_polygons": geo.score_seg_polygons,
    "seg_class_polygons": geo.score_seg_class_polygons,
    "seg_count": text.score_count,
    "seg_exists": text.score_yes_no,
    "landcover_present": text.score_present_classes,
    "landcover_fraction": text.score_class_fractions,
    "change_exists": text.score_yes_no,
    "change_regions": geo.score_change_regions,
    "change_semantic": geo.score_change_semantic,
    "change_fraction": text.score_fraction,
    "change_count": text.score_count,
    "change_caption": text.score_caption,
}

#: Tasks whose records may be written with different geometry kinds (HBB and OBB detection of one dataset): when a
#: (dataset, task) group holds several kinds, each is scored apart and reported as ``"<task>/<kind>"``.
SPLIT_BY_KIND = frozenset(["detect_all", "detect_class", "ground"])

_SPECIAL = re.compile(r"<\|[A-Za-z_]+\|>")


@dataclass
class EvalOptions:
    """Scoring switches.

    Attributes:
        hbb_iou: horizontal-box IoU in detection: DOTA's ``"+1"`` pixel widths (``"dota"``) or ``"continuous"``.
        tie_order: ranking of equal detection scores: numpy's default sort as DOTA (``"dota"``) or ``"stable"``.
    """

    hbb_iou: Literal["dota", "continuous"] = "dota"
    tie_order: Literal["dota", "stable"] = "dota"


def _jsonl(path: Path) -> list[tuple[int, Any]]:
    rows = []
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rows.append((number, json.loads(line)))
            except json.JSONDecodeError as e:
                raise RecordValidationError(f"{path}:{number}: not valid JSON ({e})") from e
    return rows


def reference_files(paths: Sequence[Path]) -> list[Path]:
    """The ``.jsonl`` files named, folders expanded to their sorted ``*.jsonl`` files."""
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = sorted(p.glob("*.jsonl"))
            if not found:
                raise FileNotFoundError(f"no .jsonl file in reference folder {p}")
            files.extend(found)
        elif p.is_file():
            files.append(p)
        else:
            raise FileNotFoundError(f"reference file {p} does not exist; pass the TS-Instruct test .jsonl (or folder)")
    return files


def read_references(paths: Sequence[Path]) -> list[tuple[Record, Path]]:
    """Records of the reference files in order, each with the folder its relative paths resolve against."""
    out = []
    for path in reference_files(paths):
        for number, obj in _jsonl(path):
            if not isinstance(obj, dict):
                raise RecordValidationError(f"{path}:{number}: a record must be a JSON object")
            try:
                out.append((Record.from_dict(obj), path.parent))
            except RecordValidationError as e:
                raise RecordValidationError(f"{path}:{number}: {e}") from e
    return out


def _same_answer(label: str, answer: str) -> bool:
    return " ".join(label.split()) == " ".join(_SPECIAL.sub("", answer).split())


def read_predictions(path: Path, records: Sequence[Record]) -> tuple[list[str | None], dict[str, Any]]:
    """The answer to each record (``None`` when missing) and facts about the file (format, counts).

    Raises:
        RecordValidationError: unreadable lines, an unknown format, duplicate ids, a line count that differs
            from the references (position-paired file), or labels that do not follow the references.
    """
    rows = _jsonl(path)
    if rows and all(isinstance(r, dict) and "id" in r and "predict" in r for _, r in rows):
        by_id: dict[str, str] = {}
        for number, row in rows:
            if str(row["id"]) in by_id:
                raise RecordValidationError(f"{path}:{number}: duplicate prediction for id {row['id']!r}")
            by_id[str(row["id"])] = str(row["predict"])
        ids = {r.id for r in records}
        answers: list[str | None] = [by_id.get(r.id) for r in records]
        info = {"format": "keyed", "lines": len(rows), "extra": sum(i not in ids for i in by_id)}
    elif all(isinstance(r, dict) and "predict" in r for _, r in rows):
        if len(rows) != len(records):
            raise RecordValidationError(
                f"{path} has {len(rows)} predictions but the references hold {len(records)} records; "
                f"generated_predictions.jsonl pairs by position, so pass the same test file(s) LLaMA-Factory ran on"
            )
        answers = [str(r["predict"]) for _, r in rows]
        checked = [(r, rec) for (_, r), rec in zip(rows, records, strict=True) if "label" in r]
        mismatches = sum(not _same_answer(str(r["label"]), rec.answer) for r, rec in checked)
        if checked and mismatches > len(checked) / 2:
            raise RecordValidationError(
                f"{path}: {mismatches} of {len(checked)} labels differ from the reference answers; the predictions "
                f"do not follow the order of the reference records (pass the test file LLaMA-Factory ran on)"
            )
        info = {"format": "llamafactory", "lines": len(rows), "extra": 0, "label_mismatches": mismatches}
    else:
        raise RecordValidationError(
            f"{path}: each line must hold 'predict' and either 'id' (keyed) or LLaMA-Factory's 'prompt'/'label'"
        )
    info["missing"] = sum(a is None for a in answers)
    return answers, info


def evaluate_cases(cases: Sequence[Case], options: EvalOptions | None = None) -> dict[str, Any]:
    """Score cases grouped by (dataset, task).

    Returns:
        ``{"results": {dataset: {task: metrics}}, "unsupported_tasks": {task: count}}``; within a dataset, tasks
        come in the order of :data:`TASK_METRICS` (``"<task>/<kind>"`` entries: see :data:`SPLIT_BY_KIND`).
    """
    options = options or EvalOptions()
    groups: dict[tuple[str, str], list[Case]] = defaultdict(list)
    for c in cases:
        groups[(c.record.dataset, c.record.task)].append(c)
    order = {task: i for i, task in enumerate(TASK_METRICS)}
    results: dict[str, dict[str, Any]] = {}
    unsupported: Counter[str] = Counter()
    for (dataset, task), group in sorted(groups.items(), key=lambda kv: (kv[0][0], order.get(kv[0][1], 1e9))):
        scorer = TASK_METRICS.get(task)
        if scorer is None:
            unsupported[task] += len(group)
            continue
        parts: dict[str, list[Case]] = {task: group}
        if task in SPLIT_BY_KIND:
            by_kind: dict[str, list[Case]] = defaultdict(list)
            for c in group:
                by_kind[c.geometry_kind("hbox")].append(c)
            if len(by_kind) > 1:
                parts = {f"{task}/{kind}": by_kind[kind] for kind in sorted(by_kind)}
        for name, part in parts.items():
            metrics = scorer(part, **asdict(options))
            metrics["missing"] = sum(c.missing for c in part)
            results.setdefault(dataset, {})[name] = metrics
    return {"results": results, "unsupported_tasks": dict(sorted(unsupported.items()))}


def evaluate(
    pred: Path, refs: Sequence[Path], *, dataset_dir: Path | None = None, options: EvalOptions | None = None
) -> dict[str, Any]:
    """Read predictions and references, score every (dataset, task), and return the report (JSON-ready).

    Raises:
        ConfigError: when the references hold no record.
    """
    references = read_references(refs)
    if not references:
        raise ConfigError(f"the reference files {[str(r) for r in refs]} hold no record")
    answers, info = read_predictions(pred, [r for r, _ in references])
    cases = [
        Case(record, "" if answer is None else answer, dataset_dir or folder, missing=answer is None)
        for (record, folder), answer in zip(references, answers, strict=True)
    ]
    report: dict[str, Any] = {"predictions": {"path": str(pred), **info}, "references": len(references)}
    report["options"] = asdict(options or EvalOptions())
    report.update(evaluate_cases(cases, options))
    return report
