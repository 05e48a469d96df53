"""NWPU VHR-10: 10-class object detection (horizontal boxes) in very-high-resolution images, with negatives."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import ClassVar

from data_converters.base import safe_key
from data_converters.families.classification import stable_split
from data_converters.families.detection import BoxKind, DetectionConverter
from ts_instruct.errors import DatasetNotFoundError, GeometryError, InvalidAnnotationError
from ts_instruct.sample import ObjectAnn, Sample, Skip

_NUM = r"\s*([-+]?\d+(?:\.\d+)?)\s*"
#: ``(x1,y1),(x2,y2),a`` with spaces allowed around every token
_LINE = re.compile(rf"^\s*\({_NUM},{_NUM}\)\s*,\s*\({_NUM},{_NUM}\)\s*,\s*(\d+)\s*$")
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".bmp")


class NWPUVHR10(DetectionConverter):
    """NWPU VHR-10: ten-class geospatial object detection in very-high-resolution images.

    Homepage: https://gcheng-nwpu.github.io/#Datasets

    Dataset features:
        * 800 images: 715 Google Earth RGB images (0.5 m to 2 m) and 85 pan-sharpened colour-infrared Vaihingen images
          (0.08 m), roughly 500 to 1,100 pixels a side
        * 650 positive images with 3,775 horizontal boxes of 10 classes, and 150 negative images without any object

    Dataset format:
        * one ground-truth file per positive image, one object per line: top-left corner, bottom-right corner and
          the 1-based class id::

            (563,478),(630,573),1

        * spaces around the numbers, commas and parentheses and blank lines are accepted; corners given in the
          other order are sorted; a line that does not match, or a class id outside 1..10, is reported with file
          and line and dropped (the rest of the file is kept)
        * negative images have no ground-truth file; they become negative samples (no objects)

    On disk (the original archive extracted into ``<root>``)::

        <root>/
          NWPU VHR-10 dataset/           (or these folders directly under <root>)
            positive image set/001.jpg ... 650.jpg
            negative image set/001.jpg ... 150.jpg
            ground truth/001.txt ... 650.txt
            readme.txt

    Classes (0-based index = position in :attr:`classes`; the file's class id is the index + 1): airplane, ship,
    storage_tank, baseball_diamond, tennis_court, basketball_court, ground_track_field, harbor, bridge, vehicle.

    Splits:
        There is no official split (papers draw random 60/20/20 or 75/25 splits). Each image goes to train, val or
        test (60/20/20) by a seeded hash of its id (``positive_001``, ``negative_001``; :func:`stable_split`), so an
        image never changes split when files are added or removed. Positive and negative images are split alike.

    License:
        Research use; cite the papers below (terms not stated explicitly by the authors).

    Citation:
        G. Cheng, J. Han, P. Zhou, L. Guo, "Multi-class geospatial object detection and geographic image
        classification based on collection of part detectors", ISPRS J. Photogramm. Remote Sens. 98, 2014.
        https://doi.org/10.1016/j.isprsjprs.2014.10.002 ; G. Cheng, J. Han, "A survey on object detection in optical
        remote sensing images", ISPRS J. 117, 2016. https://doi.org/10.1016/j.isprsjprs.2016.03.014
    """

    name = "nwpu_vhr10"
    title = "NWPU VHR-10"
    homepage = "https://gcheng-nwpu.github.io/#Datasets"
    license = "research use; cite Cheng et al., ISPRS J. 2014"
    layout = "NWPU VHR-10 dataset/{positive image set,negative image set}/NNN.jpg + ground truth/NNN.txt"
    box_kind: ClassVar[BoxKind] = "hbox"
    classes = (
        "airplane", "ship", "storage_tank", "baseball_diamond", "tennis_court", "basketball_court",
        "ground_track_field", "harbor", "bridge", "vehicle",
    )  # fmt: skip
    base_dirs: ClassVar[tuple[str, ...]] = ("NWPU VHR-10 dataset", "NWPU_VHR-10_dataset", ".")
    #: image set folder → id prefix
    image_sets: ClassVar[dict[str, str]] = {"positive image set": "positive", "negative image set": "negative"}
    split_fractions: ClassVar[dict[str, float]] = {"train": 0.6, "val": 0.2, "test": 0.2}

    def base(self) -> Path:
        """The folder holding ``positive image set``.

        Raises:
            DatasetNotFoundError: no candidate holds it.
        """
        for rel in self.base_dirs:
            p = self.root / rel
            if (p / "positive image set").is_dir():
                return p
        raise DatasetNotFoundError(self.name, self.root, "'NWPU VHR-10 dataset/positive image set/'")

    @staticmethod
    def image_id(unit: str) -> str:
        """``positive_001`` for ``.../positive image set/001.jpg``: the key and the split hash input."""
        path = Path(unit)
        prefix = NWPUVHR10.image_sets.get(path.parent.name, safe_key(path.parent.name))
        return safe_key(f"{prefix}_{path.stem}")

    def units(self, split: str) -> Sequence[str]:
        """Relative paths of the split's images (positive and negative), sorted."""
        self.check_split(split)
        base = self.base()
        out = []
        for folder in self.image_sets:
            d = base / folder
            if not d.is_dir():
                continue
            for p in sorted(d.iterdir()):
                if p.is_file() and p.suffix.lower() in _IMAGE_SUFFIXES:
                    rel = self.rel(p)
                    if stable_split(self.image_id(rel), self.split_fractions) == split:
                        out.append(rel)
        return sorted(out)

    def from_vhr_lines(self, text: str, *, path: str) -> tuple[list[ObjectAnn], list[InvalidAnnotationError]]:
        """Parse a ground-truth file: objects in source pixels and one error per dropped line."""
        objects, problems = [], []
        for n, raw in enumerate(text.splitlines(), start=1):
            if not raw.strip():
                continue
            m = _LINE.match(raw)
            if m is None:
                problems.append(
                    InvalidAnnotationError(path, f"expected '(x1,y1),(x2,y2),class_id', got {raw.strip()!r}", line=n)
                )
                continue
            x1, y1, x2, y2 = (float(v) for v in m.groups()[:4])
            class_id = int(m.group(5))
            if not 1 <= class_id <= len(self.classes):
                problems.append(
                    InvalidAnnotationError(
                        path, f"must be 1..{len(self.classes)}, got {class_id}", line=n, field="class_id"
                    )
                )
                continue
            box = [min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)]
            try:
                objects.append(self.make_object(self.classes[class_id - 1], hbox=box, where=f"{path}:{n}"))
            except GeometryError as e:
                problems.append(InvalidAnnotationError(path, str(e).split(": ", 1)[-1], line=n, field="box"))
        return objects, problems

    def read(self, split: str, unit: str) -> Iterator[Sample | Skip]:
        """One image: decode it (a corrupt one is skipped), read its ground truth if positive, yield one sample."""
        image = self.root / unit
        key = self.image_id(unit)
        negative = Path(unit).parent.name == "negative image set"
        objects: list[ObjectAnn] = []
        if not negative:
            gt = self.base() / "ground truth" / f"{Path(unit).stem}.txt"
            gt_rel = self.rel(gt)
            try:
                text = gt.read_bytes().decode("utf-8-sig")
            except FileNotFoundError:
                yield Skip(gt_rel, "ground-truth file is missing for a positive image", key=key)
                return
            except (OSError, UnicodeDecodeError) as e:
                yield Skip(gt_rel, f"cannot read ground-truth file ({e})", key=key)
                return
            objects, problems = self.from_vhr_lines(text, path=gt_rel)
            for problem in problems:
                yield self.line_skip(problem, key=key)
            if not objects:
                yield Skip(gt_rel, "no valid object in the ground truth of a positive image; skipped", key=key)
                return
        pixels, skip = self.decode(image, key)
        if pixels is None:
            assert skip is not None  # decode returns one of the two
            yield skip
            return
        h, w = pixels.shape[:2]
        del pixels
        yield from self.report_outside(objects, (w, h), file=self.rel(image), key=key)
        yield self.whole_image(key=key, image=image, size=(w, h), objects=objects, split=split, negative=negative)
