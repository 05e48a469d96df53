"""Speed and memory of the Hugging Face export against the ``datasets`` route, and of stats, on synthetic records.

Run on demand: ``python benchmarks/bench_share.py [--records 2000] [--size 256]``. It writes ``--records`` records,
each with its own PNG of ``--size`` px, then times

* ``export_hf`` (streaming ``pyarrow`` writer) against ``datasets.Dataset.from_generator(...).to_parquet`` on the same
  rows (the usual way to build such a dataset), and checks both hold the same ids;
* ``stats.collect`` with the token estimate;

and prints the peak Python memory (tracemalloc: Arrow buffers are not counted) of ``export_hf`` at ``n`` and
``4 n`` records: it should not grow with ``n``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
from PIL import Image

from ts_instruct.export_hf import _row, export_hf, features
from ts_instruct.recordset import iter_records
from ts_instruct.stats import collect


def make_records(folder: Path, n: int, size: int) -> None:
    rng = np.random.default_rng(0)
    (folder / "images").mkdir(parents=True, exist_ok=True)
    with open(folder / "train-00000.jsonl", "w", encoding="utf-8") as fh:
        for k in range(n):
            px = (rng.random((size // 8, size // 8, 3)) * 255).astype(np.uint8)
            Image.fromarray(px).resize((size, size)).save(folder / "images" / f"{k:06d}.png")
            box = [int(v) for v in sorted(rng.integers(0, size, 2))] * 2
            rec = {
                "id": f"bench/train/{k:06d}/detect_all",
                "dataset": "bench",
                "task": "detect_all",
                "messages": [
                    {"role": "user", "content": "<image>List every object."},
                    {"role": "assistant", "content": json.dumps([{"bbox_2d": box, "label": "plane"}])},
                ],
                "images": [f"images/{k:06d}.png"],
                "annotations": {"objects": [{"label": "plane", "hbox": box}]},
                "meta": {"split": "train", "key": f"{k:06d}", "images": [{"width": size, "height": size}]},
            }
            fh.write(json.dumps(rec) + "\n")


def timed(fn):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def peak_mb(fn) -> float:  # type: ignore[no-untyped-def]
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args()
    from datasets import Dataset

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        make_records(work / "big", 4 * args.records, args.size)
        make_records(work / "small", args.records, args.size)
        src = work / "small"

        _, ours = timed(lambda: export_hf(iter_records(src), work / "ours"))

        def via_datasets() -> list[str]:
            ds = Dataset.from_generator(
                lambda: (_row(r) for r in iter_records(src)), features=features(), cache_dir=str(work / "cache")
            )
            ds.to_parquet(str(work / "theirs.parquet"))
            return list(ds["id"])

        ids, theirs = timed(via_datasets)
        import pyarrow.parquet as pq

        mine = pq.read_table(next((work / "ours" / "data").glob("*.parquet")), columns=["id"]).column("id").to_pylist()
        assert mine == ids, "both routes must hold the same records"
        print(f"export-hf   {args.records} records: {ours:.2f} s; datasets.from_generator + to_parquet {theirs:.2f} s")
        print(f"            ratio ours / datasets = {ours / theirs:.2f}")

        _, t_stats = timed(lambda: collect(iter_records(src)))
        print(f"stats       {args.records} records: {t_stats:.2f} s ({args.records / t_stats:,.0f} records/s)")

        small = peak_mb(lambda: export_hf(iter_records(src), work / "m1"))
        big = peak_mb(lambda: export_hf(iter_records(work / "big"), work / "m4"))
        print(f"peak Python memory of export-hf: {small:.1f} MB at n, {big:.1f} MB at 4n (ratio {big / small:.2f})")


if __name__ == "__main__":
    main()
