"""A forgiving reader for the JSON that language models write.

Model answers bend JSON in a few usual ways: prose around it, a missing or unclosed code fence, single quotes,
trailing or missing commas, unquoted keys, Python literals (``None``, ``True``), and answers cut off by the token
limit. :func:`scan_json` finds every JSON array or object in a text and reads it with these slips allowed.

A value that is cut off by the end of the text (or by a closing code fence) is returned as far as it got: the
unfinished containers are :class:`PartialList` / :class:`PartialDict` (a scalar cut mid-way is dropped), so a caller
can keep the complete objects of a truncated list. A structural error (a stray ``)``, a ``}`` closing a ``[``) makes
the whole candidate fail; :func:`scan_json` then moves on to the next bracket, which recovers the well-formed
objects inside a broken list one by one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["JsonFailure", "JsonFragment", "PartialDict", "PartialList", "scan_json"]

_BUDGET_PER_CHAR = 8  # answers rarely hold more than a few stray brackets; this caps pathological input at O(n)
_BUDGET_BASE = 20_000
MAX_DEPTH = 64  # deeper nesting is rejected: no answer needs it, and recursion must stay bounded on any input

_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_INT = re.compile(r"[-+]?\d{1,18}")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")
_WS = re.compile(r"\s*")
_OPEN = re.compile(r"[\[{]")
_FENCE = "```"
_QUOTES = {'"': '"', "'": "'", "\u201c": "\u201d", "\u2018": "\u2019"}
_LITERALS: dict[str, Any] = {"true": True, "false": False, "null": None, "True": True, "False": False, "None": None}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "/": "/", "\\": "\\", '"': '"', "'": "'"}


class PartialList(list[Any]):
    """A list cut off before its closing bracket; holds the elements read so far."""


class PartialDict(dict[str, Any]):
    """An object cut off before its closing brace; holds the members read so far."""


@dataclass
class JsonFragment:
    """One JSON value found in a text.

    Attributes:
        start: offset of its opening bracket.
        end: offset just past the last character read.
        value: the value (lists, dicts, str, int, float, bool, None); partial containers when truncated.
        truncated: True when the text (or a code fence) ended before the value was closed.
    """

    start: int
    end: int
    value: Any
    truncated: bool


@dataclass
class JsonFailure:
    """A bracket that opened something unreadable: where it started, where reading stopped, and why."""

    start: int
    stop: int
    reason: str


@dataclass
class _Scan:
    fragments: list[JsonFragment] = field(default_factory=list)
    failures: list[JsonFailure] = field(default_factory=list)


class _Fail(Exception):
    """Internal: the candidate is not readable (never escapes this module)."""

    def __init__(self, pos: int, reason: str, *, deep: bool = False) -> None:
        super().__init__(reason)
        self.pos = pos
        self.reason = reason
        self.deep = deep


_MISSING = object()


class _Reader:
    """Recursive-descent reader over ``text[pos:end]``; ``read_value`` returns ``(value, complete)``."""

    def __init__(self, text: str, pos: int, end: int) -> None:
        self.text = text
        self.pos = pos
        self.end = end

    def _skip_ws(self) -> None:
        m = _WS.match(self.text, self.pos, self.end)
        if m:
            self.pos = m.end()
        if self.text.startswith(_FENCE, self.pos, self.end):  # a code fence outside strings ends the value
            self.end = self.pos

    def read_value(self, depth: int) -> tuple[Any, bool]:
        self._skip_ws()
        if self.pos >= self.end:
            return _MISSING, False
        c = self.text[self.pos]
        if c == "[" or c == "{":
            if depth >= MAX_DEPTH:
                raise _Fail(self.pos, f"nesting deeper than {MAX_DEPTH}", deep=True)
            return self._read_list(depth + 1) if c == "[" else self._read_dict(depth + 1)
        if c in _QUOTES:
            return self._read_string()
        m = _NUMBER.match(self.text, self.pos, self.end)
        if m:
            return self._token(m, _number(m.group()))
        m = _IDENT.match(self.text, self.pos, self.end)
        if m:
            return self._token(m, _LITERALS.get(m.group(), m.group()))
        raise _Fail(self.pos, f"unexpected {c!r}")

    def _token(self, m: re.Match[str], value: Any) -> tuple[Any, bool]:
        self.pos = m.end()
        # a number or word that touches the end may have been cut ("12" of "123"): not complete
        return (value, True) if self.pos < self.end else (_MISSING, False)

    def _read_list(self, depth: int) -> tuple[Any, bool]:
        self.pos += 1
        items: list[Any] = []
        while True:
            self._skip_ws()
            if self.pos >= self.end:
                return PartialList(items), False
            c = self.text[self.pos]
            if c == "]":
                self.pos += 1
                return items, True
            if c == ",":  # leading, doubled and trailing commas are all tolerated
                self.pos += 1
                continue
            value, complete = self.read_value(depth)
            if not complete:
                if isinstance(value, (list, dict)):
                    items.append(value)
                return PartialList(items), False
            items.append(value)

    def _read_dict(self, depth: int) -> tuple[Any, bool]:
        self.pos += 1
        members: dict[str, Any] = {}
        while True:
            self._skip_ws()
            if self.pos >= self.end:
                return PartialDict(members), False
            c = self.text[self.pos]
            if c == "}":
                self.pos += 1
                return members, True
            if c == ",":
                self.pos += 1
                continue
            if c in "[{":
                raise _Fail(self.pos, "an object key must be a string")
            key, complete = self.read_value(depth)
            if not complete:
                return PartialDict(members), False
            self._skip_ws()
            if self.pos >= self.end:
                return PartialDict(members), False
            if self.text[self.pos] not in ":=":
                raise _Fail(self.pos, f"expected ':' after key {key!r}")
            self.pos += 1
            value, complete = self.read_value(depth)
            if not complete:
                if isinstance(value, (list, dict)):
                    members[str(key)] = value
                return PartialDict(members), False
            members[str(key)] = value

    def _read_string(self) -> tuple[Any, bool]:
        close = _QUOTES[self.text[self.pos]]
        self.pos += 1
        out: list[str] = []
        text, end = self.text, self.end
        while self.pos < end:
            c = text[self.pos]
            if c == close:
                self.pos += 1
                return "".join(out), True
            if c == "\n":  # JSON strings hold no raw newline: this quote was an apostrophe in prose
                raise _Fail(self.pos, "unterminated string")
            if c == "\\" and self.pos + 1 < end:
                nxt = text[self.pos + 1]
                if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", text[self.pos + 2 : self.pos + 6]):
                    out.append(chr(int(text[self.pos + 2 : self.pos + 6], 16)))
                    self.pos += 6
                    continue
                out.append(_ESCAPES.get(nxt, nxt))
                self.pos += 2
                continue
            out.append(c)
            self.pos += 1
        return _MISSING, False


def _number(token: str) -> int | float:
    # ints stay ints (labels like 3 read back as "3"); long digit runs go through float, which never raises
    return int(token) if _INT.fullmatch(token) else float(token)


def scan_json(
    text: str, accept: Callable[[JsonFragment], bool] | None = None
) -> tuple[list[JsonFragment], list[JsonFailure]]:
    r"""Find and read every top-level JSON array or object in ``text``.

    A code fence (three backticks outside a string) ends any value still open, so a truncated block followed by a
    closing fence reads as truncated instead of failing on the backticks. Reading effort is bounded (about
    ``8 * len(text)`` characters in all), so the scan stays fast on any input.

    Args:
        text: any string.
        accept: called on each readable value; when it returns False the value is not kept and the scan goes on
            from just after its opening bracket (so ``[see {...}]`` in prose still finds the object). Default:
            keep everything.

    Returns:
        ``(fragments, failures)`` in text order. Fragments never overlap.

    Example:
        >>> frags, fails = scan_json("Sure: ```json\n[{'bbox_2d': [1, 2, 3, 4], label: 'a',}, {\"bbox_2d\": [5")
        >>> frags[0].value, frags[0].truncated, fails  # the cut object keeps only its cut-off (empty) list
        ([{'bbox_2d': [1, 2, 3, 4], 'label': 'a'}, {'bbox_2d': []}], True, [])
    """
    scan = _Scan()
    pos = 0
    n = len(text)
    budget = _BUDGET_PER_CHAR * n + _BUDGET_BASE  # characters that rejected or failed candidates may re-read
    while pos < n:
        m = _OPEN.search(text, pos)
        if m is None:
            break
        start = m.start()
        if budget <= 0:
            scan.failures.append(JsonFailure(start, n, "too many unreadable brackets; stopped looking for JSON"))
            break
        reader = _Reader(text, start, n)
        try:
            value, complete = reader.read_value(0)
        except _Fail as f:
            scan.failures.append(JsonFailure(start, f.pos, f.reason))
            budget -= f.pos - start + 1
            # brackets opened before a too-deep one fail the same way: go straight to it
            pos = f.pos if f.deep else start + 1
            continue
        fragment = JsonFragment(start, reader.pos, value, truncated=not complete)
        if accept is not None and not accept(fragment):
            budget -= reader.pos - start + 1
            pos = start + 1
            continue
        scan.fragments.append(fragment)
        pos = max(reader.pos, start + 1)
    return scan.fragments, scan.failures
