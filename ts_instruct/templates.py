"""Phrasing pools for prompts and answers, drawn by a seeded RNG keyed on the sample id.

Every choice is made by :func:`rng_for`, a ``random.Random`` seeded from ``sha256(seed, key, purpose)``. A record's text
therefore depends only on (seed, sample key, task), never on the order in which samples are processed or on the
number of workers.

Pools are plain ``str.format`` templates. Placeholders used: ``{cls}`` a class name, ``{classes}`` a list of names,
``{choices}`` lettered options, ``{box}`` a rendered geometry, ``{n}`` a number (of frames, objects...),
``{question}``, ``{expr}`` a referring expression, ``{geom}`` a geometry word, ``{year1}``/``{year2}`` the
acquisition years of a before/after pair.
Class names are shown as words (``storage-tank`` → ``storage tank``) by :func:`display_name`.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence

#: name → list of templates. Keep each pool at several phrasings so a model does not overfit one wording.
POOLS: dict[str, tuple[str, ...]] = {
    # scene classification
    "scene_open": (
        "What type of scene is shown in this remote sensing image? Answer with the scene class.",
        "Classify the land use in this aerial image. Answer with one class name.",
        "Which scene category best describes this image?",
        "Identify the scene class of this overhead image.",
    ),
    "scene_choice": (
        "Which of the following scene classes best describes this image?\n{choices}\nAnswer with the letter.",
        "Choose the scene category of this remote sensing image.\n{choices}\nAnswer with the option letter.",
        "What is shown in this aerial image? Pick one option.\n{choices}\nReply with the letter only.",
    ),
    # detection
    "detect_all": (
        "Detect all objects in this image and give their {geom} with class labels.",
        "Locate every object of interest in this remote sensing image. Output the {geom} of each one.",
        "Find all objects in the image and report each one's category and {geom}.",
    ),
    "detect_class": (
        "Detect every {cls} in this image and give their {geom}.",
        "Locate all instances of {cls} in the image. Output their {geom}.",
        "Where are the {cls_plural} in this image? Give each {geom}.",
    ),
    "count": (
        "How many {cls_plural} are in this image? Answer with a number.",
        "Count the {cls_plural} visible in this remote sensing image.",
        "What is the number of {cls_plural} in the image?",
    ),
    "exists": (
        "Is there any {cls} in this image? Answer yes or no.",
        "Does this remote sensing image contain a {cls}? Answer yes or no.",
        "Can you see at least one {cls} in the image? Reply yes or no.",
    ),
    "detect_none": (
        "There are no objects of interest in this image.",
        "No objects of interest are visible in this image.",
        "The image contains no objects of interest.",
    ),
    "detect_class_none": (
        "There is no {cls} in this image.",
        "No {cls_plural} are visible in this image.",
        "The image contains no {cls}.",
    ),
    "classify_box": (
        "What is the object in the region {box}? Answer with its class.",
        "Classify the object located at {box}.",
        "Which category does the object at {box} belong to?",
    ),
    # segmentation
    "seg_polygons": (
        "Outline every {cls} in this image as polygons.",
        "Extract the {cls} footprints in this remote sensing image as polygons.",
        "Give the polygon of each {cls} in the image.",
    ),
    "seg_polygons_region": (
        "Outline the {cls} areas in this image as polygons.",
        "Give the polygons of all regions covered by {cls} in this remote sensing image.",
        "Segment the {cls} in this aerial image and answer with polygons.",
    ),
    "seg_exists_region": (
        "Is any {cls} visible in this image? Answer yes or no.",
        "Does this remote sensing image contain {cls} areas? Answer yes or no.",
        "Is there {cls} in this aerial image? Reply yes or no.",
    ),
    "landcover_present": (
        "Which land-cover classes are present in this image? List them.",
        "List the land-cover categories visible in this remote sensing image.",
    ),
    "landcover_fraction": (
        "What fraction of the image does each land-cover class cover? Give percentages.",
        "Estimate the area share of each land-cover class in this image, in percent.",
    ),
    # captioning / VQA / grounding
    "caption": (
        "Describe this remote sensing image in one sentence.",
        "Write a short caption for this aerial image.",
        "Give a one-sentence description of the scene.",
    ),
    "caption_video": (
        "Describe what happens in this aerial video in one sentence.",
        "Write a short caption for this drone video.",
        "Give a one-sentence description of the event shown in the video.",
    ),
    "caption_frames": (
        "These {n} frames come from one aerial video, in time order. Describe what happens in one sentence.",
        "The {n} images are key frames of a drone video, earliest first. Write a short caption for the video.",
    ),
    "vqa": (
        "{question}",
        "{question}\nAnswer the question using a single word or phrase.",
        "Answer briefly: {question}",
    ),
    "ground": (
        'Locate the object described as "{expr}". Give its {geom}.',
        'Find "{expr}" in the image and output its {geom}.',
        'Where is "{expr}"? Answer with its {geom}.',
    ),
    "describe_box": (
        "Describe the object in the region {box}.",
        "What is at {box}? Describe it briefly.",
        "Write a referring expression for the object at {box}.",
    ),
    # scene classification of videos (event recognition) and of key frames
    "scene_open_video": (
        "What event is shown in this aerial video? Answer with the event class.",
        "Classify the event in this drone video. Answer with one class name.",
    ),
    "scene_choice_video": (
        "Which of the following events is shown in this aerial video?\n{choices}\nAnswer with the letter.",
        "Choose the event class of this drone video.\n{choices}\nAnswer with the option letter.",
    ),
    "scene_open_frames": (
        "These {n} frames come from one aerial video, in time order. What event do they show? Answer with the "
        "event class.",
    ),
    "scene_choice_frames": (
        "These {n} frames come from one aerial video, in time order. Which event do they show?\n{choices}\n"
        "Answer with the letter.",
    ),
    # change (two images: the earlier one comes first)
    "change_preamble": (
        "The first image was taken before the second one.",
        "Image 1 is the earlier acquisition and image 2 the later one.",
        "These are two images of the same area: the first is before, the second after.",
    ),
    "change_preamble_dated": (
        "The first image was taken in {year1}, the second in {year2}.",
        "Image 1 shows the area in {year1} and image 2 the same area in {year2}.",
        "These two images of the same area are from {year1} (first) and {year2} (second).",
    ),
    "change_exists": (
        "Has anything changed between the two images? Answer yes or no.",
        "Is there any change from the first image to the second? Answer yes or no.",
    ),
    "change_regions": (
        "Where did changes occur between the two images? Give the changed regions as {geom}.",
        "Locate the changed areas between the before and after images. Output their {geom}.",
    ),
    "change_semantic": (
        "What changed between the two images? For each changed region give its {geom} and the change as "
        "'from class → to class'.",
        "Describe each change from the first to the second image: region {geom} and from-class → to-class.",
    ),
    "change_semantic_category": (
        "What changed between the two images? For each changed region give its {geom} and its change category "
        "({classes}).",
        "Locate each change from the first to the second image as {geom}, labelled with its category: {classes}.",
    ),
    "change_count": (
        "How many {cls_plural} appeared or disappeared between the two images? Answer with a number.",
        "Count the {cls_plural} that were built or demolished from the first image to the second.",
        "How many {cls} changes are there between the before and after images? Answer with a number.",
    ),
    "change_fraction": (
        "What fraction of the area changed between the two images? Answer in percent.",
        "How much of the scene changed from before to after, as a percentage of the image?",
    ),
    "change_caption": (
        "Describe what changed between the two images.",
        "Summarise the differences between the earlier and the later image in one sentence.",
    ),
}


def rng_for(seed: int, key: str, purpose: str) -> random.Random:
    """A ``random.Random`` determined by (seed, key, purpose) alone.

    >>> rng_for(0, "a", "x").random() == rng_for(0, "a", "x").random()
    True
    >>> rng_for(0, "a", "x").random() == rng_for(0, "b", "x").random()
    False
    """
    digest = hashlib.sha256(f"{seed}\x1f{key}\x1f{purpose}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def choose(pool: str, *, seed: int, key: str, **fields: object) -> str:
    """Pick a phrasing from ``POOLS[pool]`` for sample ``key`` and fill its placeholders.

    Raises:
        KeyError: if the pool does not exist (a programming error, listed with the known pools).
    """
    try:
        options = POOLS[pool]
    except KeyError:
        raise KeyError(f"no phrasing pool {pool!r}; known pools: {sorted(POOLS)}") from None
    text = rng_for(seed, key, pool).choice(options)
    return text.format(**fields) if fields else text


def display_name(label: str) -> str:
    """A class label as words: ``"storage-tank"`` → ``"storage tank"``, ``"baseball_diamond"`` → ``"baseball diamond"``.

    Returns:
        The label with underscores and hyphens as spaces.
    """
    return label.replace("_", " ").replace("-", " ").strip()


def plural(word: str) -> str:
    """Plural of a class phrase for prompts (``"storage tank"`` → ``"storage tanks"``, ``"bus"`` → ``"buses"``)."""
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and len(word) > 1 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def lettered(options: Sequence[str]) -> str:
    r"""Format options as ``"A. x\\nB. y"``."""
    return "\n".join(f"{chr(ord('A') + i)}. {o}" for i, o in enumerate(options))
