"""Synthetic raw datasets in each converter's real on-disk layout (tests and ``terrasense demo`` use them).

:data:`FAKES` maps converter name → ``make_fake(root, *, seed=0, **kw) -> dict`` (what a correct conversion finds).
They ship with the package, rather than living under ``tests/``, because the demo builds them on a fresh machine.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from data_converters.fakes import (
    capera,
    cdd,
    dior,
    dota,
    hi_ucd,
    inria_aerial,
    levir_cd,
    lim_cd,
    loveda,
    nwpu_resisc45,
    nwpu_vhr10,
    rsicd,
    rsitmd,
    rsvg,
    rsvqa,
    second,
    sydney,
    sydney_captions,
    whu_building,
    whu_rs19,
)
from ts_instruct.errors import UnknownConverterError

FakeMaker = Callable[..., dict[str, Any]]

FAKES: dict[str, FakeMaker] = {
    "dota": dota.make_fake,
    "dior": dior.make_fake,
    "dior_r": dior.make_fake,
    "nwpu_vhr10": nwpu_vhr10.make_fake,
    "whu_building": whu_building.make_fake,
    "inria_aerial": inria_aerial.make_fake,
    "loveda": loveda.make_fake,
    "nwpu_resisc45": nwpu_resisc45.make_fake,
    "sydney": sydney.make_fake,
    "sydney_captions": sydney_captions.make_fake,
    "whu_rs19": whu_rs19.make_fake,
    "rsicd": rsicd.make_fake,
    "rsitmd": rsitmd.make_fake,
    "capera": capera.make_fake,
    "rsvqa_hr": rsvqa.make_fake_hr,
    "rsvqa_lr": rsvqa.make_fake_lr,
    "rsvg": rsvg.make_fake,
    "levir_cd": levir_cd.make_fake,
    "cdd": cdd.make_fake,
    "lim_cd": lim_cd.make_fake,
    "second": second.make_fake,
    "hi_ucd": hi_ucd.make_fake,
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
