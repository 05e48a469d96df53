"""CapERA: captions of aerial event videos (and the event class of each video)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar

from data_converters.base import Converter, safe_key
from data_converters.families.caption import normalise_caption, unique_captions
from data_converters.families.classification import normalise_class, stable_split
from ts_instruct.errors import ConfigError, DatasetNotFoundError, InvalidAnnotationError, InvalidImageError
from ts_instruct.sample import Annotations, ImageRef, Sample, SampleMeta, Skip
from ts_instruct.video import probe_video, read_keyframes

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm")
_TRAILING_NUMBER = re.compile(r"^(.*?)[_\- ]*(\d+)$")


def _squash(text: str) -> str:
    """Lower case, letters and digits only: ``"Traffic-Collision"`` → ``"trafficcollision"``."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def event_of(video_id: str) -> str:
    """The event prefix of a video id: its stem without the trailing number.

    >>> event_of("Baseball_001.mp4"), event_of("TrafficCollision_12"), event_of("post-earthquake_007.mp4")
    ('Baseball', 'TrafficCollision', 'post-earthquake')
    """
    stem = PurePosixPath(video_id).stem if PurePosixPath(video_id).suffix.lower() in VIDEO_EXTENSIONS else video_id
    m = _TRAILING_NUMBER.match(stem)
    return m.group(1) if m and m.group(1) else stem


@dataclass(frozen=True)
class VideoEntry:
    """One readable caption entry: the video it names, its captions, where it was read."""

    video_id: str
    file: str
    position: int
    captions: tuple[str, ...]
    dropped: tuple[int, ...]


@dataclass
class CapERAIndex:
    """Caption entries per split (video id → entry), unreadable entries, and every video file by name."""

    entries: dict[str, dict[str, list[VideoEntry]]]
    bad: dict[str, dict[str, tuple[str, str]]]
    videos: dict[str, list[str]]


class CapERA(Converter):
    """CapERA: Captioning Events in Aerial Videos (captions for the ERA event-recognition videos).

    Homepage: https://doi.org/10.3390/rs15082139 (videos: https://lcmou.github.io/ERA_Dataset/)

    Dataset features:
        * 2,864 UAV videos from YouTube, 5 s each at 24 fps, 640x640 pixels, in 25 event classes
        * 5 English captions per video (one written by hand, four derived from it)

    Dataset format:
        * caption json files (third-party code reads this grammar; file names UNCONFIRMED)::

            {"ERA_caption": [{"video_id": "Baseball_001.mp4",
                              "annotation": {"English_caption": ["cap1", "cap2", "cap3", "cap4", "cap5"]}}, ...]}

          every ``*.json`` under the root (two levels deep) whose top-level key is ``ERA_caption`` is read; its split
          comes from its name (``train``, ``test``, ``val``/``valid``); a file naming no split is divided by a seeded
          hash of the video id (50/50 train/test, close to ERA's 1,473/1,391)
        * videos are found by file name anywhere under the root (per-class folders ``<Event>/<id>.mp4`` in the
          third-party layout; ``video_id`` with or without extension); when two files share a name, the one in the
          event's folder wins
        * the event is the video id without its trailing number (``Baseball_001`` → ``Baseball``; the same as the
          prefix before the first ``_`` when the event has no ``_``), matched to :attr:`classes` ignoring case and
          separators; an unknown event is kept as written and reported
        * records are LLaMA-Factory video records (``videos`` column, ``<video>`` placeholder; the video is copied to
          ``videos/<split>/``); option ``modality="frames"`` emits ``frames`` evenly spaced key frames as images
          instead (PNG, in time order; ``meta.extra["keyframes"]`` says which)

    On disk (UNCONFIRMED layout; any placement of the videos under the root is read)::

        <root>/
          CapERA_train.json  CapERA_test.json
          videos/
            Baseball/Baseball_001.mp4 ...
            ...

    Classes (0-based index = position in :attr:`classes`; ERA's 25 events): 0 post_earthquake, 1 flood, 2 fire,
    3 landslide, 4 mudslide, 5 traffic_collision, 6 traffic_congestion, 7 harvesting, 8 ploughing, 9 constructing,
    10 police_chase, 11 conflict, 12 baseball, 13 basketball, 14 boating, 15 cycling, 16 running, 17 soccer,
    18 swimming, 19 car_racing, 20 party, 21 concert, 22 parade_protest, 23 religious_activity, 24 non_event.
    Spellings in the data are UNCONFIRMED; ``parade``/``protest`` → parade_protest, ``plowing`` → ploughing,
    ``earthquake`` → post_earthquake, ``noevent``/``normal`` → non_event.

    Splits:
        From the caption files' names; CapERA follows ERA's split (about 1,473 train / 1,391 test, UNCONFIRMED).

    License:
        Research use; cite both papers (UNCONFIRMED terms; the videos come from YouTube).

    Citation:
        L. Bashmal, Y. Bazi, M. M. Al Rahhal, M. Zuair, F. Melgani, "CapERA: Captioning Events in Aerial Videos",
        Remote Sensing 15(8), 2139, 2023. https://doi.org/10.3390/rs15082139 ; L. Mou, Y. Hua, P. Jin, X. X. Zhu,
        "ERA: A Data Set and Deep Learning Benchmark for Event Recognition in Aerial Videos", IEEE GRSM 8(4), 2020.
    """

    name = "capera"
    title = "CapERA"
    family = "video"
    splits = ("train", "val", "test")
    homepage = "https://doi.org/10.3390/rs15082139"
    license = "research use; cite Bashmal et al. 2023 and Mou et al. 2020 (terms UNCONFIRMED; videos from YouTube)"
    layout = "*train*.json / *test*.json ({'ERA_caption': [...]}) + <Event>/<Event>_<nnn>.mp4 anywhere under root"
    default_tasks = ("caption", "scene_open", "scene_choice")
    option_defaults: ClassVar[dict[str, Any]] = {"modality": "video", "frames": 4}
    classes = (
        "post_earthquake", "flood", "fire", "landslide", "mudslide", "traffic_collision", "traffic_congestion",
        "harvesting", "ploughing", "constructing", "police_chase", "conflict", "baseball", "basketball", "boating",
        "cycling", "running", "soccer", "swimming", "car_racing", "party", "concert", "parade_protest",
        "religious_activity", "non_event",
    )  # fmt: skip
    event_aliases: ClassVar[dict[str, str]] = {
        "parade": "parade_protest", "protest": "parade_protest", "plowing": "ploughing",
        "earthquake": "post_earthquake", "noevent": "non_event", "normal": "non_event",
    }  # fmt: skip
    _index: CapERAIndex | None = None

    def __init__(self, root: str | Path, *, version: str | None = None, **options: Any) -> None:
        super().__init__(root, version=version, **options)
        if self.options["modality"] not in ("video", "frames"):
            raise ConfigError(f"capera: modality must be 'video' or 'frames', got {self.options['modality']!r}")
        frames = self.options["frames"]
        if isinstance(frames, bool) or not isinstance(frames, int) or frames < 1:
            raise ConfigError(f"capera: frames must be an integer >= 1, got {frames!r}")

    # -- index --------------------------------------------------------------------------------------------------
    def event_class(self, event: str) -> str | None:
        """Canonical class of an event prefix, or ``None`` when it is not one of the 25."""
        key = _squash(event)
        by_key = {_squash(c): c for c in self.classes}
        return by_key.get(key) or self.event_aliases.get(key)

    def index(self) -> CapERAIndex:
        """Read every caption json and list every video file (once per converter).

        Raises:
            DatasetNotFoundError: no caption json (``{"ERA_caption": [...]}``) under the root.
            InvalidAnnotationError: a json file under the root is not valid JSON (names file and line).
        """
        if self._index is not None:
            return self._index
        expected = "a caption json ('*.json' with an 'ERA_caption' list) and the videos"
        if not self.root.is_dir():
            raise DatasetNotFoundError(self.name, self.root, expected)
        idx = CapERAIndex(entries={s: {} for s in self.splits}, bad={s: {} for s in self.splits}, videos={})
        found = False
        for path in sorted([*self.root.glob("*.json"), *self.root.glob("*/*.json")]):
            items = self._caption_list(path)
            if items is None:
                continue
            found = True
            file_split = self._split_of_file(path)
            where = self.rel(path)
            for pos, item in enumerate(items):
                self._add(idx, where, pos, item, file_split)
        if not found:
            raise DatasetNotFoundError(self.name, self.root, expected)
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames.sort()
            for f in sorted(filenames):
                if Path(f).suffix.lower() in VIDEO_EXTENSIONS:
                    idx.videos.setdefault(f, []).append(self.rel(Path(dirpath) / f))
        self._index = idx
        return idx

    def _caption_list(self, path: Path) -> list[Any] | None:
        where = self.rel(path)
        try:
            data = self.load_json(path)
        except InvalidAnnotationError as e:
            if e.reason.startswith("not UTF-8"):  # a candidate file that is not a caption list at all
                return None
            raise
        if not isinstance(data, dict) or "ERA_caption" not in data:
            return None
        if not isinstance(data["ERA_caption"], list):
            raise InvalidAnnotationError(where, "'ERA_caption' must be a list of entries", field="ERA_caption")
        return data["ERA_caption"]

    @staticmethod
    def _split_of_file(path: Path) -> str | None:
        tokens = set(re.split(r"[^a-z]+", path.stem.lower()))
        for split, names in (
            ("train", {"train", "training"}),
            ("val", {"val", "valid", "validation"}),
            ("test", {"test", "testing"}),
        ):
            if tokens & names:
                return split
        return None

    def _add(self, idx: CapERAIndex, where: str, pos: int, item: Any, file_split: str | None) -> None:
        vid = item.get("video_id") if isinstance(item, dict) else None
        unit = f"#{where}[{pos}]"
        if not isinstance(vid, str) or not vid.strip():
            idx.bad[file_split or "train"][unit] = (
                where,
                f"ERA_caption[{pos}].video_id must be a non-empty string, got {vid!r}",
            )
            return
        vid = vid.strip()
        split = file_split or stable_split(vid, {"train": 0.5, "test": 0.5}, salt="terrasense-capera-v1")
        ann = item.get("annotation")
        caps = ann.get("English_caption") if isinstance(ann, dict) else None
        if isinstance(caps, str):
            caps = [caps]
        if not isinstance(caps, list):
            idx.bad[split][unit] = (
                where,
                f"ERA_caption[{pos}].annotation.English_caption must be a list of strings, got {type(caps).__name__}",
            )
            return
        texts = [normalise_caption(c) if isinstance(c, str) else "" for c in caps]
        dropped = tuple(j for j, t in enumerate(texts) if not t)
        entry = VideoEntry(vid, where, pos, tuple(unique_captions([t for t in texts if t])), dropped)
        idx.entries[split].setdefault(vid, []).append(entry)

    def _find_video(self, idx: CapERAIndex, video_id: str, event: str) -> str | None:
        name = PurePosixPath(video_id).name
        candidates = list(idx.videos.get(name, []))
        if not candidates and PurePosixPath(name).suffix.lower() not in VIDEO_EXTENSIONS:
            candidates = [p for ext in VIDEO_EXTENSIONS for p in idx.videos.get(name + ext, [])]
        if not candidates:
            return None
        same_event = [p for p in candidates if _squash(PurePosixPath(p).parent.name) == _squash(event)]
        return (same_event or candidates)[0]

    # -- converter contract -------------------------------------------------------------------------------------
    def units(self, split: str) -> Sequence[str]:
        """The split's video ids (sorted), then one ``#<json>[<i>]`` unit per unreadable entry."""
        self.check_split(split)
        idx = self.index()
        return sorted(idx.entries[split]) + list(idx.bad[split])

    def read(self, split: str, unit: str) -> Iterator[Sample | Skip]:
        """One video → one sample: the video (or its key frames), its captions and its event class."""
        idx = self.index()
        if unit in idx.bad[split]:
            file, reason = idx.bad[split][unit]
            yield Skip(file, reason)
            return
        entries = idx.entries[split][unit]
        entry = entries[0]
        key = safe_key(PurePosixPath(unit).stem if PurePosixPath(unit).suffix.lower() in VIDEO_EXTENSIONS else unit)
        for dup in entries[1:]:
            yield Skip(
                dup.file,
                f"ERA_caption[{dup.position}] repeats video {unit!r}; the first entry is used",
                key=key,
                kept=True,
            )
        for j in entry.dropped:
            yield Skip(
                entry.file,
                f"ERA_caption[{entry.position}] caption {j} of {unit!r} is empty; dropped",
                key=key,
                kept=True,
            )
        if not entry.captions:
            yield Skip(entry.file, f"ERA_caption[{entry.position}] ({unit!r}) has no caption left", key=key)
            return
        event = event_of(unit)
        scene = self.event_class(event)
        if scene is None:
            yield Skip(
                entry.file,
                f"event {event!r} of {unit!r} is not one of the {len(self.classes)} ERA classes; "
                "kept under its own name",
                key=key,
                kept=True,
            )
            scene = normalise_class(event)
        rel = self._find_video(idx, unit, event)
        if rel is None:
            yield Skip(entry.file, f"video {unit!r} (ERA_caption[{entry.position}]) is not under the root", key=key)
            return
        try:
            info = probe_video(self.root / rel)
            frames = (
                read_keyframes(self.root / rel, self.options["frames"])
                if self.options["modality"] == "frames"
                else None
            )
        except InvalidImageError as e:
            yield Skip(rel, e.reason, key=key)
            return
        meta_extra: dict[str, Any] = {
            "fps": round(info.fps, 3),
            "frames": info.frames,
            "duration_s": round(info.duration, 3),
            "video_source": rel,
        }
        images: list[ImageRef] = []
        videos: list[str] = []
        if frames is None:
            videos = [rel]
        else:
            indices, pixels = frames
            meta_extra["keyframes"] = {"video": rel, "frames": indices}
            images = [
                ImageRef(
                    source=rel, width=p.shape[1], height=p.shape[0], source_size=(info.width, info.height), pixels=p
                )
                for p in pixels
            ]
        yield Sample(
            key=key,
            images=images,
            videos=videos,
            annotations=Annotations(
                captions=list(entry.captions),
                scene=scene,
                classes=list(self.classes),
                extra={"event": event, "video_id": unit},
            ),
            meta=SampleMeta(
                dataset=self.name, split=split, version=self.version, license=self.license, extra=meta_extra
            ),
        )
