"""Family base for object-detection datasets (oriented or horizontal boxes), with optional tiling of large scenes.

A dataset module parses its own annotation format into :class:`~ts_instruct.sample.ObjectAnn` objects in source
pixels (helpers below: :func:`parse_number`, :meth:`DetectionConverter.make_object`) and hands them with the image to
one of two emitters:

- :meth:`DetectionConverter.whole_image` (DIOR, NWPU VHR-10): one sample per image, the source file copied as it is.
  Objects reaching past the image border are clipped to it and, when less than ``min_kept`` of them is inside,
  flagged ``truncated``.
- :meth:`DetectionConverter.tiled` (DOTA): the scene is decoded once per rate, rescaled, cut on the mmrotate grid
  by :mod:`ts_instruct.tiling`, and every tile is yielded as its own sample (pixels in memory, one at a time).
  Tiles without objects are kept as negative samples at ``negative_rate``, chosen by a hash of the tile key (so the
  choice is stable and does not depend on the order of processing).

Every sample carries ``annotations.classes`` (the dataset's class list, used by existence questions about absent
classes) and ``annotations.extra["box_kind"]`` (``"qbox"`` or ``"hbox"``: what detection answers are written in,
even for a sample without objects).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

from data_converters.base import Converter, safe_key
from ts_instruct.errors import ConfigError, GeometryError, InvalidAnnotationError, InvalidImageError
from ts_instruct.geometry import canonical_qbox, is_valid_qbox, qbox2hbox, signed_area, valid_qbox_mask
from ts_instruct.sample import Annotations, ImageRef, ObjectAnn, Sample, SampleMeta, Skip, Window
from ts_instruct.tiling import (
    PartialPolicy,
    check_grid,
    clip_objects,
    iter_tiles,
    read_scene,
    rescale,
    scale_objects,
)

BoxKind = Literal["qbox", "hbox"]

#: Options of tiled converters, with their defaults (mmrotate's ``ss_trainval`` split: 1024 px tiles, 200 px gap).
TILING_DEFAULTS: dict[str, Any] = {
    "patch": 1024,
    "gap": 200,
    "rates": [1.0],
    "min_kept": 0.7,
    "partial": "drop",
    "negative_rate": 0.2,
}


def parse_number(text: str, *, path: str, field: str, line: int | None = None) -> float:
    """``float(text)`` that refuses NaN/inf and names the file, line and field on failure.

    Raises:
        InvalidAnnotationError: ``text`` is not a finite number.

    Example:
        >>> parse_number("2753.0", path="P0001.txt", field="x1", line=3)
        2753.0
    """
    try:
        value = float(text)
    except (TypeError, ValueError) as e:
        raise InvalidAnnotationError(path, f"must be a number, got {text!r}", line=line, field=field) from e
    if not math.isfinite(value):
        raise InvalidAnnotationError(path, f"must be a finite number, got {text!r}", line=line, field=field)
    return value


def squash(name: str) -> str:
    """A class spelling reduced to lower-case letters and digits, for matching spacing variants.

    Example:
        >>> squash("Expressway-Service-area"), squash("storage tank")
        ('expresswayservicearea', 'storagetank')
    """
    return "".join(ch for ch in name.lower() if ch.isalnum())


def tile_key(stem: str, patch: int, window: Window, scale: float) -> str:
    """Key of a tile: ``<stem>__<patch>__<x0>_<y0>``, plus ``__s<scale>`` when the scene was rescaled.

    ``x0, y0`` are the tile's origin in pixels of the rescaled scene (what was cut), so keys are unique per rate.

    Example:
        >>> tile_key("P0001", 1024, Window(0, 824, 1024, 1848), 1.0), tile_key("P0001", 1024, Window(0, 0, 9, 9), 0.5)
        ('P0001__1024__0_824', 'P0001__1024__0_0__s0.5')
    """
    key = f"{stem}__{patch}__{window.x0}_{window.y0}"
    return safe_key(key if scale == 1.0 else f"{key}__s{scale:g}")


def keep_by_hash(key: str, rate: float, *, salt: str = "terrasense-negatives-v1") -> bool:
    """Whether the item ``key`` is among the ``rate`` share kept, by a hash of the key (stable, order-free).

    Example:
        >>> keep_by_hash("P0001__1024__0_0", 1.0), keep_by_hash("P0001__1024__0_0", 0.0)
        (True, False)
    """
    if rate >= 1.0:
        return True
    h = int.from_bytes(hashlib.sha256(f"{salt}\x1f{key}".encode()).digest()[:8], "big") / 2**64
    return h < rate


def _parse_rates(value: Any) -> list[float]:
    """Rates from a list, a number or a comma-separated string (``-o rates=0.5,1.0``)."""
    items: list[Any]
    if isinstance(value, str):
        items = [v for v in value.replace(" ", "").split(",") if v]
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        items = [value]
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        items = []
    try:
        rates = [float(v) for v in items]
    except (TypeError, ValueError):
        rates = []
    if not rates or any(not (math.isfinite(r) and r > 0) for r in rates) or len(set(rates)) != len(rates):
        raise ConfigError(
            f"rates must be distinct positive numbers such as [0.5, 1.0, 1.5] or '0.5,1.0', got {value!r}"
        )
    return rates


@dataclass(frozen=True)
class TilingOptions:
    """Checked tiling options (see :data:`TILING_DEFAULTS` and :mod:`ts_instruct.tiling`).

    Attributes:
        patch: tile side in pixels of the rescaled scene.
        gap: overlap of neighbouring tiles in pixels.
        rates: scales the scene is tiled at (1.0 = source resolution), in the given order.
        min_kept: kept-area ratio under which a cut object is partial.
        partial: ``"drop"`` partial objects or keep them ``"flag"``-ged truncated.
        negative_rate: share of tiles without objects kept as negative samples (0 = none, 1 = all).
    """

    patch: int
    gap: int
    rates: tuple[float, ...]
    min_kept: float
    partial: PartialPolicy
    negative_rate: float

    @classmethod
    def from_options(cls, options: dict[str, Any], *, name: str) -> TilingOptions:
        """Validate converter options; raises ConfigError naming the converter and the bad option."""
        try:
            patch, gap = options["patch"], options["gap"]
            check_grid(patch, gap)
            rates = tuple(_parse_rates(options["rates"]))
            min_kept = float(options["min_kept"])
            negative_rate = float(options["negative_rate"])
        except (ConfigError, TypeError, ValueError) as e:
            raise ConfigError(f"{name}: {e}") from e
        if not 0.0 <= min_kept <= 1.0:
            raise ConfigError(f"{name}: min_kept must be a ratio in [0, 1], got {options['min_kept']!r}")
        if not 0.0 <= negative_rate <= 1.0:
            raise ConfigError(f"{name}: negative_rate must be a ratio in [0, 1], got {options['negative_rate']!r}")
        if options["partial"] not in ("drop", "flag"):
            raise ConfigError(f"{name}: partial must be 'drop' or 'flag', got {options['partial']!r}")
        return cls(patch, gap, rates, min_kept, options["partial"], negative_rate)


class DetectionConverter(Converter):
    """Base of the detection converters: object construction, whole-image and tiled samples.

    Subclasses set :attr:`classes`, :attr:`box_kind` and :attr:`class_aliases` (raw spelling, lower-cased and
    stripped → canonical class), and implement :meth:`units` and :meth:`read` with the emitters below.
    """

    family = "detection"
    default_tasks = ("detect_all", "detect_class", "count", "exists", "classify_box")
    #: what the source annotates: oriented boxes (4 corners) or horizontal boxes
    box_kind: ClassVar[BoxKind] = "hbox"
    #: raw class spelling (lower-case, stripped) → canonical class of :attr:`classes`
    class_aliases: ClassVar[dict[str, str]] = {}

    def emitted_box_kind(self) -> BoxKind:
        """What this conversion's answers are written in (default: :attr:`box_kind`; options may change it)."""
        return self.box_kind

    def version_classes(self) -> tuple[str, ...]:
        """The classes of the selected version (default: :attr:`classes`)."""
        return self.classes

    def canonical_class(self, raw: str) -> str | None:
        """Map a raw class spelling to the canonical class, or ``None`` when it is not a class of this version."""
        token = raw.strip()
        known = self.version_classes()
        if token in known:
            return token
        mapped = self.class_aliases.get(token.lower())
        if mapped is None:  # spacing variants: "Storage Tank", "storage_tank", "storagetank"
            squashed = {squash(k): v for k, v in self.class_aliases.items()} | {squash(c): c for c in known}
            mapped = squashed.get(squash(token))
        return mapped if mapped in known else None

    def class_error(
        self, raw: str, *, path: str, line: int | None = None, field: str = "category"
    ) -> InvalidAnnotationError:
        """The error for an unknown class name, listing the valid ones."""
        return InvalidAnnotationError(
            path,
            f"class must be one of the {len(self.version_classes())} {self.title} classes "
            f"{list(self.version_classes())}, got {raw!r}",
            line=line,
            field=field,
        )

    @staticmethod
    def make_object(
        label: str,
        *,
        qbox: Sequence[float] | None = None,
        hbox: Sequence[float] | None = None,
        difficult: bool = False,
        truncated: bool = False,
        where: str,
    ) -> ObjectAnn:
        """Build a checked object from 4 corners (any order, either direction) or a horizontal box.

        A quadrilateral whose corners are listed out of order (a "bow-tie") is repaired by taking its corners in
        convex-hull order; one with (near) zero area is refused.

        Raises:
            GeometryError: degenerate box (zero area, or corners that cannot form a simple quadrilateral), or
                ``x2 <= x1`` / ``y2 <= y1`` for a horizontal box; the message starts with ``where``.
        """
        if qbox is not None:
            q = np.asarray(qbox, dtype=np.float64)
            if q.shape != (8,) or not np.isfinite(q).all():
                raise GeometryError(f"{where}: oriented box must have 8 finite numbers, got {list(qbox)}")
            repaired = q if is_valid_qbox(q) else _hull_order(q)
            if repaired is None or abs(signed_area(repaired)) <= 1e-6:
                raise GeometryError(f"{where}: oriented box has no area (degenerate corners {list(qbox)})")
            q = canonical_qbox(repaired)
            return ObjectAnn(label, qbox2hbox(q).tolist(), q.tolist(), difficult=difficult, truncated=truncated)
        if hbox is None:
            raise GeometryError(f"{where}: an object needs a box")
        x1, y1, x2, y2 = (float(v) for v in hbox)
        if not (x2 > x1 and y2 > y1):
            raise GeometryError(f"{where}: box must have x1 < x2 and y1 < y2, got {[x1, y1, x2, y2]}")
        return ObjectAnn(label, [x1, y1, x2, y2], None, difficult=difficult, truncated=truncated)

    @classmethod
    def make_qbox_objects(
        cls, labels: Sequence[str], qboxes: Sequence[Sequence[float]], difficult: Sequence[bool], wheres: Sequence[str]
    ) -> list[ObjectAnn | GeometryError]:
        """:meth:`make_object` for many oriented boxes at once (one scene's label file): the same objects, in order.

        Boxes that are finite, simple and not degenerate (nearly all) are put in canonical order in one vectorised
        pass; the others go through :meth:`make_object` one by one, which repairs or refuses them. A refused box
        gives its :class:`GeometryError` in its place instead of an object.
        """
        q = np.asarray(qboxes, dtype=np.float64).reshape(-1, 8)
        out: list[ObjectAnn | GeometryError] = []
        if len(q) == 0:
            return out
        finite = np.asarray(np.isfinite(q).all(axis=1), dtype=bool)
        q0 = np.where(finite[:, None], q, 0.0)
        rel = q0.reshape(-1, 4, 2) - q0.reshape(-1, 4, 2)[:, :1]
        area = 0.5 * np.abs(
            np.sum(rel[..., 0] * np.roll(rel[..., 1], -1, 1) - np.roll(rel[..., 0], -1, 1) * rel[..., 1], 1)
        )
        # boxes near the area threshold take the one-by-one path, so both paths decide every box alike
        ok = finite & (area > 1e-3) & valid_qbox_mask(q0)
        canon = canonical_qbox(np.where(ok[:, None], q, 0.0))
        hboxes = qbox2hbox(canon)
        for i in range(len(q)):
            if ok[i]:
                out.append(ObjectAnn(labels[i], hboxes[i].tolist(), canon[i].tolist(), difficult=difficult[i]))
                continue
            try:
                out.append(cls.make_object(labels[i], qbox=qboxes[i], difficult=difficult[i], where=wheres[i]))
            except GeometryError as e:
                out.append(e)
        return out

    # -- emitters -----------------------------------------------------------------------------------------------
    def sample_meta(self, split: str, *, gsd: float | None = None, extra: dict[str, Any] | None = None) -> SampleMeta:
        """The meta block shared by this converter's samples."""
        return SampleMeta(
            dataset=self.name, split=split, version=self.version, gsd=gsd, license=self.license, extra=extra or {}
        )

    def annotations(self, objects: list[ObjectAnn], *, negative: bool = False) -> Annotations:
        """Annotations of one emitted image (objects in its pixels)."""
        return Annotations(
            objects=objects,
            classes=list(self.version_classes()),
            extra={"box_kind": self.emitted_box_kind()},
            negative=negative,
        )

    @staticmethod
    def line_skip(error: InvalidAnnotationError, *, key: str | None = None) -> Skip:
        """A kept-sample Skip for one dropped annotation line or object (file, line and field from the error)."""
        reason = f"field {error.field!r}: {error.reason}" if error.field else error.reason
        return Skip(error.path, reason, line=error.line, key=key, kept=True)

    def decode(self, path: Path, key: str) -> tuple[np.ndarray | None, Skip | None]:
        """Decode an image fully (this is what detects truncated files); a Skip instead when it cannot be read."""
        try:
            return read_scene(path), None
        except InvalidImageError as e:
            return None, Skip(self.rel(path), e.reason, key=key)

    def whole_image(
        self,
        *,
        key: str,
        image: Path,
        size: tuple[int, int],
        objects: list[ObjectAnn],
        split: str,
        negative: bool = False,
        meta: SampleMeta | None = None,
    ) -> Sample:
        """One sample for a whole image (copied unchanged by the writer); objects are clipped to the image."""
        w, h = size
        inside = clip_objects(objects, Window(0, 0, w, h), min_kept=TILING_DEFAULTS["min_kept"], partial="flag")
        rel = self.rel(image)
        return Sample(
            key=key,
            images=[ImageRef(source=rel, width=w, height=h, source_size=(w, h))],
            annotations=self.annotations(inside, negative=negative),
            meta=meta or self.sample_meta(split),
        )

    def tiled(
        self,
        *,
        stem: str,
        image: Path,
        objects: list[ObjectAnn],
        split: str,
        gsd: float | None = None,
        extra: dict[str, Any] | None = None,
        label_file: str | None = None,
        lines: Sequence[int | None] | None = None,
    ) -> Iterator[Sample | Skip]:
        """Decode the scene once per rate and yield its tiles as samples, one at a time.

        Objects must be in source pixels. Objects that lie wholly outside the image are reported (``kept=True``)
        against ``label_file`` (default: the image) at their ``lines``.
        ``gsd`` is the source's ground sample distance; each tile's meta holds ``gsd / rate``.
        """
        opts = TilingOptions.from_options(self.options, name=self.name)
        rel = self.rel(image)
        for rate in opts.rates:
            scene, skip = self.decode(image, stem)
            if scene is None:
                assert skip is not None  # decode returns one of the two
                yield skip
                return
            src_h, src_w = scene.shape[:2]
            if rate == opts.rates[0]:
                yield from self.report_outside(objects, (src_w, src_h), file=label_file or rel, key=stem, lines=lines)
            scene = rescale(scene, rate)
            meta_gsd = None if gsd is None else gsd / rate
            for tile in iter_tiles(
                scene,
                scale_objects(objects, rate),
                patch=opts.patch,
                gap=opts.gap,
                scale=rate,
                source_size=(src_w, src_h),
                min_kept=opts.min_kept,
                partial=opts.partial,
            ):
                key = tile_key(stem, opts.patch, tile.window, rate)
                if not tile.objects and not keep_by_hash(key, opts.negative_rate):
                    continue
                th, tw = tile.pixels.shape[:2]
                yield Sample(
                    key=key,
                    images=[
                        ImageRef(
                            source=rel,
                            width=tw,
                            height=th,
                            window=tile.source_window,
                            scale=rate,
                            source_size=(src_w, src_h),
                            pixels=tile.pixels,
                        )
                    ],
                    annotations=self.annotations(tile.objects, negative=not tile.objects),
                    meta=self.sample_meta(split, gsd=meta_gsd, extra=dict(extra or {})),
                )
            del scene

    @staticmethod
    def report_outside(
        objects: list[ObjectAnn],
        size: tuple[int, int],
        *,
        file: str,
        key: str,
        lines: Sequence[int | None] | None = None,
    ) -> Iterator[Skip]:
        """A kept-sample Skip for each object lying wholly outside a ``(width, height)`` image (it is dropped).

        ``file`` should be the annotation file and ``lines`` the line of each object in it, when known.
        """
        w, h = size
        for i, o in enumerate(objects):
            x1, y1, x2, y2 = o.hbox
            if x2 <= 0 or y2 <= 0 or x1 >= w or y1 >= h:
                yield Skip(
                    file,
                    f"object {i + 1} ({o.label}, box {o.hbox}) lies outside the {w}x{h} image; dropped",
                    line=None if lines is None else lines[i],
                    key=key,
                    kept=True,
                )


def _hull_order(q: np.ndarray) -> np.ndarray | None:
    """The 4 corners in convex-hull order, or None when they are not the vertices of a convex quadrilateral."""
    pts = q.reshape(4, 2)
    centre = pts.mean(axis=0)
    order = np.argsort(np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0]))
    candidate = pts[order].reshape(8)
    return candidate if is_valid_qbox(candidate) else None
