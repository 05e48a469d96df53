"""Synthetic raw datasets in each converter's real on-disk layout (tests and ``terrasense demo`` use them).

:data:`FAKES` maps converter name → ``make_fake(root, *, seed=0, **kw) -> dict`` (what a correct conversion finds).
They ship with the package, rather than living under ``tests/``, because the demo builds them on a fresh machine.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from data_converters.fakes import dior, dota, nwpu_resisc45, nwpu_vhr10
from ts_instruct.errors import UnknownConverterError

FakeMaker = Callable[..., dict[str, Any]]

FAKES: dict[str, FakeMaker] = {
    "dota": dota.make_fake,
    "dior": dior.make_fake,
    "dior_r": dior.make_fake,
    "nwpu_vhr10": nwpu_vhr10.make_fake,
    "nwpu_resisc45": nwpu_resisc45.make_fake,
}


def make_fake(name: str, root: str | Path, *, seed: int = 0, **kwargs: Any) -> dict[str, Any]:
    """Write the fake raw dataset of converter ``name`` under ``root``.

    Raises:
        UnknownConverterError: no fake exists for ``name`` (lists the ones that do).
    """
    try:
        maker = FAKES[name]
    except KeyError:
        raise UnknownConverterError(f"no fake dataset for {name!r}; fakes exist for {sorted(FAKES)}") from None
    return maker(Path(root), seed=seed, **kwargs)
