"""The session's traced reference conversions, one per converter, built on first use."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .harness import Reference, build_reference


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Reference]:
    """``reference(name)``: the fake of converter ``name``, its conversion and its trace (see ``harness.py``)."""
    cache: dict[str, Reference] = {}

    def get(name: str) -> Reference:
        if name not in cache:
            cache[name] = build_reference(name, tmp_path_factory.mktemp(f"ref_{name}"))
        return cache[name]

    return get
