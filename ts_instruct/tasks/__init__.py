"""Tasks: a Sample in, prompt/answer pairs out. :data:`TASKS` is the explicit registry of task name → function.

Add a task by writing its function in the module of its family and listing it here; :data:`FAMILY_TASKS` gives the
tasks a converter family runs by default (``terrasense convert --tasks`` overrides).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from ts_instruct.errors import ConfigError
from ts_instruct.record import Record
from ts_instruct.sample import Family, Sample
from ts_instruct.tasks.base import TaskContext, TaskFn, TaskOptions, TaskOutput, escape_placeholders, to_record
from ts_instruct.tasks.captioning import caption
from ts_instruct.tasks.change import (
    change_caption,
    change_count,
    change_exists,
    change_fraction,
    change_regions,
    change_semantic,
)
from ts_instruct.tasks.classification import scene_choice, scene_open
from ts_instruct.tasks.detection import classify_box, count, detect_all, detect_class, exists
from ts_instruct.tasks.grounding import describe_box, ground
from ts_instruct.tasks.segmentation import (
    landcover_fraction,
    landcover_present,
    seg_count,
    seg_exists,
    seg_polygons,
)
from ts_instruct.tasks.vqa import vqa

TASKS: dict[str, TaskFn] = {
    "scene_open": scene_open,
    "scene_choice": scene_choice,
    "detect_all": detect_all,
    "detect_class": detect_class,
    "count": count,
    "exists": exists,
    "classify_box": classify_box,
    "seg_polygons": seg_polygons,
    "seg_count": seg_count,
    "seg_exists": seg_exists,
    "landcover_present": landcover_present,
    "landcover_fraction": landcover_fraction,
    "caption": caption,
    "vqa": vqa,
    "ground": ground,
    "describe_box": describe_box,
    "change_exists": change_exists,
    "change_regions": change_regions,
    "change_semantic": change_semantic,
    "change_fraction": change_fraction,
    "change_count": change_count,
    "change_caption": change_caption,
}

FAMILY_TASKS: dict[Family, tuple[str, ...]] = {
    "classification": ("scene_open", "scene_choice"),
    "detection": ("detect_all", "detect_class", "count", "exists", "classify_box"),
    "segmentation": ("seg_polygons", "seg_count", "seg_exists"),
    "caption": ("caption",),
    "vqa": ("vqa",),
    "grounding": ("ground", "describe_box"),
    "video": ("caption", "scene_open", "scene_choice"),
    "change": (
        "change_exists",
        "change_regions",
        "change_semantic",
        "change_fraction",
        "change_count",
        "change_caption",
    ),
}

__all__ = [
    "FAMILY_TASKS",
    "TASKS",
    "TaskContext",
    "TaskFn",
    "TaskOptions",
    "TaskOutput",
    "build_records",
    "escape_placeholders",
    "resolve_tasks",
]


def resolve_tasks(names: Iterable[str]) -> list[str]:
    """Check task names against the registry; raises ConfigError listing the known ones."""
    names = list(names)
    unknown = [n for n in names if n not in TASKS]
    if unknown:
        raise ConfigError(f"unknown task(s) {unknown}; known tasks: {sorted(TASKS)}")
    return names


def build_records(sample: Sample, ctx: TaskContext, tasks: Iterable[str]) -> Iterator[Record]:
    """Run each task on the sample, in the given order, and wrap every output into a record.

    Records that carry the sample's whole ground truth share one ``annotations`` dict (see :meth:`Record.to_json`).
    """
    shared: dict[str, Any] | None = None
    for name in tasks:
        for out in TASKS[name](sample, ctx):
            if out.annotations is None and shared is None:
                shared = sample.annotations.to_dict()
            yield to_record(sample, out, ctx, annotations=shared)
