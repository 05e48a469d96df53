"""Family base for the RSVQA releases (RSVQA-LR, RSVQA-HR): three json files per split, one image per unit.

Layout read (``<prefix>`` is ``LR`` or ``USGS``)::

    <root>/<prefix>_split_<split>_images.json      {"images": [{"id": 0, "active": true, "questions_ids": [...]}, ...]}
    <root>/<prefix>_split_<split>_questions.json   {"questions": [{"id": 0, "img_id": 0, "type": "count",
                                                                   "question": "...", "answers_ids": [0],
                                                                   "active": true}, ...]}
    <root>/<prefix>_split_<split>_answers.json     {"answers": [{"id": 0, "question_id": 0, "answer": "12",
                                                                 "active": true}, ...]}
    <root>/<image dir>/<image id>.tif

Every split file lists **all** entries of the whole dataset; those outside the split are placeholders
``{"id": i, "active": false}`` and are ignored. Questions are grouped by their ``img_id`` and answered through
``answers_ids[0]`` (the answer with that ``id``), falling back to the answer whose ``question_id`` (or the misspelt
``quesiton_id`` of the specification) names the question.

Memory: the three files of one split are parsed once per split (the HR train questions file holds about 650,000
active questions) with a ``json`` object hook that turns each entry into a small tuple as soon as it is read and
each placeholder into ``None``; only the current split's index is kept.

Entries that cannot be read (an id that is not an integer, a question without text...) become units of their own,
``#<kind>[<position>]``, reported as skips naming the file and position. A question whose image is not an active entry
of the split's image file, or whose image file is missing, is reported with the image's unit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

from data_converters.base import Converter
from ts_instruct.errors import DatasetNotFoundError, InvalidAnnotationError, InvalidImageError
from ts_instruct.imageio import read_rgb
from ts_instruct.sample import Annotations, ImageRef, QAPair, Sample, SampleMeta, Skip

KINDS = ("images", "questions", "answers")
_IMAGE_EXTENSIONS = (".tif", ".tiff", ".png", ".jpg")


def normalise_answer(answer: str, qtype: str | None = None) -> str:
    """An answer as the model should write it: single spaces, lower case, no final full stop; counts as integers.

    >>> normalise_answer(" Yes. ")
    'yes'
    >>> normalise_answer("12.0", "count")
    '12'
    >>> normalise_answer("Between 10m2 and 100m2", "area")
    'between 10m2 and 100m2'
    """
    text = " ".join(str(answer).split()).lower().rstrip(".").strip()
    if qtype == "count":
        try:
            value = float(text)
        except ValueError:
            return text
        if value.is_integer():
            return str(int(value))
    return text


def normalise_qtype(raw: Any) -> str | None:
    """Question type as a lower-case identifier (``"rural_urban"``), or ``None`` when absent."""
    if raw is None:
        return None
    text = "_".join(str(raw).strip().lower().split())
    return text or None


class Question(NamedTuple):
    """One active question (a tuple: the HR train split holds hundreds of thousands)."""

    id: int
    img_id: int
    qtype: str | None
    text: str
    answer_ids: tuple[int, ...]


class Answer(NamedTuple):
    """One active answer."""

    id: int
    text: str
    question_id: int | None


class Bad(NamedTuple):
    """An entry that could not be read, with why."""

    reason: str


def _int(value: Any) -> int | None:
    """``value`` as an int when it is one (bools excluded), else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _image_hook(d: dict[str, Any]) -> Any:
    if "id" not in d:
        return d
    if d.get("active") is False:
        return None
    i = _int(d["id"])
    return Bad(f"'id' must be an integer, got {d['id']!r}") if i is None else i


def _question_hook(d: dict[str, Any]) -> Any:
    if "id" not in d:
        return d
    if d.get("active") is False:
        return None
    qid, img = _int(d["id"]), _int(d.get("img_id"))
    if qid is None:
        return Bad(f"'id' must be an integer, got {d['id']!r}")
    if img is None:
        return Bad(f"question {qid}: 'img_id' must be an integer, got {d.get('img_id')!r}")
    text = d.get("question")
    if not isinstance(text, str) or not text.strip():
        return Bad(f"question {qid}: 'question' must be non-empty text, got {text!r}")
    raw_ids = d.get("answers_ids", [])
    ids = tuple(i for i in (_int(a) for a in raw_ids) if i is not None) if isinstance(raw_ids, list) else ()
    return Question(qid, img, normalise_qtype(d.get("type")), " ".join(text.split()), ids)


def _answer_hook(d: dict[str, Any]) -> Any:
    if "id" not in d:
        return d
    if d.get("active") is False:
        return None
    aid = _int(d["id"])
    if aid is None:
        return Bad(f"'id' must be an integer, got {d['id']!r}")
    text = d.get("answer")
    if not isinstance(text, (str, int, float)) or isinstance(text, bool):
        return Bad(f"answer {aid}: 'answer' must be text, got {text!r}")
    # the specification spells the key "quesiton_id"; accept both spellings
    qid = _int(d.get("question_id", d.get("quesiton_id")))
    return Answer(aid, str(text), qid)


_HOOKS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "images": _image_hook,
    "questions": _question_hook,
    "answers": _answer_hook,
}


class VQAIndex(NamedTuple):
    """One split's active entries, grouped for reading by image."""

    split: str
    images: set[int]
    questions: dict[int, list[Question]]
    answers: dict[int, Answer]
    answer_of_question: dict[int, str]
    #: unit name → (file, reason) for every unreadable entry
    bad: dict[str, tuple[str, str]]
    files: dict[str, str]


class RSVQAConverter(Converter):
    """RSVQA-style VQA; subclasses set :attr:`prefix`, :attr:`image_dirs`, :attr:`splits` and :attr:`gsd`."""

    family = "vqa"
    default_tasks = ("vqa",)
    #: file-name prefix: ``f"{prefix}_split_{split}_{kind}.json"``
    prefix: ClassVar[str] = ""
    #: candidate image folders relative to the root (first existing wins)
    image_dirs: ClassVar[tuple[str, ...]] = ("Images",)
    #: question types of the release (documentation and tests; other types are kept as they are)
    qtypes: ClassVar[tuple[str, ...]] = ()
    #: ground sample distance in metres
    gsd: ClassVar[float | None] = None
    _cache: VQAIndex | None = None  # the index of the split read last

    def split_file(self, split: str, kind: str) -> str:
        """``LR_split_train_questions.json`` style name of one of the split's files."""
        return f"{self.prefix}_split_{split}_{kind}.json"

    def available_splits(self) -> list[str]:
        """Splits whose three json files exist (checked without parsing them)."""
        return [s for s in self.splits if all((self.root / self.split_file(s, k)).is_file() for k in KINDS)]

    def index(self, split: str) -> VQAIndex:
        """Parse the split's three files (once; the last split read stays cached).

        Raises:
            DatasetNotFoundError: a file of the split is missing.
            InvalidAnnotationError: a file is not valid JSON or lacks its top-level list (names file and line).
        """
        if self._cache is not None and self._cache.split == split:
            return self._cache
        self._cache = None
        lists: dict[str, list[Any]] = {}
        files: dict[str, str] = {}
        for kind in KINDS:
            path = self.require(self.split_file(split, kind))
            files[kind] = self.rel(path)
            lists[kind] = self._load(path, kind)
        bad: dict[str, tuple[str, str]] = {}

        def entries(kind: str, typ: type) -> Iterator[Any]:
            for pos, e in enumerate(lists[kind]):
                if e is None or isinstance(e, typ):
                    if e is not None:
                        yield e
                elif isinstance(e, Bad):
                    bad[f"#{kind}[{pos}]"] = (files[kind], f"{kind}[{pos}]: {e.reason}")
                else:
                    bad[f"#{kind}[{pos}]"] = (files[kind], f"{kind}[{pos}] must be an object with an 'id', got {e!r}")

        images = set(entries("images", int))
        questions: dict[int, list[Question]] = {}
        for q in entries("questions", Question):
            questions.setdefault(q.img_id, []).append(q)
        answers: dict[int, Answer] = {}
        answer_of_question: dict[int, str] = {}
        for a in entries("answers", Answer):
            answers[a.id] = a
            if a.question_id is not None:
                answer_of_question.setdefault(a.question_id, a.text)
        self._cache = VQAIndex(split, images, questions, answers, answer_of_question, bad, files)
        return self._cache

    def _load(self, path: Path, kind: str) -> list[Any]:
        where = self.rel(path)
        data = self.load_json(path, object_hook=_HOOKS[kind])
        items = data.get(kind) if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise InvalidAnnotationError(where, f"must be a JSON object with a {kind!r} list", field=kind)
        return items

    def image_dir(self) -> Path:
        """The folder holding ``<id>.tif``."""
        return self.require(*self.image_dirs)

    def units(self, split: str) -> Sequence[str]:
        """Image ids of active images and questions (strings, numeric order), then one unit per unreadable entry.

        An unreadable entry's unit is ``#<kind>[<position>]``.
        """
        self.check_split(split)
        idx = self.index(split)
        ids = sorted(idx.images | set(idx.questions))
        return [str(i) for i in ids] + list(idx.bad)

    def read(self, split: str, unit: str) -> Iterator[Sample | Skip]:
        """One image → one sample holding its questions (sorted by id) with normalised answers."""
        idx = self.index(split)
        if unit in idx.bad:
            file, reason = idx.bad[unit]
            # an unreadable question or answer loses one question, an unreadable image entry an image
            yield Skip(file, reason, kept=not unit.startswith("#images"))
            return
        img_id = int(unit)
        questions = sorted(idx.questions.get(img_id, []))
        if img_id not in idx.images:
            ids = ", ".join(str(q.id) for q in questions[:5]) + (", ..." if len(questions) > 5 else "")
            yield Skip(
                idx.files["questions"],
                f"{len(questions)} question(s) (ids {ids}) refer to image {img_id}, "
                f"which is not an active entry of {idx.files['images']}; dropped",
                key=unit,
            )
            return
        if not questions:
            yield Skip(idx.files["images"], f"image {img_id} has no active question", key=unit)
            return
        try:
            base = self.image_dir()
        except DatasetNotFoundError:
            yield Skip(self.image_dirs[0], f"image folder is missing; {len(questions)} question(s) dropped", key=unit)
            return
        path = next((p for p in (base / f"{img_id}{ext}" for ext in _IMAGE_EXTENSIONS) if p.is_file()), None)
        if path is None:
            yield Skip(
                self.rel(base / f"{img_id}.tif"),
                f"image file is missing; {len(questions)} question(s) dropped",
                key=unit,
            )
            return
        try:
            pixels = read_rgb(path)
        except InvalidImageError as e:
            yield Skip(self.rel(path), f"{e.reason}; {len(questions)} question(s) dropped", key=unit)
            return
        qa: list[QAPair] = []
        for q in questions:
            raw = next((idx.answers[a].text for a in q.answer_ids if a in idx.answers), None)
            if raw is None:
                raw = idx.answer_of_question.get(q.id)
            answer = None if raw is None else normalise_answer(raw, q.qtype)
            if not answer:
                yield Skip(idx.files["answers"], f"question {q.id} has no active answer; dropped", key=unit, kept=True)
                continue
            qa.append(QAPair(question=q.text, answer=answer, qtype=q.qtype, id=str(q.id)))
        if not qa:
            yield Skip(idx.files["questions"], f"image {img_id}: no question has an answer", key=unit)
            return
        h, w = pixels.shape[:2]
        keep = None if path.suffix.lower() in (".png", ".jpg") else pixels
        yield Sample(
            key=unit,
            images=[ImageRef(source=self.rel(path), width=w, height=h, source_size=(w, h), pixels=keep)],
            annotations=Annotations(qa=qa),
            meta=SampleMeta(dataset=self.name, split=split, version=self.version, gsd=self.gsd, license=self.license),
        )
