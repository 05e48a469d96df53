"""Mix converted datasets into one training set for LLaMA-Factory, with weights, deterministically and streaming.

Input: converted datasets, ``<converted_root>/<dataset>/<split>-NNNNN.jsonl`` with images under
``<converted_root>/<dataset>/`` (record ``images`` are relative to that folder), and a mixture config
(``configs/mixture.yaml``)::

    name: terrasense_mix
    converted_root: data/converted      # relative paths are relative to the working directory, like LLaMA-Factory's
    output_dir: data/terrasense         # becomes the training config's dataset_dir
    seed: 0
    style: qwen25vl                     # the render style every record must carry in meta.render.style
    train:
      - {name: dior, split: train, weight: 1.0}
      - {name: nwpu_resisc45, split: train, weight: 0.25}
    eval:
      - {name: dior, split: val, weight: 0.1}
    holdout:                            # benchmarks kept out of training but not written (weights ignored)
      - {name: dior_rsvg, split: test}

Weights: a record is written ``floor(w)`` times, plus once more with probability ``frac(w)``; the coin is a hash of
``(seed, record id, copy index)``, so the result is the same on every machine and no dataset is ever held in memory.

Output, all under ``output_dir`` (each file replaced atomically at the end, so a failed run leaves the old ones):

* ``<name>.jsonl`` (train) and ``<name>_eval.jsonl`` (eval, when eval entries exist): one line per copy with only
  what LLaMA-Factory reads, ``id``, ``dataset``, ``task``, ``messages``, ``images`` (and ``videos``). Annotations
  and meta stay in the converted files: their per-dataset shapes differ, and the JSON loader LLaMA-Factory uses
  (HF ``datasets``, Arrow) refuses columns whose type changes between rows. Image paths are rewritten relative to
  ``output_dir`` (``../converted/dior/images/train/00001.jpg``), which LLaMA-Factory joins with ``dataset_dir``
  (absolute when no relative path exists, e.g. another Windows drive).
* ``dataset_info.json``: a ``sharegpt`` entry with role/content tags per file (the ``mllm_demo`` shape; existing
  entries of other mixtures are kept).
* ``mix_report.json``: counts per dataset, split and task, the render style, dataset licences and one example prompt
  per task (``scripts/publish.py`` writes the model card from it).
* ``leakage_report.json``: which training splits share images with which evaluation or held-out splits, how many
  records were dropped, and examples (:mod:`ts_instruct.leakage`).

Leakage: every image of every ``eval`` and ``holdout`` split is indexed in full (whatever its weight), and a training
record with an image that matches one (same file, same source scene, a near-duplicate, or a grid tile of it) is
dropped; ``LeakageOptions(allow=True)`` (``--allow-leakage``) keeps it and still reports it. Training records that
repeat an earlier training image are reported, and dropped with ``collapse_duplicates``.

Render style: every record's ``meta.render`` must be identical and name the mixture's ``style``; with a training
config, its template, model family and ``image_max_pixels``/``image_min_pixels`` must match too
(:func:`ts_instruct.lf_config.check_render_matches`). Anything else raises :class:`ConfigError`: Qwen2.5-VL boxes in
absolute pixels would otherwise train silently against images resized to another size.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import yaml

from ts_instruct.errors import ConfigError, InvalidImageError, RecordValidationError
from ts_instruct.leakage import LeakageGuard, LeakageOptions, label_of
from ts_instruct.lf_config import check_render_matches
from ts_instruct.record import IMAGE_PLACEHOLDER

#: The dataset_info.json entry shape (LLaMA-Factory's mllm_demo). Not "openai" formatting: that one appends
#: "detailed thinking off" to every system prompt.
SHAREGPT_TAGS = {
    "role_tag": "role",
    "content_tag": "content",
    "user_tag": "user",
    "assistant_tag": "assistant",
    "system_tag": "system",
}
_LEAN_KEYS = ("id", "dataset", "task", "messages", "images", "videos")


@dataclass(frozen=True)
class MixEntry:
    """One converted split taken into the mixture.

    Attributes:
        name: dataset folder under ``converted_root`` (``"dior"``).
        split: split file prefix (``"train"`` reads ``train-00000.jsonl``, ``train-00001.jsonl``, ...).
        weight: expected copies per record, ``>= 0`` (``0.25`` keeps a quarter, ``2`` doubles).
    """

    name: str
    split: str
    weight: float = 1.0


@dataclass(frozen=True)
class MixtureConfig:
    """A mixture config (see the module docstring for the YAML form)."""

    name: str
    converted_root: Path
    output_dir: Path
    seed: int
    style: str
    train: tuple[MixEntry, ...]
    eval: tuple[MixEntry, ...] = ()
    holdout: tuple[MixEntry, ...] = ()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "mixture config") -> MixtureConfig:
        """Build from the parsed YAML; raises :class:`ConfigError` naming the bad key."""
        for key in ("name", "converted_root", "output_dir", "style", "train"):
            if key not in data:
                raise ConfigError(f"{source}: missing key {key!r}")
        name = str(data["name"])
        if not name or "/" in name or name.endswith("_eval"):
            raise ConfigError(f"{source}: name must be a file stem without '/' or an '_eval' suffix, got {name!r}")
        seed = data.get("seed", 0)
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise ConfigError(f"{source}: seed must be an integer, got {seed!r}")
        train = _entries(data["train"], f"{source}: train")
        if not train:
            raise ConfigError(f"{source}: train must list at least one {{name, split, weight}} entry")
        return cls(
            name=name,
            converted_root=Path(str(data["converted_root"])),
            output_dir=Path(str(data["output_dir"])),
            seed=seed,
            style=str(data["style"]),
            train=train,
            eval=_entries(data.get("eval") or [], f"{source}: eval"),
            holdout=_entries(data.get("holdout") or [], f"{source}: holdout"),
        )

    @classmethod
    def from_yaml(cls, path: str | Path) -> MixtureConfig:
        """Read ``path`` (YAML)."""
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except yaml.YAMLError as e:
            raise ConfigError(f"{path}: not valid YAML: {e}") from e
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: a mixture config must be a YAML mapping, got {type(data).__name__}")
        return cls.from_dict(data, source=str(path))


def _entries(raw: Any, where: str) -> tuple[MixEntry, ...]:
    if not isinstance(raw, list):
        raise ConfigError(f"{where} must be a list of {{name, split, weight}} mappings, got {type(raw).__name__}")
    out = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or "name" not in item or "split" not in item:
            raise ConfigError(f"{where}[{i}] must be a mapping with name and split, got {item!r}")
        weight = item.get("weight", 1.0)
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not math.isfinite(weight) or weight < 0:
            raise ConfigError(f"{where}[{i}] ({item['name']}): weight must be a finite number >= 0, got {weight!r}")
        out.append(MixEntry(str(item["name"]), str(item["split"]), float(weight)))
    return tuple(out)


def copies(seed: int, record_id: str, weight: float) -> int:
    """How many times a record goes into the mixture: ``floor(weight)``, plus one with probability ``frac(weight)``.

    The coin is the first 8 bytes of ``sha256(seed, record_id, floor(weight))`` read as a number in ``[0, 1)``,
    so the choice is stable across runs, machines and Python versions.

    >>> copies(0, "dior/train/00001/det", 2.0), copies(0, "dior/train/00001/det", 0.0)
    (2, 0)
    >>> sum(copies(7, f"r{i}", 0.25) for i in range(4000)) / 4000  # about a quarter
    0.25175
    """
    whole = math.floor(weight)
    frac = weight - whole
    if frac <= 0:
        return whole
    digest = hashlib.sha256(f"{seed}\x00{record_id}\x00{whole}".encode()).digest()
    return whole + (int.from_bytes(digest[:8], "big") / 2**64 < frac)


@dataclass
class EntryCounts:
    """Counts of one mixture entry: records read, copies written, copies per task."""

    name: str
    split: str
    weight: float
    records_in: int = 0
    records_out: int = 0
    tasks: Counter[str] = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types, tasks sorted by name."""
        return {
            "name": self.name,
            "split": self.split,
            "weight": self.weight,
            "records_in": self.records_in,
            "records_out": self.records_out,
            "tasks": dict(sorted(self.tasks.items())),
        }


@dataclass
class MixReport:
    """What :func:`mix` wrote (``mix_report.json``)."""

    name: str
    seed: int
    style: str
    render: dict[str, Any] = field(default_factory=dict)
    parts: dict[str, list[EntryCounts]] = field(default_factory=dict)
    datasets: dict[str, dict[str, Any]] = field(default_factory=dict)
    examples: dict[str, dict[str, str]] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    leakage: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types, in a stable order."""
        return {
            "name": self.name,
            "seed": self.seed,
            "style": self.style,
            "render": self.render,
            "files": self.files,
            **{
                part: {"records": sum(e.records_out for e in entries), "entries": [e.to_dict() for e in entries]}
                for part, entries in self.parts.items()
            },
            "datasets": dict(sorted(self.datasets.items())),
            "examples": dict(sorted(self.examples.items())),
            "leakage": self.leakage,
        }


def mix(
    config: MixtureConfig,
    *,
    train_config: Mapping[str, Any] | None = None,
    train_config_source: str = "",
    leakage: LeakageOptions | None = None,
) -> MixReport:
    """Write the mixture, ``dataset_info.json``, ``mix_report.json`` and ``leakage_report.json`` under ``output_dir``.

    Args:
        config: the mixture.
        train_config: a LLaMA-Factory training config (flat dict) the records' render style must match, or ``None``.
        train_config_source: where ``train_config`` came from, for messages.
        leakage: what to do with training records that match evaluation or held-out images (default: drop them).

    Returns:
        the report that was also written to ``mix_report.json``.

    Raises:
        ConfigError: a split has no files, or render styles disagree (between records, with ``config.style`` or
            with ``train_config``).
        InvalidImageError: a record names an image that does not exist.
        RecordValidationError: a line is not a record, or its ``<image>`` count differs from its images.
    """
    out_dir = config.output_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    report = MixReport(name=config.name, seed=config.seed, style=config.style)
    info: dict[str, Any] = {}
    staged: list[tuple[Path, Path]] = []
    guard = LeakageGuard(leakage)
    for entry in (*config.eval, *config.holdout):
        for where, record in iter_split(config.converted_root, entry.name, entry.split):
            label = label_of(entry.name, entry.split)
            guard.add_reference(record, where, label=label, dataset_dir=config.converted_root / entry.name)
    try:
        for part, entries, stem in (("train", config.train, config.name), ("eval", config.eval, f"{config.name}_eval")):
            if not entries:
                continue
            target = out_dir / f"{stem}.jsonl"
            with _staged(target, staged) as out:
                check = guard if part == "train" else None
                counts, has_videos = _mix_part(config, entries, out, report, train_config, train_config_source, check)
            report.parts[part] = counts
            report.files[part] = target.name
            columns = {"messages": "messages", "images": "images", **({"videos": "videos"} if has_videos else {})}
            info[stem] = {
                "file_name": target.name,
                "formatting": "sharegpt",
                "columns": columns,
                "tags": SHAREGPT_TAGS,
            }
        with _staged(out_dir / "dataset_info.json", staged) as f:
            json.dump({**_read_dataset_info(out_dir), **info}, f, ensure_ascii=False, indent=2)
            f.write("\n")
        leaks = guard.report()
        with _staged(out_dir / "leakage_report.json", staged) as f:
            json.dump(leaks, f, ensure_ascii=False, indent=2)
            f.write("\n")
        report.leakage = {"file": "leakage_report.json", "summary": guard.summary(), "dropped": guard.dropped}
        report.leakage |= {"collapsed": guard.collapsed, "overlaps": leaks["leaks"]["pairs"]}
        with _staged(out_dir / "mix_report.json", staged) as f:
            json.dump(report.to_dict(), f, ensure_ascii=False, indent=2)
            f.write("\n")
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    for tmp, target in staged:
        os.replace(tmp, target)
    return report


def _mix_part(
    config: MixtureConfig,
    entries: tuple[MixEntry, ...],
    out: TextIO,
    report: MixReport,
    train_config: Mapping[str, Any] | None,
    train_config_source: str,
    guard: LeakageGuard | None = None,
) -> tuple[list[EntryCounts], bool]:
    """The record loop: read every entry's records once, check them, write their copies to ``out``."""
    all_counts = []
    has_videos = False
    for entry in entries:
        counts = EntryCounts(entry.name, entry.split, entry.weight)
        dataset_dir = config.converted_root / entry.name
        for where, record in iter_split(config.converted_root, entry.name, entry.split):
            counts.records_in += 1
            _check_render(record, where, config, report, train_config, train_config_source)
            n = copies(config.seed, str(record["id"]), entry.weight)
            if n == 0:
                continue
            label = label_of(entry.name, entry.split)
            if guard is not None and not guard.admit(record, where, label=label, dataset_dir=dataset_dir):
                continue
            lean = _lean(record, where, dataset_dir, config.output_dir)
            line = json.dumps(lean, ensure_ascii=False, separators=(",", ":"))
            for _ in range(n):
                out.write(line + "\n")
            counts.records_out += n
            counts.tasks[str(record["task"])] += n
            has_videos = has_videos or bool(record.get("videos"))
            _note_dataset(record, report)
        all_counts.append(counts)
    return all_counts, has_videos


def iter_split(converted_root: Path, name: str, split: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield ``("<file>:<line>", record)`` for every record of one converted split, shard by shard, streaming.

    Raises:
        ConfigError: when the split has no ``<split>-NNNNN.jsonl`` file.
        RecordValidationError: on a line that is not a JSON object with ``id``, ``task`` and ``messages``.
    """
    folder = converted_root / name
    shards = sorted(p for p in folder.glob(f"{split}-*.jsonl") if p.stem[len(split) + 1 :].isdigit())
    if not shards:
        raise ConfigError(
            f"no {split}-NNNNN.jsonl in {folder}; convert the dataset first (terrasense convert {name} ...) "
            f"or fix converted_root/name/split in the mixture config"
        )
    for shard in shards:
        with shard.open(encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                where = f"{shard}:{lineno}"
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as e:
                    raise RecordValidationError(f"{where}: not valid JSON: {e}") from e
                if not isinstance(record, dict) or not all(k in record for k in ("id", "task", "messages")):
                    raise RecordValidationError(f"{where}: a record must be an object with id, task and messages")
                yield where, record


def _check_render(
    record: Mapping[str, Any],
    where: str,
    config: MixtureConfig,
    report: MixReport,
    train_config: Mapping[str, Any] | None,
    train_config_source: str,
) -> None:
    render = (record.get("meta") or {}).get("render")
    if not isinstance(render, dict):
        raise ConfigError(f"{where}: record {record['id']!r} has no meta.render; re-convert it with a render style")
    if not report.render:
        if render.get("style") != config.style:
            raise ConfigError(
                f"{where}: records are rendered in style {render.get('style')!r}, but the mixture asks for "
                f"style {config.style!r}; re-convert the datasets or change style in the mixture config"
            )
        if train_config is not None:
            check_render_matches(render, train_config, source=train_config_source or "training config")
        report.render = dict(render)
    elif render != report.render:
        raise ConfigError(
            f"{where}: record {record['id']!r} is rendered with {render}, earlier records with {report.render}; "
            f"every dataset of a mixture must be converted with the same render style and image size limits"
        )


def _lean(record: Mapping[str, Any], where: str, dataset_dir: Path, output_dir: Path) -> dict[str, Any]:
    """The record as LLaMA-Factory reads it, media paths rewritten relative to ``output_dir``."""
    lean = {k: record[k] for k in _LEAN_KEYS if k in record}
    images = list(record.get("images") or [])
    n_placeholders = sum(str(m.get("content", "")).count(IMAGE_PLACEHOLDER) for m in record["messages"])
    if n_placeholders != len(images):
        raise RecordValidationError(
            f"{where}: record {record['id']!r} has {n_placeholders} {IMAGE_PLACEHOLDER} placeholders but "
            f"{len(images)} images; LLaMA-Factory needs them equal (run terrasense validate)"
        )
    lean["images"] = [_media_path(p, where, dataset_dir, output_dir) for p in images]
    if "videos" in lean:
        lean["videos"] = [_media_path(p, where, dataset_dir, output_dir) for p in lean["videos"]]
    return lean


def _media_path(path: str, where: str, dataset_dir: Path, output_dir: Path) -> str:
    source = Path(os.path.abspath(dataset_dir / path))
    if not source.is_file():
        raise InvalidImageError(source, f"named by {where} but missing; re-convert the dataset or restore the file")
    try:
        return Path(os.path.relpath(source, os.path.abspath(output_dir))).as_posix()
    except ValueError:  # no relative path between different drives (Windows): LLaMA-Factory keeps absolute paths
        return source.as_posix()


def _note_dataset(record: Mapping[str, Any], report: MixReport) -> None:
    dataset = str(record.get("dataset", ""))
    if dataset not in report.datasets:
        meta = record.get("meta") or {}
        report.datasets[dataset] = {"license": meta.get("license"), "version": meta.get("version")}
    task = str(record["task"])
    if task not in report.examples:
        by_role: dict[str, list[str]] = {}
        for m in record["messages"]:
            by_role.setdefault(str(m.get("role")), []).append(str(m.get("content", "")))
        report.examples[task] = {
            "dataset": dataset,
            "system": (by_role.get("system") or [""])[0],
            "prompt": (by_role.get("user") or [""])[0],
            "answer": (by_role.get("assistant") or [""])[-1],
        }


def _read_dataset_info(out_dir: Path) -> dict[str, Any]:
    path = out_dir / "dataset_info.json"
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ConfigError(f"{path}: not valid JSON ({e}); delete it and run terrasense mix again") from e
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: must be a JSON object; delete it and run terrasense mix again")
    return data


class _staged:
    """Context manager: a temp file next to ``target``, registered in ``staged`` to be renamed over it later."""

    def __init__(self, target: Path, staged: list[tuple[Path, Path]]) -> None:
        self.target = target
        self.staged = staged

    def __enter__(self) -> TextIO:
        fd, name = tempfile.mkstemp(prefix=f".{self.target.name}.", suffix=".tmp", dir=self.target.parent)
        self.staged.append((Path(name), self.target))
        self.file = os.fdopen(fd, "w", encoding="utf-8", newline="\n")
        return self.file

    def __exit__(self, *exc: object) -> None:
        self.file.close()
