"""LIM-CD, read as LEVIR-MCI: multi-class (road, building) change masks with change captions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar

import numpy as np

from data_converters.base import safe_key
from data_converters.families.change import (
    IGNORE,
    ChangeLabels,
    ChangePairConverter,
    PairFiles,
    existing_dirs,
    list_images,
)
from ts_instruct.errors import DatasetNotFoundError
from ts_instruct.sample import MaskRef


class LIMCD(ChangePairConverter):
    """LIM-CD, read as LEVIR-MCI: LEVIR-CD scenes with road and building change masks and change captions.

    Homepage: https://huggingface.co/datasets/lcybuaa/LEVIR-MCI (code: https://github.com/Chen-Yang-Liu/Change-Agent)

    Identification: no public dataset is called "LIM-CD". The source list describes it as a multi-change set that
    goes with LEVIR-CD, which fits LEVIR-MCI (Liu et al., Change-Agent, 2024) best, so this converter reads the
    LEVIR-MCI release; the name ``levir_mci`` is an alias of ``lim_cd``. This is an interpretation: if the intended
    set is another one, this converter does not apply to it.

    Dataset features:
        * 10,077 pairs of 256x256 RGB PNG at 0.5 m/pixel, cut from LEVIR-CD's Google Earth scenes (Texas)
        * change masks with two change categories, road and building
        * five change captions per pair (the LEVIR-CC captions); about half the pairs are unchanged

    Dataset format:
        * ``images/<split>/{A,B,label}/<split>_NNNNNN.png``; ``A`` earlier, ``B`` later
        * ``label`` PNGs are 3-channel; channel 0 holds 0 = no change, 128 = road change, 255 = building change (the
          authors' loader maps 128 → 1 road and 255 → 2 building); 0/1/2-valued copies are read too, any other value
          is reported and ignored
        * ``LevirCCcaptions.json``: ``{"images": [{"filename": "train_000001.png", "filepath": "train",
          "split": "train", "changeflag": 1, "sentences": [{"raw": " many buildings are built ...", "tokens":
          [...]}, ...]}, ...]}``; captions are kept with their whitespace normalised

    On disk::

        <root>/Levir-MCI-dataset/        (or directly under <root>)
          LevirCCcaptions.json
          images/
            train/{A,B,label}/train_000001.png ...
            val/{A,B,label}/...
            test/{A,B,label}/...

    Categories (change-category id = position + 1): 1 road, 2 building. ``change_count`` counts building changes:
    the connected components of the building category (pixels joined by an edge, at least ``min_region_area``
    square pixels), the building regions listed by ``change_regions``. Change-Agent's own counting tool uses
    8-connectivity and more than 5 pixels; the two differ only for buildings touching at a corner.

    Splits:
        The official train/val/test folders (6,815 / 1,333 / 1,929 pairs), which follow LEVIR-CC.

    License:
        Research use; the code is MIT licensed "for academic purposes only"; the imagery is LEVIR-CD's (academic
        research only).

    Citation:
        C. Liu, K. Chen, H. Zhang, Z. Qi, Z. Zou, Z. Shi, "Change-Agent: Towards Interactive Comprehensive Remote
        Sensing Change Interpretation and Analysis", IEEE TGRS, 2024. https://doi.org/10.1109/TGRS.2024.3425815
    """

    name = "lim_cd"
    title = "LIM-CD (read as LEVIR-MCI)"
    homepage = "https://huggingface.co/datasets/lcybuaa/LEVIR-MCI"
    license = "academic research only; cite Liu et al., IEEE TGRS 2024 (Change-Agent) and Chen & Shi 2020"
    layout = "[Levir-MCI-dataset/]images/<split>/{A,B,label}/*.png + LevirCCcaptions.json"
    classes = ("road", "building")
    change_labels = "category"
    category_names: ClassVar[dict[int, str]] = {1: "road", 2: "building"}
    countable = ("building",)
    gsd = 0.5
    default_tasks = (
        "change_exists",
        "change_regions",
        "change_semantic",
        "change_fraction",
        "change_count",
        "change_caption",
    )
    base_dirs: ClassVar[tuple[str, ...]] = ("Levir-MCI-dataset", "LEVIR-MCI-dataset", "LEVIR-MCI", ".")
    captions_file: ClassVar[str] = "LevirCCcaptions.json"
    #: stored label value → change-category id (the authors' mapping)
    label_values: ClassVar[dict[int, int]] = {0: 0, 128: 1, 255: 2}

    def __init__(self, root: str | Path, *, version: str | None = None, **options: Any) -> None:
        super().__init__(root, version=version, **options)
        self._captions: dict[tuple[str, str], dict[str, Any]] | None = None
        self._captions_error: str | None = None

    def _base(self) -> Path:
        for base in existing_dirs(self.root, self.base_dirs):
            if (base / "images").is_dir():
                return base
        raise DatasetNotFoundError(self.name, self.root, "'images/<split>/A/' (optionally under 'Levir-MCI-dataset/')")

    def units(self, split: str) -> Sequence[str]:
        """Relative paths of the split's earlier (``A``) images, sorted."""
        self.check_split(split)
        folder = self._base() / "images" / split / "A"
        files = list_images(folder, (".png",))
        if not files:
            raise DatasetNotFoundError(self.name, self.root, f"PNG images in {self.rel(folder)!r}")
        return [self.rel(p) for p in files]

    def _load_captions(self) -> dict[tuple[str, str], dict[str, Any]]:
        """``(split, filename) → entry`` of the captions file, loaded once per process."""
        if self._captions is not None:
            return self._captions
        self._captions = {}
        path = self._base() / self.captions_file
        if not path.is_file():
            self._captions_error = "captions file is missing; pairs are converted without captions"
            return self._captions
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            entries = data["images"]
            if not isinstance(entries, list):
                raise TypeError(f"'images' must be a list, got {type(entries).__name__}")
        except (OSError, ValueError, KeyError, TypeError) as e:
            self._captions_error = f"cannot read the captions; {e!r}: pairs are converted without captions"
            return self._captions
        for entry in entries:
            if isinstance(entry, dict) and isinstance(entry.get("filename"), str):
                split = str(entry.get("filepath") or entry.get("split") or entry["filename"].split("_")[0])
                self._captions[(split, entry["filename"])] = entry
        return self._captions

    def pair(self, split: str, unit: str) -> PairFiles:
        """``images/<split>/A/<name>`` → ``B/<name>`` and ``label/<name>``, with the pair's captions."""
        a = PurePosixPath(unit)
        base = a.parent.parent
        entry = self._load_captions().get((split, a.name), {})
        sentences = entry.get("sentences", [])
        captions = [
            " ".join(str(s.get("raw", "")).split())
            for s in sentences
            if isinstance(s, dict) and str(s.get("raw", "")).strip()
        ]
        extra: dict[str, Any] = {}
        if "changeflag" in entry:
            extra["changeflag"] = int(entry["changeflag"])
        problems = []
        if not captions:
            captions_rel = self.rel(self._base() / self.captions_file)
            problems.append(
                (
                    captions_rel,
                    self._captions_error or f"no captions for the pair; {split}/{a.name} is converted without them",
                )
            )
        return PairFiles(
            key=safe_key(a.stem),
            before=unit,
            after=str(base / "B" / a.name),
            labels=(str(base / "label" / a.name),),
            captions=captions,
            extra=extra,
            problems=problems,
        )

    def decode(self, files: PairFiles, size: tuple[int, int]) -> ChangeLabels:
        """Channel 0 of the label (0 / 128 road / 255 building) → category map and change mask."""
        raw = self.read_label(files.labels[0], size)
        values = np.asarray(raw[..., 0] if raw.ndim == 3 else raw)
        problems: list[tuple[str, str]] = []
        present = set(np.unique(values).tolist())
        mapping = {0: 0, 1: 1, 2: 2} if present <= {0, 1, 2} else self.label_values
        category = np.full(values.shape, IGNORE, np.uint8)
        for value, cid in mapping.items():
            category[values == value] = cid
        unknown = sorted(present - set(mapping))
        if unknown:
            n = int(np.count_nonzero(category == IGNORE))
            problems.append(
                (
                    files.labels[0],
                    f"label values other than 0, 128 (road), 255 (building); {unknown} in {n} pixel(s) ignored",
                )
            )
        change = np.where(category == IGNORE, IGNORE, category != 0).astype(np.uint8)
        keep = MaskRef(
            kind="semantic_change",
            name="category",
            classes={0: "no change", **self.category_names},
            pixels=category,
            image_index=-1,
            ignore_index=IGNORE if unknown else None,
        )
        return ChangeLabels(
            change=change, category=np.where(change == 1, category, 0).astype(np.uint8), masks=[keep], problems=problems
        )
