"""DOTA v1.0 / v1.5 / v2.0 oriented object detection in large aerial scenes (tiled)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from data_converters.families.detection import (
    TILING_DEFAULTS,
    BoxKind,
    DetectionConverter,
    TilingOptions,
    parse_number,
)
from ts_instruct.errors import ConfigError, DatasetNotFoundError, GeometryError, InvalidAnnotationError
from ts_instruct.sample import ObjectAnn, Sample, Skip

#: header keys of v1.x label files and of v2.0 ``meta/*.txt`` files (lower-case; both spellings of the date occur)
_HEADER_KEYS = ("imagesource", "gsd", "acquisition dates", "acquisition date")
_NULLS = ("null", "none", "")
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
_FIELDS = ("x1", "y1", "x2", "y2", "x3", "y3", "x4", "y4")


@dataclass
class DotaLabels:
    """What one label file holds: header/meta values, objects in source pixels, and problems (file, line, why)."""

    objects: list[ObjectAnn] = field(default_factory=list)
    header: dict[str, str] = field(default_factory=dict)
    problems: list[InvalidAnnotationError] = field(default_factory=list)
    #: 1-based line of each object
    lines: list[int] = field(default_factory=list)


class DOTA(DetectionConverter):
    """DOTA: a large-scale Dataset for Object deTection in Aerial images, versions 1.0, 1.5 and 2.0.

    Homepage: https://captain-whu.github.io/DOTA/dataset.html

    Dataset features:
        * v1.0: 2,806 images, 188,282 instances, 15 classes; v1.5: the same images, 403,318 instances (adds objects
          under 10 px), 16 classes; v2.0: 11,268 images, about 1.79 M instances, 18 classes
        * images from about 800 x 800 to 20,000 x 20,000 pixels; Google Earth and CycloMedia (RGB), GF-2 and JL-1
          (panchromatic, single-band PNG, converted to RGB here)
        * oriented boxes as 4 corners (clockwise, first corner meaningful), plus horizontal-box label sets

    Dataset format:
        * one label file per image, one object per line, fields separated by single spaces::

            x1 y1 x2 y2 x3 y3 x4 y4 category difficult
            1054 1028 1063 1011 1111 1040 1112 1062 ship 1

        * v1.0 and v1.5 files start with ``imagesource:GoogleEarth`` and ``gsd:0.255589285596`` (``gsd:null`` when
          unknown); v2.0 files have no header and the same facts (plus ``acquisition dates:``) are in
          ``meta/<image>.txt`` files of ``key:value`` lines (values ``null``/``None`` when unknown)
        * accepted as found in the releases: CRLF line endings, float coordinates, empty files (no objects), lines
          with fewer than 9 fields (reported with file and line and dropped, the rest of the file kept; DOTA_devkit
          drops them silently), a missing ``difficult`` field (0). Corners listed out of order (a bow-tie) are put in
          convex-hull order; degenerate boxes are reported and dropped.
        * the horizontal-box label sets (``-o boxes=hbb``) use the same grammar with axis-aligned corners; their box
          is the min/max of the 4 points (DOTA_devkit ``dots4ToRec4``)

    On disk (the official archives extracted into ``<root>``; the v2.0 image archive holds only the new images:
    extract it into the same ``images/`` folder as the v1.0 images)::

        <root>/
          train/images/P0000.png ...                          (also val/)
          train/labelTxt-v1.0/labelTxt/P0000.txt               (v1.0 OBB; or train/labelTxt/, DOTA_devkit's layout)
          train/labelTxt-v1.0/Train_Task2_gt/trainset_reclabelTxt/P0000.txt        (v1.0 HBB)
          train/labelTxt-v1.5/DOTA-v1.5_train/P0000.txt        (v1.5 OBB; ..._hbb/ for HBB)
          train/labelTxt-v2.0/DOTA-v2.0_train/P0000.txt        (v2.0 OBB; ..._hbb/ for HBB)
          train/labelTxt-v2.0/train_meta/meta/P0000.txt        (v2.0 meta; or train/train_meta/meta/)

    Classes (0-based index = position in :attr:`classes`; v1.0 has the first 15, v1.5 the first 16, v2.0 all 18;
    the order is torchgeo's, the names are the label-file tokens): plane, ship, storage-tank, baseball-diamond,
    tennis-court, basketball-court, ground-track-field, harbor, bridge, large-vehicle, small-vehicle, helicopter,
    roundabout, soccer-ball-field, swimming-pool, container-crane, airport, helipad.

    Tiling (options, defaults as mmrotate's single-scale split): each scene is cut into ``patch`` = 1024 px tiles
    overlapping by ``gap`` = 200 px on the grid of :mod:`ts_instruct.tiling`, at each of ``rates`` (e.g.
    ``-o rates=0.5,1.0,1.5``; the scene is decoded and resized once per rate). Objects are clipped to each tile; one
    keeping less than ``min_kept`` = 0.7 of its area is dropped (``partial=drop``) or kept flagged truncated
    (``partial=flag``). Tiles without objects are kept as negative samples at ``negative_rate`` = 0.2 (chosen by a
    hash of the tile key). Keys read ``P0000__1024__0_824`` (image, patch, tile origin in pixels of the rescaled
    scene), with ``__s0.5`` appended at rates other than 1. ``meta.gsd`` is the source gsd divided by the rate;
    ``meta.extra`` holds ``imagesource`` and, for v2.0, ``acquisition_date``.

    Splits:
        The folders ``train`` and ``val`` of the official release. Test labels are withheld (v1.0 ``test``, v2.0
        ``test-dev`` and ``test-challenge``), so no test split is converted.

    License:
        Academic use only; commercial use prohibited; Google Earth terms apply to its images.

    Citation:
        G.-S. Xia et al., "DOTA: A Large-scale Dataset for Object Detection in Aerial Images", CVPR 2018.
        https://doi.org/10.1109/CVPR.2018.00418 ; J. Ding et al., "Object Detection in Aerial Images: A Large-Scale
        Benchmark and Challenges", TPAMI 2021. https://doi.org/10.1109/TPAMI.2021.3117983
    """

    name = "dota"
    title = "DOTA"
    homepage = "https://captain-whu.github.io/DOTA/dataset.html"
    license = "academic use only, no commercial use; Google Earth terms apply"
    layout = "<split>/images/P*.png + <split>/labelTxt-v<version>/... (+ v2.0 <split>_meta/meta/)"
    splits = ("train", "val")
    versions = ("v1.0", "v1.5", "v2.0")
    box_kind: ClassVar[BoxKind] = "qbox"
    classes = (
        "plane",
        "ship",
        "storage-tank",
        "baseball-diamond",
        "tennis-court",
        "basketball-court",
        "ground-track-field",
        "harbor",
        "bridge",
        "large-vehicle",
        "small-vehicle",
        "helicopter",
        "roundabout",
        "soccer-ball-field",
        "swimming-pool",
        "container-crane",
        "airport",
        "helipad",
    )
    #: number of classes of each version (a prefix of :attr:`classes`)
    version_class_count: ClassVar[dict[str, int]] = {"v1.0": 15, "v1.5": 16, "v2.0": 18}
    option_defaults: ClassVar[dict[str, Any]] = {**TILING_DEFAULTS, "boxes": "obb"}
    #: (version, boxes) → candidate label folders; ``{s}`` is the split, ``{S}`` the split capitalised
    label_dirs: ClassVar[dict[tuple[str, str], tuple[str, ...]]] = {
        ("v1.0", "obb"): ("{s}/labelTxt-v1.0/labelTxt", "{s}/labelTxt-v1.0", "{s}/labelTxt"),
        ("v1.0", "hbb"): (
            "{s}/labelTxt-v1.0/{S}_Task2_gt/{s}set_reclabelTxt",
            "{s}/{S}_Task2_gt/{s}set_reclabelTxt",
            "{s}/labelTxt-v1.0/{s}set_reclabelTxt",
        ),
        ("v1.5", "obb"): ("{s}/labelTxt-v1.5/DOTA-v1.5_{s}", "{s}/DOTA-v1.5_{s}"),
        ("v1.5", "hbb"): ("{s}/labelTxt-v1.5/DOTA-v1.5_{s}_hbb", "{s}/DOTA-v1.5_{s}_hbb"),
        ("v2.0", "obb"): ("{s}/labelTxt-v2.0/DOTA-v2.0_{s}", "{s}/DOTA-v2.0_{s}"),
        ("v2.0", "hbb"): ("{s}/labelTxt-v2.0/DOTA-v2.0_{s}_hbb", "{s}/DOTA-v2.0_{s}_hbb"),
    }
    meta_dirs: ClassVar[tuple[str, ...]] = ("{s}/labelTxt-v2.0/{s}_meta/meta", "{s}/{s}_meta/meta", "{s}/meta")
    image_dirs: ClassVar[tuple[str, ...]] = ("{s}/images", "{s}/images/images")

    def __init__(self, root: str | Path, *, version: str | None = None, **options: Any) -> None:
        super().__init__(root, version=version, **options)
        TilingOptions.from_options(self.options, name=self.name)  # fail early on bad tiling options
        if self.options["boxes"] not in ("obb", "hbb"):
            raise ConfigError(f"{self.name}: boxes must be 'obb' or 'hbb', got {self.options['boxes']!r}")

    def emitted_box_kind(self) -> BoxKind:
        """Oriented boxes, or horizontal boxes when reading the HBB label sets."""
        return "hbox" if self.options["boxes"] == "hbb" else "qbox"

    def version_classes(self) -> tuple[str, ...]:
        """The first 15, 16 or 18 classes, by version."""
        return self.classes[: self.version_class_count[self.version]]

    def _candidates(self, patterns: Sequence[str], split: str) -> list[str]:
        return [p.format(s=split, S=split.capitalize()) for p in patterns]

    def label_dir(self, split: str) -> Path:
        """The first candidate label folder of the split that holds ``.txt`` files.

        Raises:
            DatasetNotFoundError: none does.
        """
        rels = self._candidates(self.label_dirs[(self.version, self.options["boxes"])], split)
        for rel in rels:
            p = self.root / rel
            if p.is_dir() and any(f.suffix.lower() == ".txt" for f in p.iterdir()):
                return p
        raise DatasetNotFoundError(
            self.name, self.root, f"{self.version} label files in " + " or ".join(map(repr, rels))
        )

    def units(self, split: str) -> Sequence[str]:
        """Relative paths of the split's label files, sorted (one unit = one scene)."""
        self.check_split(split)
        folder = self.label_dir(split)
        return sorted(self.rel(p) for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".txt")

    def find_image(self, split: str, stem: str) -> Path | None:
        """The scene image of a label file, searched in the split's image folders."""
        for rel in self._candidates(self.image_dirs, split):
            for suffix in _IMAGE_SUFFIXES:
                p = self.root / rel / f"{stem}{suffix}"
                if p.is_file():
                    return p
        return None

    def find_meta(self, split: str, stem: str) -> Path | None:
        """The v2.0 ``meta/<stem>.txt`` file, if any."""
        for rel in self._candidates(self.meta_dirs, split):
            p = self.root / rel / f"{stem}.txt"
            if p.is_file():
                return p
        return None

    # -- parsing ------------------------------------------------------------------------------------------------
    def from_dota_lines(self, text: str, *, path: str) -> DotaLabels:
        """Parse the text of one label file (see the class docstring for the grammar).

        Args:
            text: the whole file (any line endings).
            path: the file's name for messages.

        Returns:
            Objects in source pixels, header values (lower-case keys), and one error per dropped line.
        """
        out = DotaLabels()
        hbb = self.options["boxes"] == "hbb"
        problems: list[tuple[int, InvalidAnnotationError]] = []
        parsed: list[tuple[int, str, list[float], bool]] = []  # line, class, 8 coordinates, difficult
        for n, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line:
                continue
            key, sep, value = line.partition(":")
            if sep and key.strip().lower() in _HEADER_KEYS:
                out.header[key.strip().lower()] = value.strip()
                continue
            try:
                parsed.append((n, *self._fields(line.split(), path=path, line=n)))
            except InvalidAnnotationError as e:
                problems.append((n, e))
        wheres = [f"{path}:{n}" for n, *_ in parsed]
        if hbb:
            built: list[ObjectAnn | GeometryError] = []
            for (_, label, c, difficult), where in zip(parsed, wheres, strict=True):
                xs, ys = c[0::2], c[1::2]
                hbox = [min(xs), min(ys), max(xs), max(ys)]
                try:
                    built.append(self.make_object(label, hbox=hbox, difficult=difficult, where=where))
                except GeometryError as e:
                    built.append(e)
        else:
            built = self.make_qbox_objects(
                [p[1] for p in parsed], [p[2] for p in parsed], [p[3] for p in parsed], wheres
            )
        for (n, *_), obj in zip(parsed, built, strict=True):
            if isinstance(obj, GeometryError):
                problems.append((n, InvalidAnnotationError(path, str(obj).split(": ", 1)[-1], line=n, field="box")))
            else:
                out.objects.append(obj)
                out.lines.append(n)
        out.problems = [e for _, e in sorted(problems, key=lambda p: p[0])]
        return out

    def _fields(self, fields: list[str], *, path: str, line: int) -> tuple[str, list[float], bool]:
        """Class, 8 coordinates and difficult flag of one object line (geometry not checked yet)."""
        if len(fields) < 9:
            raise InvalidAnnotationError(
                path,
                f"expected 'x1 y1 x2 y2 x3 y3 x4 y4 category difficult' (9 or 10 fields), got {len(fields)}: "
                f"{' '.join(fields)!r}",
                line=line,
            )
        coords = [parse_number(v, path=path, field=f, line=line) for v, f in zip(fields[:8], _FIELDS, strict=True)]
        label = self.canonical_class(fields[8])
        if label is None:
            raise self.class_error(fields[8], path=path, line=line)
        difficult_text = fields[9] if len(fields) > 9 else "0"
        if not difficult_text.isdigit():
            raise InvalidAnnotationError(path, f"must be 0 or 1, got {difficult_text!r}", line=line, field="difficult")
        return label, coords, int(difficult_text) > 0

    @staticmethod
    def from_meta_lines(text: str, *, path: str) -> tuple[dict[str, str], list[InvalidAnnotationError]]:
        """Parse a v2.0 meta file of ``key:value`` lines; lines without a colon are reported."""
        values: dict[str, str] = {}
        problems = []
        for n, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line:
                continue
            key, sep, value = line.partition(":")
            if not sep:
                problems.append(InvalidAnnotationError(path, f"expected 'key:value', got {line!r}", line=n))
                continue
            values[key.strip().lower()] = value.strip()
        return values, problems

    def _facts(self, values: dict[str, str], *, path: str) -> tuple[float | None, dict[str, Any], list[Skip]]:
        """gsd, meta extras and problems from header/meta values."""
        skips: list[Skip] = []
        gsd = None
        raw_gsd = values.get("gsd", "")
        if raw_gsd.lower() not in _NULLS:
            try:
                gsd = parse_number(raw_gsd, path=path, field="gsd")
                if gsd <= 0:
                    raise InvalidAnnotationError(
                        path, f"must be a positive number of metres, got {raw_gsd!r}", field="gsd"
                    )
            except InvalidAnnotationError as e:
                gsd = None
                skips.append(self.line_skip(e))
        extra: dict[str, Any] = {}
        source = values.get("imagesource", "")
        if source.lower() not in _NULLS:
            extra["imagesource"] = source
        date = values.get("acquisition dates", values.get("acquisition date", ""))
        if date.lower() not in _NULLS:
            extra["acquisition_date"] = date
        return gsd, extra, skips

    @staticmethod
    def _read_text(path: Path) -> str:
        return path.read_bytes().decode("utf-8-sig")

    # -- conversion ---------------------------------------------------------------------------------------------
    def read(self, split: str, unit: str) -> Iterator[Sample | Skip]:
        """One scene: parse its label (and v2.0 meta) file, then yield its tiles."""
        path = self.root / unit
        stem = Path(unit).stem
        try:
            labels = self.from_dota_lines(self._read_text(path), path=unit)
        except (OSError, UnicodeDecodeError) as e:
            yield Skip(unit, f"cannot read label file ({e})", key=stem)
            return
        for problem in labels.problems:
            yield self.line_skip(problem, key=stem)
        values = dict(labels.header)
        meta_path = self.find_meta(split, stem) if self.version == "v2.0" else None
        if meta_path is not None:
            meta_rel = self.rel(meta_path)
            try:
                meta_values, meta_problems = self.from_meta_lines(self._read_text(meta_path), path=meta_rel)
            except (OSError, UnicodeDecodeError) as e:
                meta_values, meta_problems = {}, [InvalidAnnotationError(meta_rel, f"cannot read meta file ({e})")]
            for problem in meta_problems:
                yield self.line_skip(problem, key=stem)
            values.update(meta_values)
        gsd, extra, skips = self._facts(values, path=self.rel(meta_path) if meta_path else unit)
        yield from skips
        image = self.find_image(split, stem)
        if image is None:
            where = " or ".join(self._candidates(self.image_dirs, split))
            yield Skip(unit, f"image {stem}.png not found in {where}; extract the image archives there", key=stem)
            return
        yield from self.tiled(
            stem=stem,
            image=image,
            objects=labels.objects,
            split=split,
            gsd=gsd,
            extra=extra,
            label_file=unit,
            lines=labels.lines,
        )
