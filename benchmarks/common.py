"""Shared by the benchmark scripts: the metrics each one measures, written as JSON for ``run_all.py``.

Every script keeps its own human-readable printout and, given ``--json PATH``, also writes its metrics as a list of
rows ``{"case", "metric", "value", "unit", "better"}``. ``better`` says which way is good (``"higher"``,
``"lower"``) for metrics that compare against a reference measured in the same run, ``null`` for plain facts (a
count, a flag); ``run_all.py`` compares the comparable ones with ``baseline.json``.
"""

from __future__ import annotations

import argparse
import json
import resource
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

Better = Literal["higher", "lower"] | None


@dataclass
class Row:
    case: str
    metric: str
    value: float
    unit: str = ""
    better: Better = None


@dataclass
class Results:
    bench: str
    rows: list[Row] = field(default_factory=list)

    def add(self, case: str, metric: str, value: float, unit: str = "", better: Better = None) -> None:
        self.rows.append(Row(case, metric, float(value), unit, better))

    def write(self, path: str | Path | None) -> None:
        if path is None:
            return
        payload = {"bench": self.bench, "rows": [asdict(r) for r in self.rows]}
        Path(path).write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")


def add_json_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", metavar="PATH", help="also write the metrics as JSON (used by run_all.py)")


def peak_rss_mb(children: bool = False) -> float:
    """Peak resident memory in MiB of this process (or the largest of its waited-for children).

    For this process, Linux's ``VmHWM`` (the high-water mark of the current address space) is used where available:
    ``getrusage``'s ``ru_maxrss`` survives ``exec``, so a process started from a big parent would report the
    parent's memory. For children, ``ru_maxrss`` (KiB) is all there is.
    """
    if not children:
        try:
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return resource.getrusage(who).ru_maxrss / 1024
