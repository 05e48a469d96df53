"""Shared fixtures: synthetic raw datasets built once per session from the seeded fake generators."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from data_converters.fakes import make_fake

GOLDEN_DIR = Path(__file__).parent / "golden"


@pytest.fixture(scope="session")
def fake_dataset(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., tuple[Path, dict[str, Any]]]:
    """``fake_dataset(name, **kw) -> (root, info)``; each distinct (name, kw) is generated once per session."""
    cache: dict[tuple[str, str], tuple[Path, dict[str, Any]]] = {}

    def build(name: str, **kwargs: Any) -> tuple[Path, dict[str, Any]]:
        key = (name, json.dumps(kwargs, sort_keys=True))
        if key not in cache:
            root = tmp_path_factory.mktemp(f"raw_{name}")
            cache[key] = (root, make_fake(name, root, seed=0, **kwargs))
        return cache[key]

    return build


def read_jsonl(folder: Path, pattern: str = "*.jsonl") -> list[dict[str, Any]]:
    """All records of the shards matching ``pattern`` in ``folder``, in shard order."""
    out = []
    for f in sorted(folder.glob(pattern)):
        out.extend(json.loads(line) for line in f.read_text(encoding="utf-8").splitlines() if line)
    return out


def check_golden(name: str, record: dict[str, Any]) -> None:
    """Compare a record with ``tests/golden/<name>.json``; ``TS_UPDATE_GOLDEN=1`` rewrites the file."""
    path = GOLDEN_DIR / f"{name}.json"
    text = json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    if os.environ.get("TS_UPDATE_GOLDEN") == "1" or not path.exists():
        if os.environ.get("CI") and not path.exists():
            raise AssertionError(f"golden file {path} is missing; run the tests locally with TS_UPDATE_GOLDEN=1")
        path.write_text(text, encoding="utf-8")
    assert json.loads(path.read_text(encoding="utf-8")) == record, f"record differs from golden {path.name}"
