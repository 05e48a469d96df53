"""Merging the output of ``terrasense convert --shard i/n`` runs into what one run would have written.

Each shard run converts a contiguous block of every split's units and writes ``<split>-shardIIIofNNN-KKKKK.jsonl``,
its own state ``.state/<split>-shardIIIofNNN.json`` (with the number of records of each unit) and
``report-shardIIIofNNN.json``; images and masks go to the shared ``images/`` and ``masks/`` folders under keys that
do not collide. Put the n output folders together (same dataset folder) and :func:`merge_shards` concatenates the
blocks in order and cuts shards at the same unit boundaries as a single run: the result is byte-identical to an
unsharded conversion with the same options.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ts_instruct.errors import ConfigError
from ts_instruct.io import ShardWriter, SplitState, StateStore, shard_name, shard_prefix, write_report

_SHARD_STATE = re.compile(r"^(?P<split>.+)-shard(?P<i>\d{3})of(?P<n>\d{3})\.json$")


def _lines(dataset_dir: Path, prefix: str) -> Iterator[str]:
    index = 0
    while (path := dataset_dir / shard_name(prefix, index)).is_file():
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                yield line.rstrip("\n")
        index += 1


def merge_shards(dataset_dir: Path) -> dict[str, Any]:
    """Merge every split's shard outputs in ``dataset_dir``; returns the merged report.

    Raises:
        ConfigError: a shard is missing or incomplete, or shards were made with different options.
    """
    store = StateStore(dataset_dir)
    groups: dict[str, dict[int, tuple[int, SplitState]]] = {}
    for path in sorted(store.dir.glob("*-shard*of*.json")):
        m = _SHARD_STATE.match(path.name)
        if m is None:
            continue
        state = SplitState(**json.loads(path.read_text(encoding="utf-8")))
        groups.setdefault(m["split"], {})[int(m["i"])] = (int(m["n"]), state)
    if not groups:
        raise ConfigError(f"no shard output in {dataset_dir}; run `terrasense convert --shard i/n` first")
    merged: dict[str, SplitState] = {}
    for split, shards in sorted(groups.items()):
        n = next(iter(shards.values()))[0]
        missing = [i for i in range(n) if i not in shards or shards[i][0] != n or not shards[i][1].complete]
        if missing:
            raise ConfigError(f"{dataset_dir}: split {split!r} lacks complete shard(s) {missing} of {n}")
        fps = {s.fingerprint for _, s in shards.values()}
        if len(fps) != 1:
            raise ConfigError(f"{dataset_dir}: shards of {split!r} were made with different options")
        states = [shards[i][1] for i in range(n)]
        out = SplitState(fingerprint=fps.pop(), complete=True, shard_size=states[0].shard_size)
        writer = ShardWriter(dataset_dir, split, states[0].shard_size or 10_000)
        for i, st in enumerate(states):
            lines = _lines(dataset_dir, shard_prefix(split, i, n))
            for count in st.unit_records:
                writer.write([next(lines) for _ in range(count)])
                if writer.full():
                    writer.close_shard()
            out.units_done += st.units_done
            out.units_total += st.units_total
            out.samples += st.samples
            out.records += st.records
            out.skips.extend(st.skips)
            for task, c in st.tasks.items():
                out.tasks[task] = out.tasks.get(task, 0) + c
        writer.close_shard()
        out.shard = writer.index
        out.tasks = dict(sorted(out.tasks.items()))
        store.save(split, out)
        merged[split] = out
        for i in range(n):
            prefix = shard_prefix(split, i, n)
            for f in dataset_dir.glob(f"{prefix}-*.jsonl"):
                f.unlink()
            store.path(prefix).unlink()
    reports = sorted(dataset_dir.glob("report-shard*of*.json"))
    header = {
        k: v for k, v in json.loads(reports[0].read_text(encoding="utf-8")).items() if k not in ("splits", "shard")
    }
    for r in reports:
        r.unlink()
    return write_report(dataset_dir, header, merged)
