"""Family helpers for visual-grounding datasets: referring expressions with the box of their object.

The grounding converters yield one sample per image holding the split's expressions of that image as
:class:`~ts_instruct.sample.RefExpr` (text, ``hbox`` in pixels, class label, source id). This module holds what every
such converter checks before an expression is kept: the expression has text, and the box is a real box inside the
image (:func:`fit_box`).
"""

from __future__ import annotations

from collections.abc import Sequence

#: pixels a box may overflow the image and still be kept (clipped): coordinate-convention noise (1-based
#: ``xmax = width + 1``), not a wrong box
BOX_TOLERANCE = 2.0


def normalise_expression(text: str | None) -> str:
    r"""Single spaces, no surrounding blanks; ``""`` when there is no text.

    >>> normalise_expression("  the  vehicle on the\nleft ")
    'the vehicle on the left'
    """
    return " ".join(str(text or "").split())


def fit_box(
    box: Sequence[float], width: int, height: int, *, tolerance: float = BOX_TOLERANCE
) -> tuple[list[float] | None, str]:
    """Check a box ``[x1, y1, x2, y2]`` (pixels) against a ``width`` x ``height`` image.

    Returns:
        ``(box, "")`` when it lies inside; ``(clipped box, "")`` when it overflows by at most ``tolerance`` pixels;
        ``(None, reason)`` when it is empty (``x2 <= x1`` or ``y2 <= y1``) or overflows more (the expression may
        describe a part outside the image, so it is not clipped into a different box).

    >>> fit_box([10, 10, 20, 20], 64, 64)
    ([10.0, 10.0, 20.0, 20.0], '')
    >>> fit_box([10, 10, 65, 20], 64, 64)
    ([10.0, 10.0, 64.0, 20.0], '')
    >>> fit_box([10, 10, 90, 20], 64, 64)[1]
    'box [10.0, 10.0, 90.0, 20.0] lies outside the 64x64 image by more than 2 px'
    """
    x1, y1, x2, y2 = (float(v) for v in box)
    if x2 <= x1 or y2 <= y1:
        return None, f"box {[x1, y1, x2, y2]} is empty (x2 <= x1 or y2 <= y1)"
    if x1 < -tolerance or y1 < -tolerance or x2 > width + tolerance or y2 > height + tolerance:
        return None, f"box {[x1, y1, x2, y2]} lies outside the {width}x{height} image by more than {tolerance:g} px"
    clipped = [max(0.0, x1), max(0.0, y1), min(float(width), x2), min(float(height), y2)]
    if clipped[2] <= clipped[0] or clipped[3] <= clipped[1]:
        return None, f"box {[x1, y1, x2, y2]} has no area inside the {width}x{height} image"
    return clipped, ""
