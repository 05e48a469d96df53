"""Streaming reads of converted records, with filters and model predictions (``preview``, ``stats``, exports).

Records are read one line at a time from every ``*.jsonl`` under a path, in sorted file order (the shard order), so
nothing ever holds a whole dataset. Each record comes with the folder its relative ``images`` (and mask) paths
resolve against: the folder of its JSONL file.

Predictions (``--pred``), one JSON object per line, in either of the two forms ``terrasense eval`` reads:

* keyed by record id: ``{"id": ..., "predict": ...}``; loaded into a dict of id → answer text (the answers only,
  never images), so records and predictions may come in any order;
* LLaMA-Factory's ``generated_predictions.jsonl``: ``{"prompt": ..., "predict": ..., "label": ...}`` in the order of
  the records; read in step with them, line by line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ts_instruct.errors import RecordValidationError
from ts_instruct.record import Record
from ts_instruct.validate import iter_jsonl_files

__all__ = ["Predictions", "RecordRef", "iter_records", "sample_runs"]


@dataclass
class RecordRef:
    """One record as read from disk.

    Attributes:
        record: the parsed record.
        base: the folder its relative image and mask paths resolve against.
        file: the JSONL file it came from.
        line: its 1-based line number in ``file``.
        prediction: the model's answer paired with it, when predictions were given (``None``: no prediction).
    """

    record: Record
    base: Path
    file: Path
    line: int
    prediction: str | None = None

    @property
    def split(self) -> str:
        """The record's split: ``meta.split``, else the split in its id (mixtures drop ``meta``), else unknown."""
        if self.record.meta.get("split"):
            return str(self.record.meta["split"])
        parts = self.record.id.split("/")
        return parts[1] if len(parts) >= 4 and parts[1] else "unknown"

    @property
    def sample_key(self) -> tuple[str, str, str]:
        """``(dataset, split, key)``: the same for every record made from one sample."""
        key = self.record.meta.get("key")
        if key is None:  # ids are "<dataset>/<split>/<key>/<task><suffix>", keys free of "/" (mixtures drop meta)
            parts = self.record.id.split("/")
            key = parts[2] if len(parts) >= 4 else self.record.id
        return self.record.dataset, self.split, str(key)


def iter_records(
    path: Path,
    *,
    tasks: Iterable[str] | None = None,
    datasets: Iterable[str] | None = None,
    splits: Iterable[str] | None = None,
    predictions: Predictions | None = None,
) -> Iterator[RecordRef]:
    """Every record under ``path`` (a ``.jsonl`` file or a folder), streamed in shard order, optionally filtered.

    Args:
        path: a JSONL file, a converted dataset folder, or a folder of them.
        tasks: keep only records of these tasks (``None``: all).
        datasets: keep only records of these datasets.
        splits: keep only records of these splits (``meta.split``).
        predictions: model answers to pair with the records (before filtering, so a positional file stays aligned).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        RecordValidationError: a line is not a valid record (the message names the file and line).
    """
    want_tasks = None if tasks is None else set(tasks)
    want_datasets = None if datasets is None else set(datasets)
    want_splits = None if splits is None else set(splits)
    refs = _read(path)
    if predictions is not None:
        refs = predictions.attach(refs)
    for ref in refs:
        if want_tasks is not None and ref.record.task not in want_tasks:
            continue
        if want_datasets is not None and ref.record.dataset not in want_datasets:
            continue
        if want_splits is not None and ref.split not in want_splits:
            continue
        yield ref


def _read(path: Path) -> Iterator[RecordRef]:
    for file in iter_jsonl_files(path):
        with open(file, encoding="utf-8") as fh:
            for n, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    rec = Record.from_json(line)
                except RecordValidationError as e:
                    raise RecordValidationError(f"{file}:{n}: {e}") from e
                yield RecordRef(rec, file.parent, file, n)


def sample_runs(refs: Iterable[RecordRef]) -> Iterator[tuple[bool, RecordRef]]:
    """Yield ``(first_of_sample, ref)``: True for the first record of each run of records made from one sample.

    ``convert`` writes all records of a sample one after the other, so counting runs counts samples without keeping
    a set of every key. A shuffled mixture breaks the runs apart and counts a sample once per run.
    """
    previous: tuple[str, str, str] | None = None
    for ref in refs:
        key = ref.sample_key
        yield key != previous, ref
        previous = key


def _read_json_line(line: str, where: str) -> dict[str, Any]:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as e:
        raise RecordValidationError(f"{where}: not valid JSON ({e})") from e
    if not isinstance(obj, dict) or "predict" not in obj:
        raise RecordValidationError(
            f"{where}: a prediction must be a JSON object with a 'predict' key "
            f"({{'id': ..., 'predict': ...}} or LLaMA-Factory's generated_predictions.jsonl), got {line.strip()[:80]!r}"
        )
    return obj


class Predictions:
    """Model answers paired with records (see the module docstring for both file forms).

    Args:
        path: the predictions JSONL file.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        RecordValidationError: a line is not a prediction object, or ids repeat in a keyed file.

    Use :meth:`attach` on the record stream: it sets ``RecordRef.prediction``. For a positional file the records
    must be exactly the ones LLaMA-Factory predicted, in the same order (:func:`iter_records` pairs them before
    filtering); :meth:`attach` raises when the counts differ.
    """

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise FileNotFoundError(f"predictions file {path} does not exist")
        self.path = path
        self.by_id: dict[str, str] | None = None
        with open(path, encoding="utf-8") as fh:
            first = next((line for line in fh if line.strip()), None)
        if first is not None and "id" in _read_json_line(first, f"{path}:1"):
            self.by_id = {}
            with open(path, encoding="utf-8") as fh:
                for n, line in enumerate(fh, start=1):
                    if not line.strip():
                        continue
                    obj = _read_json_line(line, f"{path}:{n}")
                    if "id" not in obj:
                        raise RecordValidationError(f"{path}:{n}: keyed predictions need an 'id' on every line")
                    key = str(obj["id"])
                    if key in self.by_id:
                        raise RecordValidationError(f"{path}:{n}: duplicate prediction for id {key!r}")
                    self.by_id[key] = str(obj["predict"])

    @property
    def keyed(self) -> bool:
        """True for an ``{"id", "predict"}`` file, False for a positional one."""
        return self.by_id is not None

    def attach(self, refs: Iterable[RecordRef]) -> Iterator[RecordRef]:
        """Set ``prediction`` on each record and yield it (records without a keyed prediction keep ``None``).

        Raises:
            RecordValidationError: a positional file has fewer or more lines than there are records.
        """
        if self.by_id is not None:
            for ref in refs:
                ref.prediction = self.by_id.get(ref.record.id)
                yield ref
            return
        with open(self.path, encoding="utf-8") as fh:
            lines = _nonblank(fh)
            count = 0
            for ref in refs:
                line = next(lines, None)
                if line is None:
                    raise RecordValidationError(
                        f"{self.path} has {count} predictions but there are more records; generated_predictions.jsonl "
                        "pairs by position, so pass the same test file LLaMA-Factory ran on"
                    )
                count += 1
                ref.prediction = str(_read_json_line(line, f"{self.path}:{count}")["predict"])
                yield ref
            if next(lines, None) is not None:
                raise RecordValidationError(
                    f"{self.path} has more predictions than the {count} records; pass the same test file "
                    "LLaMA-Factory ran on"
                )


def _nonblank(fh: IO[str]) -> Iterator[str]:
    return (line for line in fh if line.strip())
