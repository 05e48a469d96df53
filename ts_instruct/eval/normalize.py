"""Answer normalisation for short text answers (classes, VQA, counts, yes/no, area bins).

Rules, applied to both the model's answer and the reference before they are compared:

* **Text** (:func:`normalize_text`): Unicode NFKC, lower case, ``_`` and ``-`` between words read as spaces,
  surrounding quotes and final punctuation removed, the articles ``a``/``an``/``the`` dropped, number words up to
  twenty and the tens (``"three"`` → ``"3"``) written as digits, whitespace collapsed.
  ``"The Airport."`` and ``"airport"`` are equal; ``"storage_tank"`` and ``"storage tank"`` are equal.
* **Yes/no** (:func:`parse_yes_no`): the first word decides (``yes``/``yeah``/``true`` or ``no``/``false``);
  ``"Yes, there is a harbor."`` is yes. Anything else is unparsed.
* **Numbers** (:func:`parse_number`): the first number in the answer, digits (``1,000`` and ``3.5`` allowed) or
  number words; without any number, an answer with the word ``no``/``none``/``nothing`` is 0
  (``"There are no planes"`` → 0). Percentages stay in percent (``"12%"`` → 12).
* **Area bins** (:func:`normalize_area`): RSVQA's area answers (``"0m2"``, ``"between 10m2 and 100m2"``,
  ``"more than 1000m2"``); ``m²``, ``m^2``, ``sq m`` and ``square meters`` are all ``m2``, spaces between number
  and unit are removed, and a plain area (``"250 m2"``) is put in its bin: 0, (0, 10], (10, 100], (100, 1000],
  more than 1000 (upper bounds included).

:func:`match_answer` picks the rule from the *reference*: yes/no when the reference is yes or no, an area bin when
it is one, a number when it is one (equal after rounding to 6 decimals), else normalised text equality.
"""

from __future__ import annotations

import itertools
import re
import unicodedata

_ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen"
_NUMBER_WORDS = {w: i for i, w in enumerate(f"{_ONES} seventeen eighteen nineteen twenty".split(" "))}
_NUMBER_WORDS.update({"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90})
_NUMBER_WORDS.update({"hundred": 100, "thousand": 1000})
_ARTICLES = frozenset(["a", "an", "the"])
_YES = frozenset(["yes", "yeah", "yep", "true"])
_NO = frozenset(["no", "nope", "false"])
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?|[-+]?\d+(?:\.\d+)?|[-+]?\.\d+")
_NUMBER_OR_WORD = re.compile(rf"{_NUMBER.pattern}|\b(?:{'|'.join(_NUMBER_WORDS)})\b")
_NONE = re.compile(r"\b(?:no|none|nothing)\b")
_UNIT = re.compile(r"\s*(?:m\s*\^?\s*2|m²|sq\.?\s*m(?:eters?|etres?)?|square\s+met(?:er|re)s?)\b")
_BIN = re.compile(r"^(?:0m2|between \d+m2 and \d+m2|more than \d+m2|less than \d+m2)$")
_AREA_BOUNDS = (0.0, 10.0, 100.0, 1000.0)


def normalize_text(text: str) -> str:
    """Normalise a short answer for comparison (see the module docstring).

    >>> normalize_text("  The Storage_Tank. ")
    'storage tank'
    >>> normalize_text("Three planes!")
    '3 planes'
    """
    s = unicodedata.normalize("NFKC", text).lower().strip()
    s = re.sub(r"(?<=[^\W\d_])[_-](?=[^\W\d_])", " ", s)
    s = s.replace("_", " ")
    s = s.strip(" \t\n\"'`“”‘’")
    s = re.sub(r"[.,;:!?]+$", "", s).strip(" \"'`“”‘’")
    words = [str(_NUMBER_WORDS[w]) if w in _NUMBER_WORDS else w for w in s.split()]
    return " ".join(w for w in words if w not in _ARTICLES)


def parse_yes_no(text: str) -> bool | None:
    """``True`` for yes, ``False`` for no, ``None`` when the answer is neither.

    >>> parse_yes_no("Yes, there is."), parse_yes_no("no"), parse_yes_no("maybe")
    (True, False, None)
    """
    words = re.findall(r"[^\W_]+", unicodedata.normalize("NFKC", text).lower())
    if not words:
        return None
    if words[0] in _YES:
        return True
    if words[0] in _NO:
        return False
    return None


def parse_number(text: str) -> float | None:
    """The first number in an answer, or ``None`` (see the module docstring).

    >>> parse_number("There are 1,200 cars."), parse_number("three"), parse_number("None."), parse_number("many")
    (1200.0, 3.0, 0.0, None)
    """
    s = unicodedata.normalize("NFKC", text).lower()
    m = _NUMBER_OR_WORD.search(s)
    if m:
        g = m.group(0)
        return float(_NUMBER_WORDS[g]) if g in _NUMBER_WORDS else float(g.replace(",", ""))
    if _NONE.search(s):
        return 0.0
    return None


def normalize_area(text: str) -> str | None:
    """An RSVQA area answer as its canonical bin string, or ``None`` when the text is not an area.

    >>> normalize_area("Between 10 m² and 100 square meters"), normalize_area("250 m2"), normalize_area("0m2")
    ('between 10m2 and 100m2', 'between 100m2 and 1000m2', '0m2')
    """
    s = unicodedata.normalize("NFKC", text).lower().strip().rstrip(".")
    s = re.sub(r"(\d),(\d{3})", r"\1\2", s)
    if not _UNIT.search(s):
        return None
    s = _UNIT.sub("m2", s)
    s = re.sub(r"\s+", " ", s).strip()
    if _BIN.match(s):
        return s
    m = re.fullmatch(r"(?:about |approximately |around )?(\d+(?:\.\d+)?)m2", s)
    if not m:
        return None
    return area_bin(float(m.group(1)))


def area_bin(area_m2: float) -> str:
    """The RSVQA bin of an area in square metres: 0, (0, 10], (10, 100], (100, 1000], more than 1000.

    >>> area_bin(0), area_bin(10), area_bin(10.5), area_bin(5000)
    ('0m2', 'between 0m2 and 10m2', 'between 10m2 and 100m2', 'more than 1000m2')
    """
    if area_m2 <= 0:
        return "0m2"
    for lo, hi in itertools.pairwise(_AREA_BOUNDS):
        if area_m2 <= hi:
            return f"between {lo:g}m2 and {hi:g}m2"
    return f"more than {_AREA_BOUNDS[-1]:g}m2"


def answer_kind(reference: str) -> str:
    """Which rule compares answers to this reference: ``"yes_no"``, ``"area"``, ``"number"`` or ``"text"``."""
    norm = normalize_text(reference)
    if norm in _YES or norm in _NO:
        return "yes_no"
    if normalize_area(reference) is not None:
        return "area"
    if re.fullmatch(r"[-+]?\d+(?:\.\d+)?", norm.replace(",", "")):
        return "number"
    return "text"


def match_answer(prediction: str, reference: str) -> bool | None:
    """Whether a short answer equals the reference under the rule the reference calls for.

    Returns:
        ``True``/``False``, or ``None`` when the prediction cannot be read in the reference's form (a yes/no
        question answered with neither, a count without a number, an area without a unit); callers count
        ``None`` as unparsed *and* wrong.

    >>> match_answer("Yes.", "yes"), match_answer("3 planes", "three"), match_answer("Airport", "airport")
    (True, True, True)
    >>> match_answer("I am not sure", "no") is None
    True
    """
    kind = answer_kind(reference)
    if kind == "yes_no":
        p = parse_yes_no(prediction)
        return None if p is None else p == parse_yes_no(normalize_text(reference))
    if kind == "area":
        a = normalize_area(prediction)
        return None if a is None else a == normalize_area(reference)
    if kind == "number":
        n = parse_number(prediction)
        ref = parse_number(reference)
        return None if n is None else round(n, 6) == round(ref or 0.0, 6)
    return normalize_text(prediction) == normalize_text(reference)
