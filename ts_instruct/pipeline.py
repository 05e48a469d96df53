"""Run a converter end to end: units → samples → emitted images/masks → records → shards + report.

Parallelism: units are mapped over ``workers`` processes with an *ordered* ``imap``; each worker reads its unit,
writes that unit's images and masks (atomically) and returns the unit's JSON lines. The parent writes lines in unit
order. Output bytes therefore do not depend on the number of workers or on scheduling.

Memory: the parent holds at most one unit's lines per in-flight unit; a converter must keep a unit small (one image,
one scene's tiles, one pair). Nothing holds the whole dataset.
"""

from __future__ import annotations

import errno
import hashlib
import json
import multiprocessing as mp
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from data_converters.base import Converter
from ts_instruct.errors import (
    ConfigError,
    DatasetNotFoundError,
    InvalidAnnotationError,
    InvalidImageError,
    OutputError,
    StrictModeError,
    TerraSenseError,
)
from ts_instruct.fingerprint import fingerprint_bytes, fingerprint_file, fingerprint_pixels, sha256_bytes, sha256_file
from ts_instruct.georef import GeoRef
from ts_instruct.imageio import (
    MASK_COMPRESS_LEVEL,
    ImageMode,
    encode_jpeg,
    encode_png,
    place_file,
    read_rgb,
    write_bytes_atomic,
    write_png,
)
from ts_instruct.io import ShardWriter, SplitState, StateStore, shard_prefix, write_report
from ts_instruct.render import RenderStyle, get_style
from ts_instruct.sample import Sample, Skip
from ts_instruct.tasks import FAMILY_TASKS, TaskContext, TaskOptions, build_records, resolve_tasks
from ts_instruct.transform import resize_rgb, scale_annotations

_COPYABLE = (".jpg", ".jpeg", ".png")
#: source files up to this size are read into memory once to be copied and fingerprinted; larger ones are streamed
_IN_MEMORY = 64 << 20


@dataclass
class ConvertOptions:
    """Options of one conversion (``terrasense convert`` flags).

    Attributes:
        out: output root; the dataset goes to ``out/<dataset dir>``.
        splits: splits to convert (``None``: every split found under the root).
        style: render style name (``qwen2vl``, ``qwen25vl``, ``qwen3vl``) and ``style_options`` its parameters.
        tasks: task names (``None``: the converter's defaults).
        workers: processes; 1 runs in-process.
        seed: seed of every random choice (phrasing, distractors, negatives, tile sampling).
        limit: at most this many samples per split (the first ones in unit order).
        strict: fail on the first skipped sample or dropped line instead of reporting it.
        image_mode: ``copy`` or ``hardlink`` JPEG/PNG sources unchanged, or ``reencode`` everything to PNG.
            Other formats (TIFF, BMP) and tiles are always written as ``tile_format``.
        resize_images: store images at the model-input size of the style (Qwen2.5-VL's absolute coordinates then
            hold for a plain vLLM server too); annotations are scaled to match.
        shard_size: records per shard (closed at unit boundaries).
        overwrite: discard output of an earlier run with other options instead of refusing.
        fingerprints: give every emitted image a fingerprint (``meta.images[i].fingerprint``: content and source
            SHA-256, perceptual hashes; see :mod:`ts_instruct.fingerprint`), which ``terrasense mix`` uses to keep
            evaluation images out of training.
        shard: ``(i, n)``: convert only the i-th of n contiguous blocks of each split's units (0-based), writing
            ``<split>-shardIIIofNNN-KKKKK.jsonl``; run the n shards anywhere (a batch system, Ray, Spark), put their
            output folders together and run :func:`merge_shards` to get what one run would have written.
    """

    out: Path
    splits: Sequence[str] | None = None
    style: str = "qwen25vl"
    style_options: dict[str, Any] = field(default_factory=dict)
    tasks: Sequence[str] | None = None
    task_options: TaskOptions = field(default_factory=TaskOptions)
    workers: int = 1
    seed: int = 0
    limit: int | None = None
    strict: bool = False
    image_mode: ImageMode = "copy"
    tile_format: str = "png"
    resize_images: bool = False
    shard_size: int = 10_000
    overwrite: bool = False
    progress: bool = True
    shard: tuple[int, int] | None = None
    fingerprints: bool = True


@dataclass
class UnitResult:
    """What one unit produced: per sample, its JSON lines; plus skips and per-task counts."""

    samples: list[list[str]] = field(default_factory=list)
    skips: list[dict[str, Any]] = field(default_factory=list)
    tasks: Counter[str] = field(default_factory=Counter)


def dataset_dir_name(converter: Converter) -> str:
    """``dota-v1.0`` for multi-version datasets, the converter name otherwise."""
    return converter.name if len(converter.versions) == 1 else f"{converter.name}-{converter.version}"


class _UnitProcessor:
    """Turns one unit into written files and record lines (runs in worker processes)."""

    def __init__(self, converter: Converter, opts: ConvertOptions, dataset_dir: Path) -> None:
        self.converter = converter
        self.opts = opts
        self.dataset_dir = dataset_dir
        self.style: RenderStyle = get_style(opts.style, **opts.style_options)
        self.ctx = TaskContext(
            style=self.style, seed=opts.seed, options=opts.task_options, id_prefix=dataset_dir_name(converter)
        )
        self.tasks = list(opts.tasks or converter.default_tasks or FAMILY_TASKS.get(converter.family, ()))
        self._source_hashes: dict[Path, str | None] = {}

    def __call__(self, job: tuple[str, str]) -> UnitResult:
        split, unit = job
        result = UnitResult()
        try:
            for item in self.converter.read(split, unit):
                if isinstance(item, Skip):
                    result.skips.append(item.to_dict())
                    continue
                try:
                    self._emit(item, split)
                except OSError as e:
                    if is_output_failure(e, self.dataset_dir):
                        raise OutputError(e.filename or self.dataset_dir, e.strerror or str(e)) from e
                    result.skips.append(Skip(unit, f"cannot write sample: {e}", key=item.key).to_dict())
                    continue
                except (TerraSenseError, ValueError) as e:
                    result.skips.append(Skip(unit, f"cannot write sample: {e}", key=item.key).to_dict())
                    continue
                lines = []
                shared: dict[int, tuple[Any, str]] = {}  # the sample's annotations, encoded once for its records
                for rec in build_records(item, self.ctx, self.tasks):
                    lines.append(rec.to_json(shared))
                    result.tasks[rec.task] += 1
                result.samples.append(lines)
        except OutputError:
            raise
        except (TerraSenseError, OSError, ValueError) as e:
            result.skips.append(Skip(unit, f"unit failed: {e}").to_dict())
        return result

    def _emit(self, sample: Sample, split: str) -> None:
        """Write the sample's images, videos and masks; set their output paths; resize images when asked.

        ``sample.videos`` holds source paths relative to the raw root on the way in and emitted paths
        (``videos/<split>/<key>.<ext>``) on the way out.
        """
        n = len(sample.images)
        target: tuple[int, int] | None = None
        if self.opts.resize_images and sample.images:
            first = sample.images[0]
            target = self.style.target_size(first.width, first.height)
            if target == (first.width, first.height):
                target = None
        for i, img in enumerate(sample.images):
            tag = "" if n == 1 else ("_A", "_B")[i] if n == 2 else f"_{i}"
            src = self.converter.root / img.source
            pixels = img.pixels
            copyable = pixels is None and target is None and self.opts.image_mode != "reencode"
            if copyable and src.suffix.lower() in _COPYABLE:
                rel = f"images/{split}/{sample.key}{tag}{src.suffix.lower()}"
                if self.opts.image_mode == "copy" and self.opts.fingerprints and src.stat().st_size <= _IN_MEMORY:
                    # one read serves the copy and the fingerprint (opening files dominates small-image datasets)
                    data = src.read_bytes()
                    write_bytes_atomic(self.dataset_dir / rel, data)
                    img.fingerprint = fingerprint_bytes(data, where=img.source)
                else:
                    place_file(src, self.dataset_dir / rel, self.opts.image_mode)
                    if self.opts.fingerprints:  # the emitted file has the source's bytes
                        img.fingerprint = fingerprint_file(src)
            else:
                if pixels is None:
                    pixels = read_rgb(src)
                if (pixels.shape[1], pixels.shape[0]) != (img.width, img.height):
                    raise InvalidImageError(
                        img.source,
                        f"decoded size {pixels.shape[1]}x{pixels.shape[0]} differs "
                        f"from the sample's {img.width}x{img.height}",
                    )
                if target is not None:
                    pixels = resize_rgb(pixels, target)
                    img.resized_from = (img.width, img.height)
                    img.width, img.height = target
                ext = ".jpg" if self.opts.tile_format in ("jpg", "jpeg") else ".png"
                rel = f"images/{split}/{sample.key}{tag}{ext}"
                data = encode_jpeg(pixels) if ext == ".jpg" else encode_png(pixels)
                write_bytes_atomic(self.dataset_dir / rel, data)
                if self.opts.fingerprints:
                    img.fingerprint = fingerprint_pixels(
                        pixels, sha256=sha256_bytes(data), source_sha256=self._source_sha256(src)
                    )
            img.path = rel
            img.pixels = None
        if target is not None:
            src_w, src_h = sample.images[0].resized_from or target
            sample.annotations = scale_annotations(
                sample.annotations, target[0] / src_w, target[1] / src_h, size=target
            )
            if sample.meta.georef is not None:  # the transform maps pixels of the emitted (resized) image
                georef = GeoRef.from_dict(sample.meta.georef).scaled(target[0] / src_w, target[1] / src_h)
                sample.meta.georef = georef.to_dict()
        for j, video in enumerate(sample.videos):
            # videos are never decoded here: copied (or hard-linked) as they are, under videos/<split>/
            src = self.converter.root / video
            tag = "" if len(sample.videos) == 1 else f"_{j}"
            rel = f"videos/{split}/{sample.key}{tag}{src.suffix.lower()}"
            place_file(src, self.dataset_dir / rel, "hardlink" if self.opts.image_mode == "hardlink" else "copy")
            sample.videos[j] = rel
        for m in sample.annotations.masks:
            if m.pixels is not None:
                rel = f"masks/{split}/{sample.key}_{m.name}.png"
                write_png(self.dataset_dir / rel, m.pixels, compress_level=MASK_COMPRESS_LEVEL)
                m.path = rel
                m.pixels = None

    def _source_sha256(self, src: Path) -> str | None:
        """SHA-256 of a raw source file, hashed once per scene however many tiles it yields (``None``: no file)."""
        if src not in self._source_hashes:
            if len(self._source_hashes) >= 8:  # a unit is one scene or pair: a handful of entries is enough
                self._source_hashes.clear()
            self._source_hashes[src] = sha256_file(src) if src.is_file() else None
        return self._source_hashes[src]


#: errors that say the output cannot be written, whichever file is concerned
_OUTPUT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG}


def is_output_failure(error: OSError, dataset_dir: Path) -> bool:
    """True when ``error`` means the output cannot be written, not that one source file is unreadable.

    Full disk, quota, read-only file system and too-large file always are; no permission is when the file lies
    under ``dataset_dir``.
    """
    if error.errno in _OUTPUT_ERRNOS:
        return True
    if error.errno in (errno.EACCES, errno.EPERM) and error.filename is not None:
        try:
            Path(error.filename).resolve().relative_to(dataset_dir.resolve())
        except ValueError:
            return False
        return True
    return False


@contextmanager
def _output_guard(dataset_dir: Path) -> Iterator[None]:
    """Turn an OSError that means "the output cannot be written" into :class:`OutputError`."""
    try:
        yield
    except OSError as e:
        if not is_output_failure(e, dataset_dir):
            raise
        raise OutputError(e.filename or dataset_dir, e.strerror or str(e)) from e


def _list_units(converter: Converter, split: str) -> tuple[list[str], list[dict[str, Any]]]:
    """The split's units and the problems found while listing them (reported once per split).

    A split whose listing fails on a broken file (an index JSON that does not parse, a damaged XML the split's
    numbering depends on) gets no units and one skip naming the file; other splits are still converted.
    """
    try:
        units = list(converter.units(split))
    except DatasetNotFoundError:
        raise
    except (InvalidAnnotationError, InvalidImageError) as e:
        line = e.line if isinstance(e, InvalidAnnotationError) else None
        return [], [Skip(converter.rel(Path(e.path)), f"split not converted: {e.reason}", line=line).to_dict()]
    return units, [s.to_dict() for s in converter.list_problems(split)]


_PROCESSOR: _UnitProcessor | None = None


def _init_worker(processor: _UnitProcessor) -> None:
    global _PROCESSOR
    _PROCESSOR = processor


def _run_job(job: tuple[str, str]) -> UnitResult:
    assert _PROCESSOR is not None  # set by _init_worker
    return _PROCESSOR(job)


def _results(processor: _UnitProcessor, jobs: list[tuple[str, str]], workers: int) -> Iterator[UnitResult]:
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            yield processor(job)
        return
    ctx = mp.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    # many small units (a 256 px image each) are sent in batches: one message per unit would cost as much as the
    # unit itself; few large units (scenes to tile) go one by one so that both workers stay busy to the end.
    # Results still come back in unit order (imap), so the output does not depend on the batch size.
    chunksize = max(1, min(16, len(jobs) // (8 * workers)))
    with ctx.Pool(workers, initializer=_init_worker, initargs=(processor,)) as pool:
        yield from pool.imap(_run_job, jobs, chunksize=chunksize)


def _fingerprint(converter: Converter, opts: ConvertOptions, tasks: list[str], style: RenderStyle) -> str:
    """Hash of everything that changes the bytes of the output (not workers, progress or limit)."""
    payload = {
        "converter": converter.name,
        "version": converter.version,
        "options": converter.options,
        "style": style.describe(),
        "tasks": tasks,
        "task_options": opts.task_options.__dict__,
        "seed": opts.seed,
        "reencode": opts.image_mode == "reencode",  # copy and hardlink give the same bytes
        "tile_format": opts.tile_format,
        "resize_images": opts.resize_images,
        "fingerprints": opts.fingerprints,
        "shard_size": opts.shard_size,
        "limit": opts.limit,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def convert_dataset(converter: Converter, opts: ConvertOptions) -> dict[str, Any]:
    """Convert every requested split; resume where an earlier run with the same options stopped.

    Returns:
        The report (also written to ``report.json``).

    Raises:
        DatasetNotFoundError: the raw dataset is not under the converter's root.
        StrictModeError: ``opts.strict`` and a sample or line had to be skipped.
        OutputError: the output cannot be written (read-only, full, no permission); rerunning resumes.
        ConfigError: bad options, or output of a run with other options is in the way.
    """
    dataset_dir = Path(opts.out) / dataset_dir_name(converter)
    try:
        dataset_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(dataset_dir, f"cannot create the output folder ({e.strerror or e})") from e
    with _output_guard(dataset_dir):
        _remove_stale_temporaries(dataset_dir, None)
    processor = _UnitProcessor(converter, opts, dataset_dir)
    tasks = resolve_tasks(processor.tasks)
    fp = _fingerprint(converter, opts, tasks, processor.style)
    store = StateStore(dataset_dir)
    if opts.shard is not None:
        i, n = opts.shard
        if not 0 <= i < n:
            raise ConfigError(f"shard must be i/n with 0 <= i < n, got {i}/{n}")
        if opts.limit is not None:
            raise ConfigError("--limit cannot be combined with --shard (a limit applies to the whole split)")
    splits = list(opts.splits) if opts.splits else converter.available_splits()
    if not splits:
        converter.units(converter.splits[0])  # raises DatasetNotFoundError with the layout expected
    states: dict[str, SplitState] = {}
    for split in splits:
        converter.check_split(split)
        prefix = split if opts.shard is None else shard_prefix(split, *opts.shard)
        state = store.load(prefix, fp, overwrite=opts.overwrite)
        states[prefix] = state
        if state.complete:
            continue
        units, problems = _list_units(converter, split)
        if opts.shard is not None:
            i, n = opts.shard
            units = units[i * len(units) // n : (i + 1) * len(units) // n]
            if i != 0:
                problems = []  # listing problems belong to the split: shard 0 reports them, merging keeps the order
        if opts.strict and problems:
            raise StrictModeError(_strict_message(problems[0]))
        if state.units_done == 0:  # a resumed run has them in its saved state already
            state.skips.extend(problems)
        state.units_total = len(units)
        state.shard_size = opts.shard_size
        with _output_guard(dataset_dir):
            _convert_units(processor, opts, converter, split, prefix, units, state, store, dataset_dir)
    header = {
        "dataset": converter.name,
        "version": converter.version,
        "title": converter.title,
        "license": converter.license,
        "style": processor.style.describe(),
        "seed": opts.seed,
        "tasks": tasks,
        "options": converter.options,
    }
    with _output_guard(dataset_dir):
        if opts.shard is not None:
            header["shard"] = list(opts.shard)
            name = f"report-shard{opts.shard[0]:03d}of{opts.shard[1]:03d}"
            return write_report(dataset_dir, header, states, name=name)
        return write_report(dataset_dir, header, states)


def _strict_message(skip: dict[str, Any]) -> str:
    where = skip["file"] + (f":{skip['line']}" if skip.get("line") else "")
    return f"{where}: {skip['reason']} (--strict: no sample may be skipped)"


def _convert_units(
    processor: _UnitProcessor,
    opts: ConvertOptions,
    converter: Converter,
    split: str,
    prefix: str,
    units: list[str],
    state: SplitState,
    store: StateStore,
    dataset_dir: Path,
) -> None:
    """Run the split's remaining units and write their records; save the state at every closed shard."""
    _remove_stale_temporaries(dataset_dir, split)
    writer = ShardWriter(dataset_dir, prefix, opts.shard_size, start=state.shard)
    jobs = [(split, u) for u in units[state.units_done :]]
    bar = _progress(opts, converter, split, len(units), state.units_done)
    try:
        for result in _results(processor, jobs, opts.workers):
            if opts.strict and result.skips:
                raise StrictModeError(_strict_message(result.skips[0]))
            written = 0
            for lines in result.samples:
                if opts.limit is not None and state.samples >= opts.limit:
                    break
                writer.write(lines)
                state.samples += 1
                state.records += len(lines)
                written += len(lines)
            if opts.shard is not None:
                state.unit_records.append(written)
            state.skips.extend(result.skips)
            for task, n in result.tasks.items():
                state.tasks[task] = state.tasks.get(task, 0) + n
            state.units_done += 1
            if bar is not None:
                bar.update(1)
            if writer.full():
                writer.close_shard()
                state.shard = writer.index
                store.save(prefix, state)
            if opts.limit is not None and state.samples >= opts.limit:
                break
    finally:
        if bar is not None:
            bar.close()
    writer.close_shard()
    state.shard = writer.index
    state.complete = True
    store.save(prefix, state)


def _remove_stale_temporaries(dataset_dir: Path, split: str | None) -> None:
    """Delete half-written files a killed run left (atomic writes use hidden ``.<name>.*.tmp`` names).

    A dataset folder has one writer at a time (``--shard`` runs each write their own folder), so every temporary
    found here belongs to a dead run: the split's image, mask and video folders (``split=None``: none), the resume
    state and the report.
    """
    folders = [dataset_dir, dataset_dir / ".state"]
    if split is not None:
        folders += [dataset_dir / kind / split for kind in ("images", "masks", "videos")]
    for folder in folders:
        for tmp in folder.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)


def _progress(opts: ConvertOptions, converter: Converter, split: str, total: int, done: int) -> Any:
    if not opts.progress:
        return None
    from tqdm import tqdm

    return tqdm(
        total=total,
        initial=done,
        desc=f"{converter.name}:{split}",
        unit="unit",
        file=sys.stderr,
        dynamic_ncols=True,
        leave=False,
    )
