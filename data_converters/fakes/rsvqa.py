"""Synthetic RSVQA-LR and RSVQA-HR: ``<prefix>_split_<split>_{images,questions,answers}.json`` + ``<dir>/<id>.tif``.

Every split file lists **all** entries, those of other splits as placeholders ``{"id": i, "active": false}``, as the
real files do. Quirks on purpose: answers in mixed case (``Yes``, ``Rural``) and a count written ``4.0``; unicode in
a question; a train question whose image is active only in test (an orphan: reported); a train image whose file is
missing (its questions reported); a val question whose answer is inactive (dropped, reported); a test question entry
with an unreadable ``img_id`` (reported with its position). HR spells the answers' key ``quesiton_id`` as the
specification does, LR ``question_id``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from data_converters.fakes.common import save_image, texture

SIZE = 32
QUESTIONS = {
    "count": ("How many buildings are there?", "12"),
    "presence": ("Is there a café next to the road?", "Yes"),
    "comp": ("Is the number of roads equal to the number of water areas?", "No"),
    "rural_urban": ("Is it a rural or an urban area?", "Rural"),
    "area": ("What is the area covered by commercial buildings?", "Between 10m2 and 100m2"),
}


def _build(
    root: Path,
    seed: int,
    *,
    prefix: str,
    image_dir: str,
    splits: dict[str, list[int]],
    qtypes: tuple[str, ...],
    qid_key: str,
) -> dict[str, Any]:
    root = Path(root)
    rng = np.random.default_rng(seed)
    split_of = {i: s for s, ids in splits.items() for i in ids}
    n_images = len(split_of)
    missing = splits["train"][-1]
    for i in range(n_images):
        if i != missing:
            save_image(root / image_dir / f"{i}.tif", texture(rng, SIZE, SIZE))
    # questions: three per image, types cycling; answer id = question id
    questions: list[dict[str, Any]] = []
    answers: list[dict[str, Any]] = []
    q_split: list[str] = []
    a_active_override: dict[int, bool] = {}
    for i in range(n_images):
        for k in range(3):
            qtype = qtypes[(i + k) % len(qtypes)]
            text, ans = QUESTIONS[qtype]
            if qtype == "count" and i % 2:
                ans = "4.0"
            qid = len(questions)
            questions.append(
                {
                    "id": qid,
                    "date_added": 0,
                    "img_id": i,
                    "people_id": 0,
                    "type": qtype,
                    "question": text,
                    "answers_ids": [qid],
                }
            )
            answers.append({"id": qid, "date_added": 0, qid_key: qid, "people_id": 0, "answer": ans})
            q_split.append(split_of[i])
    orphan_img = splits["test"][0]
    qid = len(questions)  # an active train question about a test image
    questions.append(
        {
            "id": qid,
            "date_added": 0,
            "img_id": orphan_img,
            "people_id": 0,
            "type": "presence",
            "question": "Is there a road?",
            "answers_ids": [qid],
        }
    )
    answers.append({"id": qid, "date_added": 0, qid_key: qid, "people_id": 0, "answer": "yes"})
    q_split.append("train")
    unanswered = next(j for j, s in enumerate(q_split) if s == "val")
    a_active_override[unanswered] = False
    qid = len(questions)  # an unreadable test question
    questions.append(
        {
            "id": qid,
            "date_added": 0,
            "img_id": "five",
            "people_id": 0,
            "type": "count",
            "question": "How many?",
            "answers_ids": [qid],
        }
    )
    answers.append({"id": qid, "date_added": 0, qid_key: qid, "people_id": 0, "answer": "1"})
    q_split.append("test")
    for split in splits:
        imgs = []
        for i in range(n_images):
            if split_of[i] == split:
                imgs.append(
                    {
                        "id": i,
                        "date_added": 0,
                        "original_name": f"tile_{i}",
                        "sensor": "fake",
                        "upperleft_map-x": 0.0,
                        "upperleft_map-y": 0.0,
                        "res-x": 1.0,
                        "res-y": 1.0,
                        "people_id": 0,
                        "type": "tile",
                        "questions_ids": [
                            q["id"] for q, s in zip(questions, q_split, strict=True) if q["img_id"] == i and s == split
                        ],
                        "active": True,
                    }
                )
            else:
                imgs.append({"id": i, "active": False})
        qs = [
            {**q, "active": True} if s == split else {"id": q["id"], "active": False}
            for q, s in zip(questions, q_split, strict=True)
        ]
        answer_items = [
            {**a, "active": a_active_override.get(j, True)} if s == split else {"id": a["id"], "active": False}
            for j, (a, s) in enumerate(zip(answers, q_split, strict=True))
        ]
        for kind, items in (("images", imgs), ("questions", qs), ("answers", answer_items)):
            (root / f"{prefix}_split_{split}_{kind}.json").write_text(
                json.dumps({kind: items}, ensure_ascii=False), encoding="utf-8"
            )
    samples = {s: len([i for i in ids if i != missing]) for s, ids in splits.items()}
    records = {s: 3 * samples[s] for s in splits}
    records["val"] -= 1  # the unanswered question
    return {
        "samples": samples,
        "records": records,
        "missing": [f"{image_dir}/{missing}.tif"],
        "orphan_image": orphan_img,
        "unanswered": unanswered,
        "bad_entry": {"split": "test", "unit": f"#questions[{len(questions) - 1}]"},
    }


def make_fake_lr(root: Path, *, seed: int = 0) -> dict[str, Any]:
    """RSVQA-LR in the real layout (``Images_LR/``, ``LR_split_*``): 6 images; train 3 (one missing), val 1, test 2."""
    return _build(
        root,
        seed,
        prefix="LR",
        image_dir="Images_LR",
        splits={"train": [0, 1, 2], "val": [3], "test": [4, 5]},
        qtypes=("count", "presence", "comp", "rural_urban"),
        qid_key="question_id",
    )


def make_fake_hr(root: Path, *, seed: int = 0) -> dict[str, Any]:
    """RSVQA-HR in the real layout (``Data/``, ``USGS_split_*``): 8 images; train 3, val 1, test 2, test_phili 2."""
    return _build(
        root,
        seed,
        prefix="USGS",
        image_dir="Data",
        splits={"train": [0, 1, 2], "val": [3], "test": [4, 5], "test_phili": [6, 7]},
        qtypes=("count", "presence", "comp", "area"),
        qid_key="quesiton_id",
    )
