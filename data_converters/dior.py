"""DIOR (horizontal boxes) and DIOR-R (oriented boxes): 20-class object detection in 800 x 800 optical images."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import ClassVar

from data_converters.base import safe_key
from data_converters.families.detection import BoxKind, DetectionConverter, parse_number
from data_converters.voc_xml import XmlNode, parse_xml
from ts_instruct.errors import DatasetNotFoundError, GeometryError, InvalidAnnotationError
from ts_instruct.geometry import hbox2qbox
from ts_instruct.sample import ObjectAnn, Sample, Skip

_ID = re.compile(r"^[A-Za-z0-9_.-]+$")
_ROBNDBOX = (
    "x_left_top",
    "y_left_top",
    "x_right_top",
    "y_right_top",
    "x_right_bottom",
    "y_right_bottom",
    "x_left_bottom",
    "y_left_bottom",
)
_POLYGON = ("x1", "y1", "x2", "y2", "x3", "y3", "x4", "y4")
_BNDBOX = ("xmin", "ymin", "xmax", "ymax")


class DIOR(DetectionConverter):
    """DIOR: object DetectIon in Optical Remote sensing images, horizontal boxes.

    Homepage: https://gcheng-nwpu.github.io/#Datasets

    Dataset features:
        * 23,463 RGB JPEG images of 800 x 800 pixels from Google Earth, 0.5 m to 30 m ground sample distance
        * 192,472 instances of 20 classes, annotated with horizontal boxes (DIOR) and, in the DIOR-R release of the
          same images, with oriented boxes (:class:`DIORR`)

    Dataset format:
        * one Pascal-VOC-style XML file per image; each object reads::

            <object><name>golffield</name><pose>Unspecified</pose>
              <bndbox><xmin>133</xmin><ymin>237</ymin><xmax>684</xmax><ymax>672</ymax></bndbox></object>

        * integer pixel coordinates, used as given (as mmrotate and torchgeo do: no 1-based shift); a box reaching
          past the image is clipped to it and flagged truncated when less than 70% of it is inside
        * ``<difficult>`` and ``<truncated>`` are optional (0 when absent); ``<size>`` may be missing (the decoded
          image gives the size either way, and a ``<size>`` that disagrees with the image is reported)
        * class names are read case-insensitively and mapped explicitly to the class list below, e.g.
          ``Expressway-Service-area`` → ``expressway_service_area``, ``baseballfield`` → ``baseball_field``
          (18 names are lower-case and unspaced in the files, two are hyphenated with mixed case)
        * an object without ``<bndbox>`` falls back to the box around its ``<robndbox>`` corners

    On disk (the official archives extracted into ``<root>`` or ``<root>/DIOR``)::

        <root>/
          JPEGImages-trainval/00001.jpg ... 11725.jpg   (or JPEGImages-trainval/JPEGImages-trainval/, as the zip
          JPEGImages-test/11726.jpg ... 23463.jpg        nests it; both are read)
          Annotations/Horizontal Bounding Boxes/00001.xml ...   (or Horizontal_Bounding_Boxes, or Annotations/*.xml)
          Annotations/Oriented Bounding Boxes/00001.xml ...     (DIOR-R; or Oriented_Bounding_Boxes)
          ImageSets/Main/train.txt  val.txt  test.txt           (one 5-digit id per line)

    Classes (0-based index = position in :attr:`classes`; the paper's alphabetical order, whose DIOR spelling is in
    :attr:`class_aliases`): airplane, airport, baseball_field, basketball_court, bridge, chimney, dam,
    expressway_service_area, expressway_toll_station, golf_field, ground_track_field, harbor, overpass, ship,
    stadium, storage_tank, tennis_court, train_station, vehicle, windmill.

    Splits:
        ``ImageSets/Main/{train,val,test}.txt`` of the release: 5,862 / 5,863 / 11,738 images.

    License:
        Academic research use; the images are from Google Earth, whose terms apply.

    Citation:
        K. Li, G. Wan, G. Cheng, L. Meng, J. Han, "Object detection in optical remote sensing images: A survey and a
        new benchmark", ISPRS J. Photogramm. Remote Sens. 159, 2020. https://doi.org/10.1016/j.isprsjprs.2019.11.023
    """

    name = "dior"
    title = "DIOR"
    homepage = "https://gcheng-nwpu.github.io/#Datasets"
    license = "academic research use; Google Earth terms apply"
    layout = "JPEGImages-{trainval,test}/*.jpg + Annotations/Horizontal Bounding Boxes/*.xml + ImageSets/Main/*.txt"
    box_kind: ClassVar[BoxKind] = "hbox"
    classes = (
        "airplane", "airport", "baseball_field", "basketball_court", "bridge", "chimney", "dam",
        "expressway_service_area", "expressway_toll_station", "golf_field", "ground_track_field", "harbor",
        "overpass", "ship", "stadium", "storage_tank", "tennis_court", "train_station", "vehicle", "windmill",
    )  # fmt: skip
    #: the ``<name>`` spellings of the release (lower-cased) → canonical class
    class_aliases: ClassVar[dict[str, str]] = {
        "airplane": "airplane", "airport": "airport", "baseballfield": "baseball_field",
        "basketballcourt": "basketball_court", "bridge": "bridge", "chimney": "chimney", "dam": "dam",
        "expressway-service-area": "expressway_service_area", "expressway-toll-station": "expressway_toll_station",
        "golffield": "golf_field", "groundtrackfield": "ground_track_field", "harbor": "harbor",
        "overpass": "overpass", "ship": "ship", "stadium": "stadium", "storagetank": "storage_tank",
        "tenniscourt": "tennis_court", "trainstation": "train_station", "vehicle": "vehicle", "windmill": "windmill",
    }  # fmt: skip
    base_dirs: ClassVar[tuple[str, ...]] = (".", "DIOR")
    annotation_dirs: ClassVar[tuple[str, ...]] = (
        "Annotations/Horizontal Bounding Boxes",
        "Annotations/Horizontal_Bounding_Boxes",
        "Annotations",
    )
    image_dirs: ClassVar[tuple[str, ...]] = (
        "JPEGImages-trainval",
        "JPEGImages-trainval/JPEGImages-trainval",
        "JPEGImages-test",
        "JPEGImages-test/JPEGImages-test",
    )

    def base(self) -> Path:
        """The folder holding ``ImageSets`` (``<root>`` or ``<root>/DIOR``).

        Raises:
            DatasetNotFoundError: no candidate holds ``ImageSets/Main``.
        """
        for rel in self.base_dirs:
            p = self.root / rel
            if (p / "ImageSets" / "Main").is_dir():
                return p
        raise DatasetNotFoundError(self.name, self.root, "'ImageSets/Main/' (or 'DIOR/ImageSets/Main/')")

    def annotation_dir(self) -> Path:
        """The first candidate annotation folder that holds ``.xml`` files.

        Raises:
            DatasetNotFoundError: none does.
        """
        base = self.base()
        for rel in self.annotation_dirs:
            p = base / rel
            if p.is_dir() and any(f.suffix.lower() == ".xml" for f in p.iterdir()):
                return p
        raise DatasetNotFoundError(self.name, self.root, "XML files in " + " or ".join(map(repr, self.annotation_dirs)))

    def units(self, split: str) -> Sequence[str]:
        """Image ids listed in ``ImageSets/Main/<split>.txt``, sorted and de-duplicated."""
        self.check_split(split)
        path = self.base() / "ImageSets" / "Main" / f"{split}.txt"
        if not path.is_file():
            raise DatasetNotFoundError(self.name, self.root, f"the split file {self.rel(path)!r}")
        self.annotation_dir()  # fail early, with the layout, when the annotations are absent
        return sorted({line.strip() for line in path.read_text(encoding="utf-8-sig").splitlines() if line.strip()})

    def find_image(self, image_id: str) -> Path | None:
        """``<id>.jpg`` in the image folders (trainval and test, flat or nested)."""
        base = self.base()
        for rel in self.image_dirs:
            for suffix in (".jpg", ".jpeg", ".png"):
                p = base / rel / f"{image_id}{suffix}"
                if p.is_file():
                    return p
        return None

    # -- parsing ------------------------------------------------------------------------------------------------
    def _numbers(self, node: XmlNode, tags: Sequence[str], *, path: str, prefix: str) -> list[float]:
        out = []
        for tag in tags:
            text = node.findtext(tag)
            if text is None:
                raise InvalidAnnotationError(path, "is missing", line=node.line, field=f"{prefix}/{tag}")
            out.append(parse_number(text, path=path, field=f"{prefix}/{tag}", line=node.line))
        return out

    def _flag(self, obj: XmlNode, tag: str, *, path: str) -> bool:
        text = obj.findtext(tag)
        if text is None or text == "":
            return False
        if text not in ("0", "1"):
            raise InvalidAnnotationError(path, f"must be 0 or 1, got {text!r}", line=obj.line, field=tag)
        return text == "1"

    def from_voc_object(self, obj: XmlNode, *, path: str) -> ObjectAnn:
        """One ``<object>`` element to an object in source pixels.

        Raises:
            InvalidAnnotationError: unknown class, missing or non-numeric coordinate, bad flag (file, line, field).
            GeometryError: degenerate box.
        """
        raw = obj.findtext("name") or ""
        label = self.canonical_class(raw)
        if label is None:
            raise self.class_error(raw, path=path, line=obj.line, field="name")
        difficult = self._flag(obj, "difficult", path=path)
        truncated = self._flag(obj, "truncated", path=path)
        where = f"{path}:{obj.line}"
        rob, poly, bnd = obj.find("robndbox"), obj.find("polygon"), obj.find("bndbox")
        corners = None
        if rob is not None:
            corners = self._numbers(rob, _ROBNDBOX, path=path, prefix="robndbox")
        elif poly is not None:
            corners = self._numbers(poly, _POLYGON, path=path, prefix="polygon")
        if self.box_kind == "hbox":
            if bnd is not None:
                return self.make_object(
                    label,
                    hbox=self._numbers(bnd, _BNDBOX, path=path, prefix="bndbox"),
                    where=where,
                    difficult=difficult,
                    truncated=truncated,
                )
            if corners is None:
                raise InvalidAnnotationError(path, "object has no <bndbox>", line=obj.line, field="bndbox")
            xs, ys = corners[0::2], corners[1::2]
            return self.make_object(
                label, hbox=[min(xs), min(ys), max(xs), max(ys)], where=where, difficult=difficult, truncated=truncated
            )
        if corners is None:
            if bnd is None:
                raise InvalidAnnotationError(
                    path, "object has no <robndbox> (nor <bndbox>)", line=obj.line, field="robndbox"
                )
            corners = hbox2qbox(self._numbers(bnd, _BNDBOX, path=path, prefix="bndbox")).tolist()
        return self.make_object(label, qbox=corners, where=where, difficult=difficult, truncated=truncated)

    # -- conversion ---------------------------------------------------------------------------------------------
    def read(self, split: str, unit: str) -> Iterator[Sample | Skip]:
        """One image: parse its XML, decode the image (a corrupt one is skipped), yield one sample."""
        key = safe_key(unit)
        if not _ID.match(unit):
            yield Skip(f"ImageSets/Main/{split}.txt", f"image id {unit!r} is not a plain file name; skipped", key=key)
            return
        xml_path = self.annotation_dir() / f"{unit}.xml"
        xml_rel = self.rel(xml_path)
        try:
            root = parse_xml(xml_path.read_bytes(), path=xml_rel)
        except FileNotFoundError:
            yield Skip(xml_rel, "annotation file is missing for an id of the split file", key=key)
            return
        except (OSError, InvalidAnnotationError) as e:
            line = e.line if isinstance(e, InvalidAnnotationError) else None
            yield Skip(xml_rel, e.reason if isinstance(e, InvalidAnnotationError) else str(e), line=line, key=key)
            return
        image = self.find_image(unit)
        if image is None:
            yield Skip(xml_rel, f"image {unit}.jpg not found in any of {list(self.image_dirs)}", key=key)
            return
        pixels, skip = self.decode(image, key)
        if pixels is None:
            assert skip is not None  # decode returns one of the two
            yield skip
            return
        h, w = pixels.shape[:2]
        del pixels
        declared = (root.findtext("size/width"), root.findtext("size/height"))
        if declared != (None, None) and declared != (str(w), str(h)):
            size_line = root.find("size")
            yield Skip(
                xml_rel,
                f"<size> says {declared[0]}x{declared[1]} but the image is {w}x{h}; the image wins",
                line=None if size_line is None else size_line.line,
                key=key,
                kept=True,
            )
        objects = []
        for obj in root.findall("object"):
            try:
                objects.append(self.from_voc_object(obj, path=xml_rel))
            except InvalidAnnotationError as e:
                yield self.line_skip(e, key=key)
            except GeometryError as e:
                reason = str(e).split(": ", 1)[-1]
                yield self.line_skip(InvalidAnnotationError(xml_rel, reason, line=obj.line, field="box"), key=key)
        yield from self.report_outside(objects, (w, h), file=xml_rel, key=key)
        yield self.whole_image(key=key, image=image, size=(w, h), objects=objects, split=split, negative=not objects)


class DIORR(DIOR):
    """DIOR-R: the DIOR images with oriented boxes (4 corners).

    Homepage: https://gcheng-nwpu.github.io/#Datasets

    Dataset features:
        * the 23,463 DIOR images and splits, 192,518 instances of the same 20 classes as oriented boxes

    Dataset format:
        * the DIOR XML grammar, each object with 4 corners in ``<robndbox>`` and the angle as a *sibling*::

            <object><type>robndbox</type><name>golffield</name><pose>Unspecified</pose>
              <truncated>0</truncated><difficult>0</difficult>
              <robndbox><x_left_top>133</x_left_top><y_left_top>237</y_left_top>
                <x_right_top>684</x_right_top><y_right_top>237</y_right_top>
                <x_right_bottom>684</x_right_bottom><y_right_bottom>672</y_right_bottom>
                <x_left_bottom>133</x_left_bottom><y_left_bottom>672</y_left_bottom></robndbox>
              <angle>0</angle></object>

        * the corners are read in the order LT, RT, RB, LB and put in canonical order; ``<angle>`` is ignored (its
          unit is not documented; like mmrotate, the box is defined by its corners). An object with only a
          ``<bndbox>`` (``<type>bndbox</type>``) becomes an axis-aligned 4-corner box; a ``<polygon>`` with
          ``x1..y4`` (some converted copies) is read like ``<robndbox>``.
        * everything else as :class:`DIOR` (optional flags and ``<size>``, class mapping, clipping at the border)

    On disk: as :class:`DIOR`, annotations in ``Annotations/Oriented Bounding Boxes/`` (or
    ``Oriented_Bounding_Boxes``).

    Classes: as :class:`DIOR` (airplane, airport, baseball_field, basketball_court, bridge, chimney, dam,
    expressway_service_area, expressway_toll_station, golf_field, ground_track_field, harbor, overpass, ship,
    stadium, storage_tank, tennis_court, train_station, vehicle, windmill).

    Splits:
        ``ImageSets/Main/{train,val,test}.txt``, shared with DIOR.

    License:
        Academic research use; Google Earth terms apply.

    Citation:
        G. Cheng et al., "Anchor-free Oriented Proposal Generator for Object Detection", IEEE TGRS 60, 2022.
        https://doi.org/10.1109/TGRS.2022.3183022
    """

    name = "dior_r"
    title = "DIOR-R"
    layout = "JPEGImages-{trainval,test}/*.jpg + Annotations/Oriented Bounding Boxes/*.xml + ImageSets/Main/*.txt"
    box_kind: ClassVar[BoxKind] = "qbox"
    annotation_dirs: ClassVar[tuple[str, ...]] = (
        "Annotations/Oriented Bounding Boxes",
        "Annotations/Oriented_Bounding_Boxes",
    )
