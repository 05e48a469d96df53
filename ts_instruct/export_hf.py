"""Export converted records as a Hugging Face dataset: Parquet shards with the images inside, plus a dataset card.

Output folder (what ``datasets.load_dataset(DIR)`` and the Hub read; no loading script)::

    README.md                                   dataset card (:mod:`ts_instruct.hf_card`), YAML ``configs`` naming
                                                the Parquet files of each split
    data/train-00000-of-00002.parquet ...       one set of shards per split (``meta.split`` of the records)

Columns (:data:`FEATURES`):

===============  ===================================  ===========================================================
column           ``datasets`` feature                 content
===============  ===================================  ===========================================================
``id``           ``Value("string")``                  record id ``<dataset>/<split>/<key>/<task>``
``dataset``      ``Value("string")``                  source dataset (converter name)
``task``         ``Value("string")``                  task name
``messages``     ``List({"role", "content"})``        the conversation, as LLaMA-Factory's ``sharegpt`` reads it
``images``       ``List(Image())``                    the images, bytes embedded, in ``<image>`` order
``masks``        ``List(Image())``                    label masks of ``annotations["masks"]``, in that order
``videos``       ``List({"bytes", "path"})``          video files, bytes embedded (empty for image datasets)
``annotations``  ``Value("string")``                  the canonical ground truth, JSON text
``meta``         ``Value("string")``                  provenance, render style and target, JSON text
===============  ===================================  ===========================================================

``annotations`` and ``meta`` stay JSON text because their fields differ between datasets and one Parquet schema
must hold them all (``json.loads`` them back). Each image keeps its relative path in the ``path`` field.

Streaming: one Parquet writer per split stays open; rows go out in row groups of :attr:`HFExportOptions.row_group`
records and a shard is closed once it holds ``max_shard_mb`` of data, so memory is bounded by one row group per
split. Same records and options give the same bytes.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ts_instruct.errors import ConfigError, InvalidImageError
from ts_instruct.recordset import RecordRef

__all__ = ["FEATURES", "ExportSummary", "HFExportOptions", "export_hf", "features", "push_to_hub", "upload_plan"]


def features() -> Any:
    """The ``datasets.Features`` of an export (see the module docstring)."""
    from datasets import Features, Image, List, Value

    return Features(
        {
            "id": Value("string"),
            "dataset": Value("string"),
            "task": Value("string"),
            "messages": List({"role": Value("string"), "content": Value("string")}),
            "images": List(Image()),
            "masks": List(Image()),
            "videos": List({"bytes": Value("binary"), "path": Value("string")}),
            "annotations": Value("string"),
            "meta": Value("string"),
        }
    )


#: Column names, in order.
FEATURES: tuple[str, ...] = ("id", "dataset", "task", "messages", "images", "masks", "videos", "annotations", "meta")


@dataclass
class HFExportOptions:
    """How shards are cut.

    Attributes:
        max_shard_mb: a shard is closed after the row group that brings it to this many MB (HF advises a few
            hundred MB per Parquet file so the viewer and streaming stay fast).
        row_group: records per Parquet row group (the unit a streaming reader fetches; 100 is the Hub's default for
            image datasets).
        name: the dataset name shown in the card.
    """

    max_shard_mb: float = 500.0
    row_group: int = 100
    name: str = "TerraSense TS-Instruct"

    def __post_init__(self) -> None:
        if not self.max_shard_mb > 0:
            raise ConfigError(f"max_shard_mb must be > 0, got {self.max_shard_mb}")
        if not isinstance(self.row_group, int) or self.row_group < 1:
            raise ConfigError(f"row_group must be a positive int, got {self.row_group!r}")


@dataclass
class ExportSummary:
    """What an export wrote, used by the card.

    Attributes:
        records: records per (split, dataset).
        tasks: records per (dataset, task).
        shards: Parquet files per split, relative to the output folder, sorted.
        bytes: bytes written per split.
        render: every distinct ``meta["render"]`` seen, as sorted JSON strings.
        examples: one ``(dataset, task, prompt, answer)`` per render style (its ``meta["render"]`` as sorted JSON):
            the first geometry answer, else the first answer.
        licenses: ``meta["license"]`` of the first record of each dataset.
    """

    records: Counter[tuple[str, str]] = field(default_factory=Counter)
    tasks: Counter[tuple[str, str]] = field(default_factory=Counter)
    shards: dict[str, list[str]] = field(default_factory=dict)
    bytes: Counter[str] = field(default_factory=Counter)
    render: set[str] = field(default_factory=set)
    examples: dict[str, tuple[str, str, str, str]] = field(default_factory=dict)
    example_is_geometry: dict[str, bool] = field(default_factory=dict)
    licenses: dict[str, str | None] = field(default_factory=dict)

    @property
    def splits(self) -> list[str]:
        """Split names: ``train``, ``val``/``validation``, ``test`` first, then the others sorted."""
        order = {"train": 0, "val": 1, "validation": 1, "test": 2}
        return sorted(self.shards, key=lambda s: (order.get(s, 3), s))


def _read_bytes(base: Path, rel: str, what: str) -> dict[str, Any]:
    try:
        return {"bytes": (base / rel).read_bytes(), "path": rel}
    except OSError as e:
        raise InvalidImageError(
            base / rel, f"{what} cannot be read for the export ({e}); run `terrasense validate`"
        ) from e


def _row(ref: RecordRef) -> dict[str, Any]:
    rec = ref.record
    masks = [m for m in rec.annotations.get("masks", []) if m.get("path")]
    return {
        "id": rec.id,
        "dataset": rec.dataset,
        "task": rec.task,
        "messages": [m.to_dict() for m in rec.messages],
        "images": [_read_bytes(ref.base, p, "image") for p in rec.images],
        "masks": [_read_bytes(ref.base, m["path"], "mask") for m in masks],
        "videos": [_read_bytes(ref.base, p, "video") for p in rec.videos],
        "annotations": json.dumps(rec.annotations, ensure_ascii=False, sort_keys=True),
        "meta": json.dumps(rec.meta, ensure_ascii=False, sort_keys=True),
    }


class _SplitWriter:
    """Row groups of one split into ``data/<split>-NNNNN.parquet.partial`` files, renamed by :meth:`finish`."""

    def __init__(self, out: Path, split: str, schema: Any, options: HFExportOptions) -> None:
        self.out, self.split, self.schema, self.options = out, split, schema, options
        self.rows: list[dict[str, Any]] = []
        self.writer: Any = None
        self.index = 0
        self.shard_bytes = 0
        self.total_bytes = 0
        self.partials: list[Path] = []

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        if len(self.rows) >= self.options.row_group:
            self.flush()

    def flush(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not self.rows:
            return
        table = pa.Table.from_pylist(self.rows, schema=self.schema)
        self.rows = []
        if self.writer is None:
            path = self.out / "data" / f"{self.split}-{self.index:05d}.parquet.partial"
            self.partials.append(path)
            self.writer = pq.ParquetWriter(path, self.schema, compression="zstd")
        self.writer.write_table(table, row_group_size=self.options.row_group)
        self.shard_bytes += table.nbytes
        if self.shard_bytes >= self.options.max_shard_mb * 1e6:
            self.close_shard()

    def close_shard(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None
            self.total_bytes += self.partials[-1].stat().st_size
            self.index += 1
            self.shard_bytes = 0

    def finish(self) -> list[str]:
        self.flush()
        self.close_shard()
        names = []
        for k, partial in enumerate(self.partials):
            name = f"data/{self.split}-{k:05d}-of-{len(self.partials):05d}.parquet"
            partial.replace(self.out / name)
            names.append(name)
        return names


def export_hf(refs: Iterable[RecordRef], out: Path, options: HFExportOptions | None = None) -> ExportSummary:
    """Write the Parquet shards and the dataset card of every record into ``out``.

    Args:
        refs: the record stream (:func:`ts_instruct.recordset.iter_records`).
        out: output folder; an earlier export there (``data/`` and ``README.md``) is replaced.
        options: shard sizes and the dataset name.

    Returns:
        What was written (counts per split and dataset, shard names, render styles, examples).

    Raises:
        ConfigError: no record was given, or a split name cannot name a Hub split (letters, digits, ``_`` only).
        InvalidImageError: an image, mask or video file of a record cannot be read.
    """
    import re

    from ts_instruct.hf_card import dataset_card

    options = options or HFExportOptions()
    schema = features().arrow_schema
    if (out / "data").exists():
        shutil.rmtree(out / "data")
    (out / "data").mkdir(parents=True)
    writers: dict[str, _SplitWriter] = {}
    summary = ExportSummary()
    for ref in refs:
        rec, split = ref.record, ref.split
        if split not in writers:
            if not re.fullmatch(r"\w+", split):
                raise ConfigError(f"split names must be letters, digits or '_' to be Hub splits, got {split!r}")
            writers[split] = _SplitWriter(out, split, schema, options)
        writers[split].add(_row(ref))
        summary.records[(split, rec.dataset)] += 1
        summary.tasks[(rec.dataset, rec.task)] += 1
        summary.licenses.setdefault(rec.dataset, rec.meta.get("license"))
        render = rec.meta.get("render")
        if render:
            key = json.dumps(render, sort_keys=True)
            summary.render.add(key)
            geometry = (rec.meta.get("target") or {}).get("type") == "geometry"
            if key not in summary.examples or (geometry and not summary.example_is_geometry[key]):
                summary.examples[key] = (rec.dataset, rec.task, rec.prompt, rec.answer)
                summary.example_is_geometry[key] = geometry
    if not writers:
        raise ConfigError("no record to export; check the path and the filters")
    for split in sorted(writers):
        summary.shards[split] = writers[split].finish()
        summary.bytes[split] = sum((out / name).stat().st_size for name in summary.shards[split])
    (out / "README.md").write_text(dataset_card(summary, options.name), encoding="utf-8")
    return summary


def upload_plan(folder: Path) -> list[tuple[str, int]]:
    """The files :func:`push_to_hub` uploads, as ``(path in the repo, bytes)``, sorted.

    Raises:
        FileNotFoundError: ``folder`` holds no export (no ``README.md`` or no Parquet file).
    """
    files = sorted(p for p in [folder / "README.md", *folder.glob("data/*.parquet")] if p.is_file())
    if not any(p.suffix == ".parquet" for p in files) or not (folder / "README.md").is_file():
        raise FileNotFoundError(f"{folder} is not an export: run `terrasense export-hf PATH --out {folder}` first")
    return [(p.relative_to(folder).as_posix(), p.stat().st_size) for p in files]


def push_to_hub(
    folder: Path, repo_id: str, *, private: bool = False, token: str | None = None, dry_run: bool = False
) -> list[tuple[str, int]]:
    """Upload an export to a Hub dataset repo (created if missing); ``dry_run`` only returns the plan.

    Args:
        folder: the export folder.
        repo_id: ``"<user or org>/<name>"``.
        private: create the repo private.
        token: Hub token (default: ``HF_TOKEN`` or the login of ``hf auth login``).
        dry_run: touch nothing and return what would be uploaded.

    Returns:
        The upload plan (:func:`upload_plan`).

    Raises:
        ConfigError: ``repo_id`` is not ``owner/name``.
    """
    import re

    if not re.fullmatch(r"[\w.-]+/[\w.-]+", repo_id):
        raise ConfigError(f"repo id must be '<owner>/<name>', got {repo_id!r}")
    plan = upload_plan(folder)
    if dry_run:
        return plan
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    api.upload_folder(
        repo_id=repo_id,
        repo_type="dataset",
        folder_path=folder,
        allow_patterns=[name for name, _ in plan],
        delete_patterns=["data/*.parquet"],  # shards of an earlier, differently cut upload
        commit_message="Upload TS-Instruct export",
    )
    return plan
