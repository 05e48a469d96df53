"""Scorers of tasks answered in words or numbers: scene, VQA, counts, yes/no, box class, captions, land cover.

Each scorer takes the :class:`~ts_instruct.eval.reading.Case` list of one (dataset, task) and returns a JSON-ready
dict with at least ``n`` (answers scored) and ``unparsed`` (answers that could not be read, counted as wrong).
References come from ``meta.target`` when the record has one, else from the last assistant message (or, for
captions, from every reference caption in ``annotations.captions``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ts_instruct.eval.captioning import caption_scores
from ts_instruct.eval.classification import (
    binary_scores,
    count_scores,
    fraction_scores,
    label_scores,
    multilabel_scores,
    vqa_scores,
)
from ts_instruct.eval.normalize import match_answer, normalize_text, parse_number, parse_yes_no
from ts_instruct.eval.reading import Case, choice_in_text, class_in_text, class_numbers, classes_in_text

Metrics = dict[str, Any]
_NEGATIVE = re.compile(r"\b(?:no|none|nothing)\b", re.IGNORECASE)


def record_classes(case: Case) -> list[str]:
    """Class vocabulary of a record: ``annotations.classes``, the scene, object labels and mask class names."""
    ann = case.annotations
    names = [*ann.get("classes", [])]
    names += [ann["scene"]] if ann.get("scene") else []
    names += [o["label"] for o in ann.get("objects", []) if o.get("label")]
    names += [p["label"] for p in ann.get("polygons", []) if p.get("label")]
    for mask in ann.get("masks", []):
        names += list(mask.get("classes", {}).values())
    return list(dict.fromkeys(str(n) for n in names))


def _vocabulary(cases: Sequence[Case]) -> list[str]:
    return list(dict.fromkeys(n for c in cases for n in record_classes(c)))


def _canonical(name: str, vocabulary: Sequence[str]) -> str:
    """The vocabulary spelling of a class name (``"dense residential"`` → ``"dense_residential"``)."""
    return class_in_text(name, vocabulary) or name


def _target_value(case: Case, *types: str) -> Any:
    target = case.target
    return target.get("value") if target.get("type") in types else None


# ------------------------------------------------------------------------------------------ classification


def score_scene_open(cases: Sequence[Case], **options: Any) -> Metrics:
    """Scene class named in free text: accuracy, per-class accuracy, confusion matrix."""
    vocab = _vocabulary(cases)
    refs, preds = [], []
    for c in cases:
        scene = c.annotations.get("scene") or _target_value(c, "text")
        if not scene:
            raise c.fail("has neither annotations.scene nor a text target to score a scene answer against")
        refs.append(_canonical(str(scene), vocab))
        preds.append(class_in_text(c.prediction, record_classes(c) or vocab))
    return label_scores(refs, preds, classes=sorted(set(vocab) | set(refs)))


def _options(case: Case) -> list[str]:
    options = case.target.get("options")
    if isinstance(options, list) and options:
        return [str(o) for o in options]
    found = re.findall(r"^\s*([A-Z])[.)]\s*(.+?)\s*$", case.prompt, flags=re.MULTILINE)
    if not found:
        raise case.fail("has no meta.target.options and no lettered options in the prompt")
    return [name for _, name in found]


def score_scene_choice(cases: Sequence[Case], **options: Any) -> Metrics:
    """Multiple choice: the option picked (by letter or name) against the right one; accuracy and confusion."""
    vocab = _vocabulary(cases)
    refs: list[str] = []
    preds: list[str | None] = []
    for c in cases:
        choices = _options(c)
        label = c.target.get("label") or c.annotations.get("scene")
        if label is None:
            letter = c.target.get("value") or c.reference_text.strip()[:1]
            label = choices[ord(str(letter).upper()) - ord("A")]
        refs.append(_canonical(str(label), vocab))
        picked = choice_in_text(c.prediction, choices)
        preds.append(None if picked is None else _canonical(picked, vocab))
    return label_scores(refs, preds, classes=sorted(set(vocab) | set(refs)))


def score_classify_box(cases: Sequence[Case], **options: Any) -> Metrics:
    """Class of the object in a given box: accuracy, per-class accuracy, confusion matrix."""
    vocab = _vocabulary(cases)
    refs: list[str] = []
    preds: list[str | None] = []
    for c in cases:
        ref = _target_value(c, "text") or c.reference_text
        refs.append(_canonical(str(ref), vocab))
        preds.append(class_in_text(c.prediction, vocab))
    return label_scores(refs, preds, classes=sorted(set(vocab) | set(refs)))


# ----------------------------------------------------------------------------------- numbers and yes/no


def _reference_number(case: Case) -> float:
    value = _target_value(case, "number")
    value = parse_number(case.reference_text) if value is None else float(value)
    if value is None:
        raise case.fail(f"reference answer {case.reference_text!r} holds no number")
    return value


def score_count(cases: Sequence[Case], **options: Any) -> Metrics:
    """Counts: exact accuracy and MAE (an unparsed answer counts as 0)."""
    return count_scores([_reference_number(c) for c in cases], [parse_number(c.prediction) for c in cases])


def _reference_yes_no(case: Case) -> bool:
    value = _target_value(case, "yes_no")
    answer = parse_yes_no(str(value)) if value is not None else parse_yes_no(case.reference_text)
    if answer is None:
        raise case.fail(f"reference answer {case.reference_text!r} is neither yes nor no")
    return answer


def score_yes_no(cases: Sequence[Case], **options: Any) -> Metrics:
    """Existence questions: accuracy and F1 of "yes" (an unparsed answer counts as the wrong one)."""
    return binary_scores([_reference_yes_no(c) for c in cases], [parse_yes_no(c.prediction) for c in cases])


def _as_fraction(value: float, text: str) -> float:
    """Percentages (written with ``%`` or above 1) as fractions."""
    return value / 100.0 if "%" in text or value > 1.0 else value


def score_fraction(cases: Sequence[Case], **options: Any) -> Metrics:
    """One share of the image (changed area): MAE in fraction units and accuracy within 5 points."""
    refs: list[float] = []
    preds: list[float | None] = []
    for c in cases:
        # the reference text carries its unit ("3%"); the target only when the text has no number
        text_value = parse_number(c.reference_text)
        refs.append(_as_fraction(text_value if text_value is not None else _reference_number(c), c.reference_text))
        value = parse_number(c.prediction)
        preds.append(None if value is None else _as_fraction(value, c.prediction))
    return fraction_scores(refs, preds)


def score_class_fractions(cases: Sequence[Case], **options: Any) -> Metrics:
    """Share of each land-cover class: MAE over (image, class) pairs of the reference and the answer.

    A class the answer leaves out counts as 0; an answer naming no class with a number is unparsed (every class
    of its reference then counts as 0).
    """
    refs: list[float] = []
    preds: list[float | None] = []
    unparsed = 0
    for c in cases:
        classes = record_classes(c)
        ref = class_numbers(c.reference_text, classes)
        if not ref:
            raise c.fail(f"reference answer {c.reference_text!r} names no class with a number")
        pred = class_numbers(c.prediction, classes)
        unparsed += not pred
        ref_pct = "%" in c.reference_text or any(v > 1 for v in ref.values())
        pred_pct = "%" in c.prediction or any(v > 1 for v in pred.values())
        for name in dict.fromkeys([*ref, *pred]):
            refs.append(ref.get(name, 0.0) / (100.0 if ref_pct else 1.0))
            preds.append(pred.get(name, 0.0) / (100.0 if pred_pct else 1.0) if pred else None)
    out = fraction_scores(refs, preds)
    out.update(n=len(cases), unparsed=unparsed, pairs=len(refs))
    return out


def score_present_classes(cases: Sequence[Case], **options: Any) -> Metrics:
    """Set of land-cover classes present: exact match, micro P/R/F1, mean per-image F1."""
    refs: list[list[str]] = []
    preds: list[list[str] | None] = []
    for c in cases:
        classes = record_classes(c)
        value = c.target.get("value")
        ref = [str(v) for v in value] if isinstance(value, list) else classes_in_text(c.reference_text, classes)
        refs.append([_canonical(r, classes) for r in ref])
        found = classes_in_text(c.prediction, classes)
        preds.append(found if found or _NEGATIVE.search(c.prediction) else None)
    return multilabel_scores(refs, preds)


# ------------------------------------------------------------------------------------------ VQA, captions


def question_type(case: Case) -> str:
    """The source's question type of the QA pair this record asks, ``"all"`` when unknown."""
    qa = case.annotations.get("qa", [])
    prompt = normalize_text(case.prompt)
    for pair in qa:
        if pair.get("qtype") and normalize_text(pair.get("question", "")) in prompt:
            return str(pair["qtype"])
    types = {pair.get("qtype") for pair in qa}
    return str(types.pop()) if len(types) == 1 and None not in types else "all"


def score_vqa(cases: Sequence[Case], **options: Any) -> Metrics:
    """VQA: accuracy per question type, their average (AA) and overall (OA), answers normalised."""
    correct = [match_answer(c.prediction, c.reference_text) for c in cases]
    return vqa_scores(correct, [question_type(c) for c in cases])


def _caption_refs(case: Case, use_annotations: bool) -> list[str]:
    captions = case.annotations.get("captions") if use_annotations else None
    return [str(x) for x in captions] if captions else [case.reference_text]


def _captions(cases: Sequence[Case], use_annotations: bool) -> Metrics:
    refs = [_caption_refs(c, use_annotations) for c in cases]
    out: Metrics = {"n": len(cases), "unparsed": sum(not c.prediction.strip() for c in cases)}
    out.update(caption_scores(refs, [c.prediction.strip() for c in cases]) if cases else {})
    return out


def score_caption(cases: Sequence[Case], **options: Any) -> Metrics:
    """Captions against every reference caption of the image (``annotations.captions``)."""
    return _captions(cases, use_annotations=True)


def score_describe_box(cases: Sequence[Case], **options: Any) -> Metrics:
    """Region descriptions against the record's reference answer."""
    return _captions(cases, use_annotations=False)
