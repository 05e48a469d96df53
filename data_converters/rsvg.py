"""RSVG visual grounding: DIOR-RSVG referring expressions on DIOR images."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from data_converters.base import Converter, safe_key
from data_converters.families.grounding import fit_box, normalise_expression
from ts_instruct.errors import InvalidAnnotationError, InvalidImageError
from ts_instruct.imageio import read_rgb
from ts_instruct.sample import Annotations, ImageRef, RefExpr, Sample, SampleMeta, Skip


@dataclass(frozen=True)
class ObjectIndex:
    """Where each XML file's objects sit in the global object numbering.

    Attributes:
        files: XML paths relative to the root, sorted by file name.
        start: file → global index of its first ``<object>``.
        count: file → number of ``<object>`` elements.
        total: number of objects over all files.
    """

    files: tuple[str, ...]
    start: dict[str, int]
    count: dict[str, int]
    total: int


@dataclass(frozen=True)
class SplitIds:
    """The global object indices of one split, and the split file's unreadable lines (unit name → reason)."""

    file: str
    ids: frozenset[int]
    bad: dict[str, tuple[int, str]]


class RSVG(Converter):
    """DIOR-RSVG: referring expressions for objects of DIOR images (visual grounding).

    Homepage: https://github.com/ZhanYang-nwpu/RSVG-pytorch

    Dataset features:
        * 17,402 RGB JPEG images of 800x800 pixels from DIOR (Google Earth, 0.5-30 m)
        * 38,320 image/expression/box triplets over the 20 DIOR classes

    Dataset format:
        * one VOC-like XML per image, one ``<object>`` per referring expression::

            <annotation><filename>00001.jpg</filename><size><width>800</width><height>800</height>...</size>
              <object><name>golffield</name><pose>Unspecified</pose>
                <bndbox><xmin>133</xmin><ymin>237</ymin><xmax>684</xmax><ymax>672</ymax></bndbox>
                <description>A green and brown golf field</description></object></annotation>

        * children are read by tag (the official loader reads them by position: ``bndbox`` third, ``description``
          fourth); boxes are integer ``xmin ymin xmax ymax`` used as pixel edges as they are, as the official loader
          does (0- or 1-based is UNCONFIRMED); a box overflowing the image by up to 2 px is clipped, a box further
          outside (or empty) drops its expression, reported
        * **split files hold global 0-based object indices**, not image ids: the index counts ``<object>`` elements
          over all XML files sorted by file name (the official loader walks the folder; its author's file system
          listed it sorted). An image's expressions can therefore fall in different splits; each split's sample of an
          image holds only that split's expressions, each with its global index as ``id``. A malformed XML stops the
          conversion (every later index would shift), naming the file
        * the older RSVG of Sun et al. (ACM MM 2022, GeoVG: 4,239 images, 7,933 expressions) is not read: its on-disk
          format could not be confirmed from any public loader

    On disk::

        <root>/
          DIOR_RSVG/                (or the content directly under <root>)
            Annotations/00001.xml ...
            JPEGImages/00001.jpg ...
            train.txt  val.txt  test.txt      one global object index per line (3, 4, 5, ...)

    Classes (0-based index = position in :attr:`classes`, DIOR spellings): 0 airplane, 1 airport, 2 baseballfield,
    3 basketballcourt, 4 bridge, 5 chimney, 6 dam, 7 Expressway-Service-area, 8 Expressway-toll-station,
    9 golffield, 10 groundtrackfield, 11 harbor, 12 overpass, 13 ship, 14 stadium, 15 storagetank, 16 tenniscourt,
    17 trainstation, 18 vehicle, 19 windmill. Names are matched case-insensitively; an unknown name is kept as
    written.

    Splits:
        ``train.txt`` (26,991 expressions), ``val.txt`` (3,829), ``test.txt`` (7,500), from the authors.

    License:
        Research use; derived from DIOR (UNCONFIRMED terms).

    Citation:
        Y. Zhan, Z. Xiong, Y. Yuan, "RSVG: Exploring Data and Models for Visual Grounding on Remote Sensing Data",
        IEEE TGRS 61, 2023. https://doi.org/10.1109/TGRS.2023.3250471
    """

    name = "rsvg"
    title = "DIOR-RSVG"
    family = "grounding"
    versions = ("dior_rsvg",)
    homepage = "https://github.com/ZhanYang-nwpu/RSVG-pytorch"
    license = "research use; derived from DIOR; cite Zhan et al., TGRS 2023 (terms UNCONFIRMED)"
    layout = "DIOR_RSVG/{Annotations/<id>.xml, JPEGImages/<id>.jpg, train.txt, val.txt, test.txt (object indices)}"
    default_tasks = ("ground", "describe_box")
    data_dirs = ("DIOR_RSVG", ".")
    classes = (
        "airplane", "airport", "baseballfield", "basketballcourt", "bridge", "chimney", "dam",
        "Expressway-Service-area", "Expressway-toll-station", "golffield", "groundtrackfield", "harbor", "overpass",
        "ship", "stadium", "storagetank", "tenniscourt", "trainstation", "vehicle", "windmill",
    )  # fmt: skip
    _objects: ObjectIndex | None = None
    _splits: dict[str, SplitIds] | None = None

    def data_dir(self) -> Path:
        """The folder holding ``Annotations/`` (raises DatasetNotFoundError naming the candidates)."""
        return self.require(*(f"{d}/Annotations" for d in self.data_dirs)).parent

    def object_index(self) -> ObjectIndex:
        """Count the objects of every XML file, in file-name order (once per converter).

        Raises:
            InvalidAnnotationError: an XML file cannot be parsed; the numbering of every later object depends on
                its object count, so nothing can be converted correctly until the file is fixed.
        """
        if self._objects is not None:
            return self._objects
        ann = self.data_dir() / "Annotations"
        files = sorted((p for p in ann.iterdir() if p.suffix.lower() == ".xml" and p.is_file()), key=lambda p: p.name)
        start: dict[str, int] = {}
        count: dict[str, int] = {}
        total = 0
        for p in files:
            rel = self.rel(p)
            n = len(self._parse(p).findall("object"))
            start[rel], count[rel] = total, n
            total += n
        self._objects = ObjectIndex(tuple(self.rel(p) for p in files), start, count, total)
        return self._objects

    def _parse(self, path: Path) -> ET.Element:
        try:
            return ET.parse(path).getroot()
        except ET.ParseError as e:
            raise InvalidAnnotationError(
                self.rel(path),
                f"not valid XML ({e}); the global object indices of the split files count the objects of every XML "
                "file, so re-extract this file before converting",
                line=e.position[0],
            ) from e

    def split_ids(self, split: str) -> SplitIds:
        """The split file's object indices (a line that is not an index in range becomes a reported unit)."""
        cache = self._splits if self._splits is not None else {}
        if split in cache:
            return cache[split]
        d = self.data_dir()
        path = d / f"{split}.txt" if (d / f"{split}.txt").is_file() else self.require(f"{split}.txt")
        total = self.object_index().total
        ids: set[int] = set()
        bad: dict[str, tuple[int, str]] = {}
        rel = self.rel(path)
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            text = line.strip()
            if not text:
                continue
            try:
                i = int(text)
            except ValueError:
                bad[f"#{rel}:{n}"] = (n, f"object index must be an integer, got {text!r}")
                continue
            if not 0 <= i < total:
                bad[f"#{rel}:{n}"] = (n, f"object index {i} is outside 0..{total - 1} (the XML files hold {total})")
                continue
            ids.add(i)
        cache[split] = SplitIds(rel, frozenset(ids), bad)
        self._splits = cache
        return cache[split]

    def units(self, split: str) -> Sequence[str]:
        """XML files holding at least one object of the split (file-name order), then one unit per bad split line."""
        self.check_split(split)
        objects = self.object_index()
        sid = self.split_ids(split)
        files = [f for f in objects.files if any(objects.start[f] + j in sid.ids for j in range(objects.count[f]))]
        return files + list(sid.bad)

    def read(self, split: str, unit: str) -> Iterator[Sample | Skip]:
        """One image → one sample with the split's expressions of that image."""
        sid = self.split_ids(split)
        if unit in sid.bad:
            line, reason = sid.bad[unit]
            yield Skip(sid.file, reason, line=line, kept=True)  # one expression lost, the images are converted
            return
        objects = self.object_index()
        xml = self.root / unit
        key = safe_key(Path(unit).stem)
        try:
            root = self._parse(xml)
        except InvalidAnnotationError as e:
            yield Skip(unit, e.reason, key=key)
            return
        filename = (root.findtext("filename") or "").strip() or f"{xml.stem}.jpg"
        try:
            path = self.inside_root(self.data_dir() / "JPEGImages", filename, where=unit)
            pixels = read_rgb(path)
        except InvalidAnnotationError as e:
            yield Skip(unit, e.reason, key=key)
            return
        except InvalidImageError as e:
            yield Skip(self.rel(Path(e.path)), e.reason, key=key)
            return
        h, w = pixels.shape[:2]
        known = {c.lower(): c for c in self.classes}
        refs: list[RefExpr] = []
        for j, obj in enumerate(root.findall("object")):
            gid = objects.start[unit] + j
            if gid not in sid.ids:
                continue
            where = f"object {j} (global index {gid})"
            expression = normalise_expression(obj.findtext("description"))
            if not expression:
                yield Skip(unit, f"{where}: empty <description>; dropped", key=key, kept=True)
                continue
            try:
                box = [float((obj.findtext(f"bndbox/{t}") or "").strip()) for t in ("xmin", "ymin", "xmax", "ymax")]
            except ValueError:
                yield Skip(
                    unit, f"{where}: <bndbox> must hold numbers xmin, ymin, xmax, ymax; dropped", key=key, kept=True
                )
                continue
            hbox, problem = fit_box(box, w, h)
            if hbox is None:
                yield Skip(unit, f"{where}: {problem}; dropped", key=key, kept=True)
                continue
            name = normalise_expression(obj.findtext("name"))
            refs.append(
                RefExpr(expression=expression, hbox=hbox, label=known.get(name.lower(), name) or None, id=str(gid))
            )
        if not refs:
            yield Skip(unit, f"no usable expression of split {split!r} left in this image", key=key)
            return
        yield Sample(
            key=key,
            images=[ImageRef(source=self.rel(path), width=w, height=h, source_size=(w, h))],
            annotations=Annotations(refs=refs),
            meta=SampleMeta(dataset=self.name, split=split, version=self.version, license=self.license),
        )
