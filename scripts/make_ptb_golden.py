"""Write tests/data/eval/ptb_golden.json: captions and what pycocoevalcap's PTBTokenizer makes of them.

Needs Java and pycocoevalcap (its Stanford CoreNLP 3.4.1 jar). The test suite reads the JSON and checks that
``ts_instruct.eval.captioning.ptb_tokenize`` gives the same tokens, without Java.
Run: ``python scripts/make_ptb_golden.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

CAPTIONS = [
    "There are many buildings, trees and a road.",
    "A red-roofed house is next to the river.",
    "It's a \"big\" airport (with 3 planes); isn't it?",
    "The area is 1,000 m2 or 3.5% of the image -- roughly.",
    "Cars/trucks are parked at the U.S. base... next to St. Mary's church!",
    "Some planes: 2 large & 5 small ones are parked near the terminal's gate",
    "A bridge - crossing the river * over there [left] {right} $5 #1 'quoted' `tick` a/b",
    "Two baseball fields are next to each other. A road runs between them.",
    "I cannot see it. We don't know; they'll go, you're here, I'm there, she'd left, we've done.",
    "At 3:30 pm, the road is wide.",
    "Many green trees are around the square",
    "A plane parked at the airport.   Two planes.",
    "Is there a harbor? Yes.",
    "The image shows 45% forest and 30 % farmland.",
    '"Several" boats are docked at the pier ; a few ships sail .',
    "Residential area with houses ( dense ) and a park.",
    "A road, a bridge, and a river: all in view!",
    "Il y a un café près de l'église.",
    "Über 10 Häuser stehen hier \u2014 und da.",
    "the building's roofs are grey/white. it's 5 p.m.",
    "Approximately 1/3 of the area is water.",
    "This is the end...",
    "Look -- here.",
    "a 'single' quote and o'clock",
    "100m x 200m field",
    "semi;colon,comma",
    "A--B",
    "  leading and trailing spaces   ",
    "A dense residential area with many buildings and some green trees.",
    "Several large white storage tanks are arranged neatly beside the bare land.",
    "An airplane is parked on the apron, and another is taxiing.",
    "Lots of cars are parked in the parking lot near the stadium .",
    "A baseball diamond is surrounded by green grass, trees and roads.",
    "Some boats are in the harbor while the others sail on the sea!",
    "The farmland is divided into rectangles of different colors (green, brown & yellow).",
    "Which is bigger: the lake or the pond?",
    "The building on the left isn't finished yet.",
    "e.g. a viaduct, i.e. a bridge",
    "",
    "The '90s buildings.",
    "Mr. Smith's house.",
    "in the U.S.",
    "3,5 cars",
    "x2 zoom",
    "“quoted” text",
    "A ship; a boat.",
    "Several planes!!",
    "Really?!",
    "Oh... ok",
    "The river's bank",
    "James' car",
    "50-60 trees",
    "a 1990s-era building",
    "10:1 ratio",
    "No. 5 road",
    "It is 5 ft. tall.",
    "a U-shaped building",
    "a T-junction.",
    "Tanks, tanks, tanks...",
    "Two airplanes.Three cars.",
    "A plane(white)",
    "hello,world",
    "word.",
    "A.",
    "I.",
    'the end."',
    "(a) b",
    "#1 building",
    "ships & boats",
    "$100",
    "100$",
    "50%.",
    "one-third",
    "it's",
    "dogs'",
    "cars' roofs",
    "Mt. Fuji",
    "vs. them",
    "A  B",
    "tab\there",
    "e.g.",
    "Jan. 5",
    "a.m.",
    "5 a.m. today",
    "ok!",
    "?",
    "...",
    "-",
    "--",
    "'",
    '"',
    "a - b",
    "a-",
    "-a",
]


def main() -> None:
    tokenized = PTBTokenizer().tokenize({str(i): [{"caption": c}] for i, c in enumerate(CAPTIONS)})
    rows = [{"caption": c, "tokens": tokenized[str(i)][0]} for i, c in enumerate(CAPTIONS)]
    out = Path(__file__).resolve().parents[1] / "tests" / "data" / "eval" / "ptb_golden.json"
    out.write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(rows)} captions to {out}")


if __name__ == "__main__":
    main()
