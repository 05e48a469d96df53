"""The TS-Instruct record: one JSON line, loadable by LLaMA-Factory's ``sharegpt`` formatting as it is.

Format (one object per line of ``<out>/<dataset>/<split>-NNNNN.jsonl``; keys in this order)::

    {"id": "nwpu_resisc45/train/airplane_001/scene_open",
     "dataset": "nwpu_resisc45", "task": "scene_open",
     "messages": [{"role": "user", "content": "<image>What scene is this?"},
                  {"role": "assistant", "content": "airplane"}],
     "images": ["images/train/airplane_001.jpg"],
     "annotations": {...},   # canonical ground truth, see ts_instruct.sample.Annotations
     "meta": {...}}          # sample meta + "images" provenance + "render" (style and its parameters)

Rules (checked by :mod:`ts_instruct.validate`):

* ``messages`` alternate user/assistant, start with user (an optional leading ``system`` turn is allowed) and end
  with assistant, as LLaMA-Factory's sharegpt converter requires.
* The number of ``<image>`` placeholders over all turns equals ``len(images)``; for a before/after pair both
  placeholders sit in the first user turn, earlier image first. ``<video>`` likewise matches ``videos``.
* ``images`` are POSIX paths relative to the dataset output directory (the mixer rewrites them relative to the
  mixture's ``dataset_dir``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from ts_instruct.errors import RecordValidationError

IMAGE_PLACEHOLDER = "<image>"
VIDEO_PLACEHOLDER = "<video>"

Role = Literal["system", "user", "assistant"]


@dataclass
class Message:
    """One turn of a conversation."""

    role: Role
    content: str

    def to_dict(self) -> dict[str, str]:
        """Return ``{"role": ..., "content": ...}``."""
        return {"role": self.role, "content": self.content}


#: stands in for the annotations while the rest of a record is encoded (private-use code points, see to_json)
_SLOT = "\ue000annotations\ue001"
_SLOT_JSON = json.dumps(_SLOT, ensure_ascii=False)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


@dataclass
class Record:
    """One TS-Instruct record (see the module docstring for the on-disk form)."""

    id: str
    dataset: str
    task: str
    messages: list[Message]
    images: list[str]
    annotations: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    videos: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Serialise to plain JSON types, keys in the documented order (``videos`` only when present)."""
        out: dict[str, Any] = {
            "id": self.id,
            "dataset": self.dataset,
            "task": self.task,
            "messages": [m.to_dict() for m in self.messages],
            "images": list(self.images),
        }
        if self.videos:
            out["videos"] = list(self.videos)
        out["annotations"] = self.annotations
        out["meta"] = self.meta
        return out

    def to_json(self, shared: dict[int, tuple[Any, str]] | None = None) -> str:
        """One line of JSON, UTF-8 text kept readable (no ASCII escaping), no trailing newline.

        Args:
            shared: a cache the caller keeps across the records of one sample: an ``annotations`` dict they share is
                encoded once and its text reused (the sample's ground truth is often most of a record's bytes).
                The output is the same with or without it.

        >>> r = Record("d/train/k/t", "d", "t", [Message("user", "<image>Hi"), Message("assistant", "ok")], ["a.png"])
        >>> Record.from_json(r.to_json()) == r
        True
        """
        if shared is None or not self.annotations:
            return _dumps(self.to_dict())
        hit = shared.get(id(self.annotations))
        if hit is None or hit[0] is not self.annotations:  # the object is kept in the cache: its id cannot be reused
            hit = shared[id(self.annotations)] = (self.annotations, _dumps(self.annotations))
        d = self.to_dict()
        d["annotations"] = _SLOT
        text = _dumps(d)
        if text.count(_SLOT_JSON) != 1:  # the marker also occurs in the record's own text: no shortcut
            return _dumps(self.to_dict())
        return text.replace(_SLOT_JSON, hit[1])

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Record:
        """Build from a parsed JSON object; raises :class:`RecordValidationError` naming the missing key."""
        try:
            return cls(
                id=str(d["id"]),
                dataset=str(d["dataset"]),
                task=str(d["task"]),
                messages=[Message(role=m["role"], content=m["content"]) for m in d["messages"]],
                images=list(d.get("images", [])),
                annotations=dict(d.get("annotations", {})),
                meta=dict(d.get("meta", {})),
                videos=list(d.get("videos", [])),
            )
        except (KeyError, TypeError) as e:
            raise RecordValidationError(f"record is missing or has a malformed key: {e}") from e

    @classmethod
    def from_json(cls, line: str) -> Record:
        """Parse one JSON line."""
        try:
            data = json.loads(line)
        except json.JSONDecodeError as e:
            raise RecordValidationError(f"not valid JSON: {e}") from e
        if not isinstance(data, dict):
            raise RecordValidationError(f"a record must be a JSON object, got {type(data).__name__}")
        return cls.from_dict(data)

    @property
    def prompt(self) -> str:
        """The first user turn's text."""
        return next(m.content for m in self.messages if m.role == "user")

    @property
    def answer(self) -> str:
        """The last assistant turn's text."""
        return [m.content for m in self.messages if m.role == "assistant"][-1]
