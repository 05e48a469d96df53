"""Run every benchmark, print one table of their metrics, and compare it with the recorded baseline.

Run: ``python benchmarks/run_all.py [--quick] [--only convert,masks] [--big] [--save-baseline]`` (``make bench``).

Each benchmark runs as its own process (its printout streams through) and writes its metrics as JSON
(``common.py``). Metrics that compare against a reference measured in the same run (a speed-up, a ratio to the codec
floor, an IoU) carry a direction; the table shows each next to ``baseline.json`` as ``now / baseline`` and marks
it ``worse`` when it moved more than ``--tolerance`` in the wrong direction. Absolute rates (records per second) are
shown too but never judged: they depend on the machine. ``--quick`` runs small sizes (a smoke test, about two
minutes); the baseline keeps the quick and the full results apart. ``--save-baseline`` replaces the section of the
mode that ran.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BASELINE = HERE / "baseline.json"

#: name → (script, arguments of the full run, arguments of the quick run)
BENCHMARKS: dict[str, tuple[str, list[str], list[str]]] = {
    "convert": ("bench_convert.py", [], ["--samples", "200", "--max-seconds", "5", "--repeats", "1"]),
    "tiling": ("bench_tiling_reference.py", [], ["--cases", "geotiff", "--objects", "600", "--scenes", "2"]),
    "tiling_png": ("bench_tiling.py", [], ["--tiles", "3", "--repeats", "1", "--scene", "3000"]),
    "masks": ("bench_masks.py", [], ["--size", "512", "--repeats", "2"]),
    "eval": ("bench_eval.py", [], ["--preds", "10000", "--images", "500"]),
    "change_regions": ("bench_change_regions.py", [], ["--size", "512", "--groups", "20", "--repeats", "2"]),
}


def run(name: str, quick: bool, big: bool) -> tuple[list[dict[str, Any]], float, int]:
    """Run one benchmark; return its rows, its wall time and its exit code."""
    script, full, small = BENCHMARKS[name]
    args = list(small if quick else full)
    if big and name == "tiling":
        args.append("--big")
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "rows.json"
        print(f"\n=== {name}: {script} {' '.join(args)}", flush=True)
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE.parent), os.environ.get("PYTHONPATH")])),
        }
        t0 = time.perf_counter()
        code = subprocess.run([sys.executable, str(HERE / script), *args, "--json", str(out)], env=env).returncode
        secs = time.perf_counter() - t0
        rows = json.loads(out.read_text(encoding="utf-8"))["rows"] if out.exists() else []
    return [{"bench": name, **r} for r in rows], secs, code


def _key(row: dict[str, Any]) -> tuple[str, str, str]:
    return row["bench"], row["case"], row["metric"]


def judge(now: float, base: float, better: str | None, tolerance: float) -> str:
    """``worse``/``better``/``same`` for a directed metric, ``""`` for a fact."""
    if better is None or base == 0:
        return ""
    ratio = now / base
    if better == "higher":
        return "worse" if ratio < 1 - tolerance else "better" if ratio > 1 + tolerance else "same"
    return "worse" if ratio > 1 + tolerance else "better" if ratio < 1 - tolerance else "same"


def table(rows: list[dict[str, Any]], baseline: dict[tuple[str, str, str], float], tolerance: float) -> list[str]:
    header = f"{'benchmark':<15} {'case':<32} {'metric':<36} {'value':>10} {'unit':<7} {'baseline':>10} {'now/base':>8}"
    lines = [header, "-" * (len(header) + 7)]
    for r in rows:
        base = baseline.get(_key(r))
        ratio = f"{r['value'] / base:8.2f}" if base else f"{'':>8}"
        verdict = judge(r["value"], base, r["better"], tolerance) if base else ""
        shown_base = f"{base:10.3g}" if base is not None else f"{'-':>10}"
        lines.append(
            f"{r['bench']:<15} {r['case'][:32]:<32} {r['metric'][:36]:<36} {r['value']:10.3g} {r['unit']:<7} "
            f"{shown_base} {ratio} {verdict}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test of every benchmark")
    parser.add_argument("--only", help=f"comma-separated benchmarks, from {list(BENCHMARKS)}")
    parser.add_argument("--big", action="store_true", help="add the 20,000 px tiling case")
    parser.add_argument("--save-baseline", action="store_true", help=f"write the results into {BASELINE.name}")
    parser.add_argument("--tolerance", type=float, default=0.2, help="relative change that counts as a regression")
    args = parser.parse_args()
    names = list(BENCHMARKS)
    if args.only:
        names = args.only.split(",")
        unknown = sorted(set(names) - set(BENCHMARKS))
        if unknown:
            parser.error(f"--only must name benchmarks from {list(BENCHMARKS)}, got {unknown}")
    mode = "quick" if args.quick else "full"
    recorded = json.loads(BASELINE.read_text(encoding="utf-8")) if BASELINE.exists() else {}
    baseline = {_key(r): r["value"] for r in recorded.get(mode, {}).get("rows", [])}
    rows: list[dict[str, Any]] = []
    failed = []
    durations = {}
    for name in names:
        got, secs, code = run(name, args.quick, args.big)
        rows += got
        durations[name] = round(secs, 1)
        if code:
            failed.append(name)
    print(f"\n=== summary ({mode} run; baseline: {mode} section of {BASELINE.name})")
    print("\n".join(table(rows, baseline, args.tolerance)))
    print("durations (s): " + ", ".join(f"{n} {s}" for n, s in durations.items()))
    worse = [
        r
        for r in rows
        if _key(r) in baseline and judge(r["value"], baseline[_key(r)], r["better"], args.tolerance) == "worse"
    ]
    if worse:
        print(f"{len(worse)} metric(s) worse than the baseline by more than {args.tolerance:.0%}")
    if args.save_baseline:
        kept = {(r["bench"]) for r in rows}
        old = [r for r in recorded.get(mode, {}).get("rows", []) if r["bench"] not in kept]
        recorded[mode] = {
            "machine": {"python": platform.python_version(), "system": platform.system(), "cpus": os.cpu_count()},
            "rows": old + rows,
        }
        BASELINE.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"baseline ({mode}) written to {BASELINE.name}")
    if failed:
        raise SystemExit(f"benchmarks that failed: {failed}")


if __name__ == "__main__":
    main()
