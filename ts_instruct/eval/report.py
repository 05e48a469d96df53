"""The evaluation report: a plain-text table per dataset and task, and the JSON file.

The table shows, for each (dataset, task), the number of answers, how many could not be parsed (scored as wrong)
and the task's headline metrics (:data:`HEADLINES`); the JSON holds everything, per-class values included.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ts_instruct.imageio import write_bytes_atomic

#: task → metrics shown in the table, in order. Tasks not listed show their numeric top-level metrics.
HEADLINES: dict[str, tuple[str, ...]] = {
    "scene_open": ("accuracy", "mean_class_accuracy"),
    "scene_choice": ("accuracy", "mean_class_accuracy"),
    "classify_box": ("accuracy", "mean_class_accuracy"),
    "caption": ("BLEU-1", "BLEU-4", "ROUGE-L", "CIDEr"),
    "describe_box": ("BLEU-1", "BLEU-4", "ROUGE-L", "CIDEr"),
    "change_caption": ("BLEU-1", "BLEU-4", "ROUGE-L", "CIDEr"),
    "vqa": ("overall_accuracy", "average_accuracy"),
    "detect_all": ("mAP50_voc07", "mAP50", "mAP50_95"),
    "detect_class": ("mAP50_voc07", "mAP50", "mAP50_95"),
    "count": ("accuracy", "mae"),
    "change_count": ("accuracy", "mae"),
    "seg_count": ("accuracy", "mae"),
    "exists": ("accuracy", "f1"),
    "change_exists": ("accuracy", "f1"),
    "seg_exists": ("accuracy", "f1"),
    "ground": ("Acc@0.5", "Acc@0.7", "mean_iou"),
    "seg_polygons": ("miou", "mf1"),
    "seg_class_polygons": ("miou", "mf1"),
    "landcover_present": ("micro_f1", "exact_match", "sample_f1"),
    "landcover_fraction": ("mae", "accuracy"),
    "change_fraction": ("mae", "accuracy"),
    "change_regions": ("f1", "iou", "precision", "recall"),
    "change_semantic": ("miou", "sek", "score", "fscd"),
}
_COUNTS = ("n", "unparsed", "missing", "partial")


def headline(task: str, metrics: dict[str, Any]) -> list[tuple[str, float]]:
    """The (name, value) pairs the table shows for one task."""
    keys = HEADLINES.get(task.split("/")[0]) or tuple(
        k for k, v in metrics.items() if isinstance(v, float) and k not in _COUNTS
    )
    return [(k, float(metrics[k])) for k in keys if isinstance(metrics.get(k), (int, float))]


def format_table(report: dict[str, Any]) -> str:
    """The report as an aligned text table, then notes on predictions and unsupported tasks.

    >>> print(format_table({"results": {"d": {"count": {"n": 2, "unparsed": 1, "accuracy": 0.5, "mae": 1.0}}}}))
    dataset  task   n  unparsed  metrics
    d        count  2  1         accuracy=0.5000  mae=1.0000
    """
    rows = [("dataset", "task", "n", "unparsed", "metrics")]
    for dataset, tasks in report.get("results", {}).items():
        for task, metrics in tasks.items():
            shown = "  ".join(f"{k}={v:.4f}" for k, v in headline(task, metrics))
            rows.append((dataset, task, str(metrics.get("n", "")), str(metrics.get("unparsed", "")), shown))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join([*(r[i].ljust(widths[i]) for i in range(4)), r[4]]).rstrip() for r in rows]
    pred = report.get("predictions")
    if pred:
        lines.append(
            f"predictions: {pred.get('lines', 0)} lines ({pred.get('format')}), {pred.get('missing', 0)} records "
            f"without an answer, {pred.get('extra', 0)} answers for unknown records"
            + (f", {pred['label_mismatches']} labels differing" if pred.get("label_mismatches") else "")
        )
    for task, count in report.get("unsupported_tasks", {}).items():
        lines.append(f"not scored: {count} records of task {task!r} (no scorer in TASK_METRICS)")
    return "\n".join(lines)


def write_report(path: Path, report: dict[str, Any]) -> None:
    """Write the report as indented JSON (UTF-8), atomically."""
    text = json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    write_bytes_atomic(path, text.encode("utf-8"))
