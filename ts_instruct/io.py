"""Output side of a conversion: sharded JSONL, resume state and the report.

Layout of one converted dataset (``<out>/<dataset dir>/``)::

    train-00000.jsonl, train-00001.jsonl, ...   records, ``shard_size`` records or a little more per shard
    images/train/<key>.<ext>                    emitted images (``<key>_A``/``<key>_B`` for before/after pairs)
    videos/train/<key>.<ext>                    emitted videos, copied unchanged (``<video>`` records)
    masks/train/<key>_<name>.png                lossless label masks kept for pixel-level use
    report.json                                 counts per split and task, every skip with file, line and reason
    .state/train.json                           resume state (units done, shard index, counts so far)

Atomicity: a shard is written as ``<name>.partial`` and renamed when full; the state file is replaced atomically
right after, so a killed run resumes at the last closed shard and redoes the units after it. Shards close only at
unit boundaries, and units are processed in their fixed order, so a resumed run ends byte-identical to an
uninterrupted one.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ts_instruct.errors import ConfigError
from ts_instruct.imageio import write_bytes_atomic


def shard_name(split: str, index: int) -> str:
    """``train-00003.jsonl`` (``split`` may carry a ``--shard`` tag: ``train-shard001of004``)."""
    return f"{split}-{index:05d}.jsonl"


def _shard_index(name: str, prefix: str) -> int | None:
    """Index of ``<prefix>-NNNNN.jsonl``, or None for any other name (e.g. another prefix's shards)."""
    rest = name.removeprefix(f"{prefix}-").removesuffix(".jsonl")
    if name.startswith(f"{prefix}-") and name.endswith(".jsonl") and len(rest) == 5 and rest.isdigit():
        return int(rest)
    return None


def dump_json(obj: Any) -> str:
    """Deterministic, human-readable JSON (sorted keys, 2-space indent, UTF-8 kept)."""
    return json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


@dataclass
class SplitState:
    """Progress of one split, saved after every closed shard (see the module docstring)."""

    units_done: int = 0
    shard: int = 0
    samples: int = 0
    records: int = 0
    tasks: dict[str, int] = field(default_factory=dict)
    skips: list[dict[str, Any]] = field(default_factory=list)
    complete: bool = False
    fingerprint: str = ""
    units_total: int = 0
    shard_size: int = 0
    #: records written per unit, kept only by ``--shard`` runs so that merging can cut shards where one run would
    unit_records: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON form."""
        return dict(self.__dict__)


class StateStore:
    """Reads and writes ``.state/<split>.json`` for one dataset directory."""

    def __init__(self, dataset_dir: Path) -> None:
        self.dir = dataset_dir / ".state"

    def path(self, split: str) -> Path:
        """State file of ``split``."""
        return self.dir / f"{split}.json"

    def load(self, split: str, fingerprint: str, *, overwrite: bool) -> SplitState:
        """Load the state to resume from, or a fresh one.

        Raises:
            ConfigError: a previous run with different options left output here (and ``overwrite`` is False).
        """
        p = self.path(split)
        if overwrite or not p.is_file():
            return SplitState(fingerprint=fingerprint)
        data = json.loads(p.read_text(encoding="utf-8"))
        state = SplitState(**data)
        if state.fingerprint != fingerprint:
            raise ConfigError(
                f"{p.parent.parent} holds output of '{split}' made with different options; "
                "pass --overwrite to replace it, or choose another --out"
            )
        return state

    def save(self, split: str, state: SplitState) -> None:
        """Replace the state file atomically."""
        write_bytes_atomic(self.path(split), dump_json(state.to_dict()).encode())


class ShardWriter:
    """Appends JSON lines to ``<split>-NNNNN.jsonl.partial`` and closes shards by atomic rename.

    Args:
        dataset_dir: output folder of the dataset.
        split: split name, the shard prefix.
        shard_size: a shard is closed at the first unit boundary after it holds this many records.
        start: index of the first shard to write (from the resume state).
    """

    def __init__(self, dataset_dir: Path, split: str, shard_size: int, start: int = 0) -> None:
        if shard_size < 1:
            raise ConfigError(f"shard_size must be >= 1, got {shard_size}")
        self.dir = dataset_dir
        self.split = split
        self.shard_size = shard_size
        self.index = start
        self.count = 0
        self._fh: IO[str] | None = None
        for stale in dataset_dir.glob(f"{split}-*.jsonl.partial"):
            if _shard_index(stale.name.removesuffix(".partial"), split) is not None:
                stale.unlink()
        # shards numbered at or after `start` were written after the last saved state: they will be rewritten
        for later in dataset_dir.glob(f"{split}-*.jsonl"):
            index = _shard_index(later.name, split)
            if index is not None and index >= start:
                later.unlink()

    def write(self, lines: list[str]) -> None:
        """Append records (JSON strings without newline)."""
        if not lines:
            return
        if self._fh is None:
            self._fh = open(self._partial(), "w", encoding="utf-8", newline="\n")  # noqa: SIM115
        for line in lines:
            self._fh.write(line)
            self._fh.write("\n")
        self.count += len(lines)

    def full(self) -> bool:
        """True when the current shard has reached ``shard_size`` records."""
        return self.count >= self.shard_size

    def close_shard(self) -> None:
        """Flush, fsync and rename the current shard into place; the next write opens a new one."""
        if self._fh is None:
            return
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        self._fh = None
        os.replace(self._partial(), self.dir / shard_name(self.split, self.index))
        self.index += 1
        self.count = 0

    def _partial(self) -> Path:
        return self.dir / (shard_name(self.split, self.index) + ".partial")


def shard_prefix(split: str, i: int, n: int) -> str:
    """Shard-file prefix of a ``--shard i/n`` run: ``train-shard001of004``."""
    return f"{split}-shard{i:03d}of{n:03d}"


def write_report(
    dataset_dir: Path, header: dict[str, Any], states: dict[str, SplitState], *, name: str = "report"
) -> dict[str, Any]:
    """Write ``<name>.json`` (deterministic: no timestamps, sorted keys) and return it."""
    splits = {}
    for split, st in states.items():
        reasons = Counter(s["reason"].split(";")[0] for s in st.skips)
        splits[split] = {
            "units": st.units_total,
            "samples": st.samples,
            "records": st.records,
            "tasks": dict(sorted(st.tasks.items())),
            "skipped": sum(1 for s in st.skips if not s.get("kept")),
            "dropped_parts": sum(1 for s in st.skips if s.get("kept")),
            "skip_reasons": dict(sorted(reasons.items())),
            "skips": st.skips,
            "complete": st.complete,
        }
    report = {**header, "splits": splits}
    write_bytes_atomic(dataset_dir / f"{name}.json", dump_json(report).encode())
    return report
