"""Look at records: each record's geometry drawn on its image(s), in PNG contact sheets and one offline HTML page.

For every record picked (the first ``n``, or a seeded uniform sample of ``n`` read in one pass), :func:`draw_panel`
draws its images side by side (a before/after pair: earlier left), each scaled to fit a ``cell`` x ``cell`` square,
with the stored annotations in green and, when predictions are given, the model's answer read back with the
record's render style in red (:mod:`ts_instruct.shapes` says which geometry goes where). Labels sit above a shape's
top-most corner for annotations and below its bottom-most corner for predictions, so both stay readable; an image
with more than 12 shapes of one kind shows outlines only (the text beside the panel lists everything).

Output folder::

    index.html          one card per record: the drawn panel, id, task, prompt, answer, prediction and parse problems
    panels/0000.png     the drawn panel of each record (what the page shows)
    sheet-000.png       contact sheets: ``columns x rows`` panels with their text printed below

The page has no script and no remote resource: it opens offline from the folder (copy the folder, not the file).
Same records and options give the same bytes.
"""

from __future__ import annotations

import html
import random
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from PIL import Image, ImageDraw, ImageFont

from ts_instruct.errors import ConfigError
from ts_instruct.recordset import RecordRef
from ts_instruct.shapes import Shape, annotation_shapes, prediction_shapes

__all__ = ["COLORS", "PreviewOptions", "caption_fields", "draw_panel", "select", "write_preview"]

#: Colour of each shape source (RGB): stored annotations green, model answers red.
COLORS: dict[str, tuple[int, int, int]] = {"annotation": (0, 200, 83), "prediction": (255, 23, 68)}

T = TypeVar("T")
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

_GAP = 4  # pixels between the images of a pair and around panels on a sheet
_FONT_SIZE = 11
_TEXT_LINES = 9  # lines of text under each panel on a contact sheet
_MAX_LABELS = 12  # an image with more shapes of one source than this shows their outlines only
_LABEL_CHARS = 28  # longer labels (referring expressions) are cut


@dataclass
class PreviewOptions:
    """What to draw and how big.

    Attributes:
        n: records to show.
        seed: ``None`` takes the first ``n`` records; an int takes a uniform random sample of ``n`` (reservoir
            sampling, one pass, only ``n`` records held).
        cell: each image is scaled to fit a ``cell`` x ``cell`` square, in pixels.
        columns: panels per row on a contact sheet.
        rows: rows per contact sheet.
        per_task: at most this many records of each (dataset, task), ``None`` for no cap; a quick tour of a mixture.
    """

    n: int = 24
    seed: int | None = None
    cell: int = 256
    columns: int = 4
    rows: int = 3
    per_task: int | None = None

    def __post_init__(self) -> None:
        for name in ("n", "cell", "columns", "rows", "per_task"):
            value = getattr(self, name)
            if name == "per_task" and value is None:
                continue
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"preview {name} must be a positive int, got {value!r}")


def select(refs: Iterable[T], n: int, seed: int | None = None) -> list[T]:
    """The first ``n`` records, or with ``seed`` a uniform sample of ``n`` kept in stream order (reservoir sampling).

    Example:
        >>> [r for r in select(range(10), 3)]  # works on any iterable
        [0, 1, 2]
        >>> select(range(10), 3, seed=1) == select(range(10), 3, seed=1)
        True
    """
    if seed is None:
        out: list[T] = []
        for ref in refs:
            if len(out) == n:
                break
            out.append(ref)
        return out
    rng = random.Random(seed)
    reservoir: list[tuple[int, T]] = []
    for i, ref in enumerate(refs):
        if i < n:
            reservoir.append((i, ref))
        else:
            j = rng.randrange(i + 1)
            if j < n:
                reservoir[j] = (i, ref)
    return [ref for _, ref in sorted(reservoir, key=lambda t: t[0])]


def _cap_per_task(refs: Iterable[RecordRef], cap: int | None) -> Iterator[RecordRef]:
    seen: Counter[tuple[str, str]] = Counter()
    for ref in refs:
        key = (ref.record.dataset, ref.record.task)
        if cap is None or seen[key] < cap:
            seen[key] += 1
            yield ref


def _font() -> Font:
    return ImageFont.load_default(size=_FONT_SIZE)


def _open_rgb(path: Path, size: tuple[int, int]) -> Image.Image:
    """The image, or a grey placeholder of ``size`` saying it is missing (a preview never stops on one bad file)."""
    try:
        with Image.open(path) as im:
            rgb: Image.Image = im.convert("RGB")
            return rgb
    except (OSError, ValueError):
        im = Image.new("RGB", size, (90, 90, 90))
        ImageDraw.Draw(im).text((4, 4), "missing image", fill=(255, 255, 255), font=_font())
        return im


def _draw_outline(draw: ImageDraw.ImageDraw, shape: Shape, scale: float, dx: int) -> None:
    color = COLORS[shape.source]
    pts = [(dx + x * scale, y * scale) for x, y in shape.ring]
    if shape.kind == "point":
        x, y = pts[0]
        draw.line([(x - 4, y), (x + 4, y)], fill=color, width=2)
        draw.line([(x, y - 4), (x, y + 4)], fill=color, width=2)
        return
    rings = [pts] + [[(dx + x * scale, y * scale) for x, y in hole] for hole in shape.holes]
    for ring in rings:  # a dark halo under the colour keeps outlines visible on any background
        draw.line([*ring, ring[0]], fill=(0, 0, 0), width=4, joint="curve")
    for k, ring in enumerate(rings):
        draw.line([*ring, ring[0]], fill=color, width=2 if k == 0 else 1, joint="curve")


def _draw_label(draw: ImageDraw.ImageDraw, shape: Shape, scale: float, tile: tuple[int, int, int], font: Font) -> None:
    """Draw the label in a box of the shape's colour, kept inside the image tile ``(x0, width, height)``.

    It sits above the top-most corner of an annotation and below the bottom-most corner of a prediction.
    """
    x0, tw, th = tile
    label = _ascii(shape.label or "")
    if len(label) > _LABEL_CHARS:
        label = label[: _LABEL_CHARS - 3] + "..."
    pts = [(x0 + x * scale, y * scale) for x, y in shape.ring]
    if shape.source == "prediction":
        x, y = max(pts, key=lambda p: (p[1], -p[0]))
        anchor, at = "la", (x, y + 2)
    else:
        x, y = min(pts, key=lambda p: (p[1], p[0]))
        anchor, at = "lb", (x, y - 2)
    left, top, right, bottom = draw.textbbox(at, label, font=font, anchor=anchor)
    sx = min(0.0, x0 + tw - right) or max(0.0, x0 - left)
    sy = min(0.0, th - bottom) or max(0.0, -top)
    draw.rectangle((left + sx, top + sy, right + sx, bottom + sy), fill=COLORS[shape.source])
    draw.text((at[0] + sx, at[1] + sy), label, fill=(0, 0, 0), font=font, anchor=anchor)


def _video_frame(path: Path, cell: int) -> Image.Image:
    """The middle key frame of a video, or a grey placeholder saying it cannot be read."""
    from ts_instruct.errors import InvalidVideoError
    from ts_instruct.video import read_keyframes

    try:
        _, frames = read_keyframes(path, 1)
        return Image.fromarray(frames[0])
    except (InvalidVideoError, OSError, ValueError):
        im = Image.new("RGB", (cell, cell), (90, 90, 90))
        ImageDraw.Draw(im).text((4, 4), "unreadable video", fill=(255, 255, 255), font=_font())
        return im


def draw_panel(ref: RecordRef, cell: int = 256) -> tuple[Image.Image, list[str]]:
    """Draw one record: its images side by side, annotations and (when ``ref.prediction`` is set) the prediction.

    Videos follow the images, each shown by its middle key frame, tagged ``video``.

    Args:
        ref: the record with its base folder and optional prediction.
        cell: each image is scaled to fit a ``cell`` x ``cell`` square (up or down), in pixels.

    Returns:
        ``(panel, problems)``: the RGB panel, ``cell`` pixels high and ``k * cell + (k - 1) * 4`` wide for ``k``
        images and videos, and the problems met while reading the prediction back (empty without a prediction).
    """
    rec = ref.record
    shapes = annotation_shapes(rec)
    problems: list[str] = []
    if ref.prediction is not None:
        predicted, problems = prediction_shapes(rec, ref.prediction)
        shapes += predicted
    metas = rec.meta.get("images", [])
    n_images = len(rec.images)
    count = max(n_images + len(rec.videos), 1)
    panel = Image.new("RGB", (count * cell + (count - 1) * _GAP, cell), (255, 255, 255))
    draw = ImageDraw.Draw(panel)
    font = _font()
    for i in range(count):
        dx = i * (cell + _GAP)
        if i >= n_images + len(rec.videos):
            draw.text((dx + 4, 4), "no image", fill=(0, 0, 0), font=font)
            continue
        if i >= n_images:
            im = _video_frame(ref.base / rec.videos[i - n_images], cell)
            w, h = im.size
        else:
            meta = metas[i] if i < len(metas) else {}
            im = _open_rgb(ref.base / rec.images[i], (int(meta.get("width", cell)), int(meta.get("height", cell))))
            w, h = (int(meta["width"]), int(meta["height"])) if meta else im.size
        scale = cell / max(w, h)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        resample = Image.Resampling.NEAREST if scale >= 1 else Image.Resampling.BILINEAR
        panel.paste(im.resize(size, resample), (dx, 0))
        mine = [sh for sh in shapes if i < n_images and (sh.image is None or sh.image == i)]
        for shape in mine:
            _draw_outline(draw, shape, scale, dx)
        for source in ("annotation", "prediction"):
            labelled = [sh for sh in mine if sh.source == source and sh.label]
            if len(labelled) <= _MAX_LABELS:  # beyond that, labels hide the image and each other
                for shape in labelled:
                    _draw_label(draw, shape, scale, (dx, size[0], size[1]), font)
        tag = None
        if i >= n_images:
            tag = "video"
        elif n_images > 1:
            tag = "before" if i == 0 else "after" if i == n_images - 1 else f"image {i + 1}"
        if tag:
            box = draw.textbbox((dx + 2, size[1] - 2), tag, font=font, anchor="lb")
            draw.rectangle(box, fill=(255, 255, 255))
            draw.text((box[0], box[1]), tag, fill=(0, 0, 0), font=font)
    return panel, problems


def _strip_placeholders(text: str) -> str:
    return text.replace("<image>", "").replace("<video>", "").strip()


def caption_fields(ref: RecordRef, problems: list[str]) -> list[tuple[str, str]]:
    """The text shown with a panel, as ``(name, value)`` pairs: id, task, every turn, prediction, problems."""
    rec = ref.record
    out = [("id", rec.id), ("task", f"{rec.dataset} / {ref.split} / {rec.task}")]
    for m in rec.messages:
        name = {"user": "question", "assistant": "answer", "system": "system"}[m.role]
        out.append((name, _strip_placeholders(m.content)))
    if ref.prediction is not None:
        out.append(("prediction", ref.prediction))
    if problems:
        out.append(("problems", "; ".join(problems)))
    return out


_TYPOGRAPHY = str.maketrans(
    {"→": "->", "“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "‘": "'", "’": "'", "–": "-", "—": "-", "…": "..."}
)


def _ascii(text: str) -> str:
    """Text the bundled font can draw: accents dropped (NFKD), arrows spelled ``->``, anything else ``?``.

    Pillow's bundled font covers ASCII only; using it (rather than whatever fonts a machine has) keeps sheets
    byte-identical across machines. The HTML page shows the exact text.
    """
    text = unicodedata.normalize("NFKD", text.translate(_TYPOGRAPHY))
    return "".join(c if c.isascii() else "?" for c in text if not unicodedata.combining(c))


def _wrap(text: str, font: Font, width: int) -> Iterator[str]:
    """Lines of at most ``width`` pixels: break at spaces, and inside words longer than a line (ids, paths)."""
    for para in text.splitlines() or [""]:
        line = ""
        for word in para.split(" "):
            candidate = f"{line} {word}" if line else word
            if font.getlength(candidate) <= width:
                line = candidate
                continue
            if line:
                yield line
            line = word
            while font.getlength(line) > width and len(line) > 1:
                cut = len(line) - 1
                while cut > 1 and font.getlength(line[:cut]) > width:
                    cut -= 1
                yield line[:cut]
                line = line[cut:]
        yield line


#: Lines each field may take under a panel on a contact sheet (fields not listed are left to the HTML page).
_SHEET_LINES = {"id": 2, "question": 2, "answer": 2, "prediction": 2, "problems": 1}


def _sheet_cell(panel: Image.Image, fields: list[tuple[str, str]], width: int) -> Image.Image:
    font = _font()
    line_h = _FONT_SIZE + 3
    lines: list[tuple[str, tuple[int, int, int]]] = []
    for name, value in fields:
        cap = _SHEET_LINES.get(name, 0)
        if not cap or len(lines) >= _TEXT_LINES:
            continue
        wrapped = list(_wrap(_ascii(f"{name}: {' '.join(value.split())}"), font, width - 4))
        if len(wrapped) > cap:
            wrapped = [*wrapped[: cap - 1], wrapped[cap - 1][:-2] + " …"]
        color = COLORS["prediction"] if name in ("prediction", "problems") else (0, 0, 0)
        lines.extend((w, color) for w in wrapped)
    cell = Image.new("RGB", (width, panel.height + _TEXT_LINES * line_h + _GAP), (255, 255, 255))
    cell.paste(panel, (0, 0))
    draw = ImageDraw.Draw(cell)
    for k, (line, color) in enumerate(lines[:_TEXT_LINES]):
        draw.text((2, panel.height + 2 + k * line_h), line, fill=color, font=font)
    return cell


def _write_sheets(cells: list[Image.Image], out: Path, options: PreviewOptions) -> list[str]:
    """Pack cells left to right into rows at most ``columns`` single-image cells wide, ``columns x rows`` per sheet."""
    names = []
    per_sheet = options.columns * options.rows
    max_w = options.columns * (options.cell + _GAP)
    for s in range(0, len(cells), per_sheet):
        rows: list[list[Image.Image]] = [[]]
        for c in cells[s : s + per_sheet]:
            if rows[-1] and sum(x.width + _GAP for x in rows[-1]) + c.width > max_w:
                rows.append([])
            rows[-1].append(c)
        width = max(sum(x.width + _GAP for x in row) for row in rows) + _GAP
        height = sum(max(x.height for x in row) + _GAP for row in rows) + _GAP
        sheet = Image.new("RGB", (width, height), (230, 230, 230))
        y = _GAP
        for row in rows:
            x = _GAP
            for c in row:
                sheet.paste(c, (x, y))
                x += c.width + _GAP
            y += max(c.height for c in row) + _GAP
        name = f"sheet-{s // per_sheet:03d}.png"
        sheet.save(out / name, optimize=True)
        names.append(name)
    return names


_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1em;background:#f4f4f4;color:#111}
.grid{display:flex;flex-wrap:wrap;gap:12px}
figure{margin:0;background:#fff;padding:8px;border:1px solid #ccc;max-width:%dpx}
figure img{display:block;max-width:100%%;height:auto;image-rendering:pixelated}
dl{margin:6px 0 0;display:grid;grid-template-columns:max-content 1fr;gap:2px 8px;font-size:12px}
dt{font-weight:600;color:#555}dd{margin:0;white-space:pre-wrap;word-break:break-word}
.ann{color:#00a844;font-weight:600}.pred{color:#e0143c;font-weight:600}
"""


def _html(cards: list[tuple[str, Image.Image, list[tuple[str, str]]]], sheets: list[str], title: str) -> str:
    widest = max((im.width for _, im, _ in cards), default=256)
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<link rel="icon" href="data:,">',
        f"<title>{html.escape(title)}</title><style>{_CSS % (widest + 18)}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p>{len(cards)} records. <span class="ann">green</span>: stored annotations; '
        '<span class="pred">red</span>: model answers read back.</p>',
        "<p>Contact sheets: " + ", ".join(f'<a href="{s}">{s}</a>' for s in sheets) + "</p>",
        '<main class="grid">',
    ]
    for src, im, fields in cards:
        alt = html.escape(fields[0][1], quote=True)
        rows = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in fields)
        parts.append(
            f'<figure><img src="{src}" width="{im.width}" height="{im.height}" alt="{alt}">'
            f"<figcaption><dl>{rows}</dl></figcaption></figure>"
        )
    parts += ["</main>", "</body></html>", ""]
    return "\n".join(parts)


def write_preview(refs: Iterable[RecordRef], out: Path, options: PreviewOptions | None = None) -> dict[str, int]:
    """Pick records, draw them, and write panels, contact sheets and ``index.html`` into ``out``.

    Args:
        refs: the record stream (see :func:`ts_instruct.recordset.iter_records`), predictions attached or not.
        out: output folder, created if needed; the panels and sheets of an earlier preview there are removed.
        options: what to draw (default :class:`PreviewOptions`).

    Returns:
        Counts: ``records`` drawn, ``sheets`` written, ``shapes_annotation``, ``shapes_prediction``, ``problems``
        (predictions that did not read back cleanly).
    """
    options = options or PreviewOptions()
    picked = select(_cap_per_task(refs, options.per_task), options.n, options.seed)
    (out / "panels").mkdir(parents=True, exist_ok=True)
    for stale in [*out.glob("panels/[0-9][0-9][0-9][0-9].png"), *out.glob("sheet-[0-9][0-9][0-9].png")]:
        stale.unlink()
    cards = []
    cells = []
    counts = {"records": len(picked), "sheets": 0, "shapes_annotation": 0, "shapes_prediction": 0, "problems": 0}
    for k, ref in enumerate(picked):
        panel, problems = draw_panel(ref, options.cell)
        fields = caption_fields(ref, problems)
        src = f"panels/{k:04d}.png"
        panel.save(out / src, optimize=True)
        cards.append((src, panel, fields))
        cells.append(_sheet_cell(panel, fields, panel.width))
        counts["shapes_annotation"] += len(annotation_shapes(ref.record))
        if ref.prediction is not None:
            counts["shapes_prediction"] += len(prediction_shapes(ref.record, ref.prediction)[0])
        counts["problems"] += bool(problems)
    sheets = _write_sheets(cells, out, options) if cells else []
    counts["sheets"] = len(sheets)
    (out / "index.html").write_text(_html(cards, sheets, "TerraSense preview"), encoding="utf-8")
    return counts
