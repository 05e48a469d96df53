"""The README's render-style examples are what the styles write, and its gallery image is there and small."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from ts_instruct.render import RenderItem, get_style, list_styles

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
ITEMS = [
    RenderItem("hbox", (100, 150, 300, 450), label="plane"),
    RenderItem("qbox", (500, 100, 620, 160, 580, 240, 460, 180), label="ship"),
]


@pytest.mark.parametrize("name", list_styles())
def test_readme_shows_what_each_style_writes(name):
    style = get_style(name)
    frame = style.frame(800, 600)
    answer = style.render(ITEMS, frame)
    assert f"`{name}`\n```" in README
    body = answer.removeprefix("```json\n").removesuffix("\n```")
    assert body in README, f"README example of {name} is out of date:\n{answer}"
    assert style.parse(answer, frame).ok


def test_readme_example_sizes():
    assert get_style("qwen25vl").target_size(800, 600) == (812, 588)
    assert "Qwen2.5-VL sees 812×588" in README


def test_gallery_is_referenced_and_small():
    gallery = ROOT / "docs" / "gallery.png"
    assert "](docs/gallery.png)" in README
    assert gallery.stat().st_size < 300_000
    with Image.open(gallery) as im:
        assert im.format == "PNG" and im.width >= 600


def test_catalogue_has_a_row_per_converter():
    from data_converters import list_converters

    catalogue = README.split("## Dataset catalogue", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in catalogue.splitlines() if line.startswith("| ") and not line.startswith("| dataset")]
    named = {line.split("|")[2].strip().split()[0].strip("`") for line in rows}
    assert named == {c.name for c in list_converters()}
