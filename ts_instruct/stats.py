"""Statistics of converted records: counts, answer and sequence token lengths against the training cutoff, classes.

One streaming pass (:func:`collect`) keeps only counters: records per (dataset, split, task), samples per
(dataset, split), a histogram of token counts per task (exact quantiles come from it), and class counts per dataset.

Token counts:

* With a tokenizer (``--tokenizer``: a local folder or Hub name ``transformers.AutoTokenizer`` can load, the one of
  the model to train), answers and prompts are counted exactly (``add_special_tokens=False``).
* Without one, :func:`estimate_tokens` estimates from Qwen2's pre-tokenizer split (the same for Qwen2-VL, Qwen2.5-VL
  and Qwen3-VL): every digit is one token, as in Qwen's vocabulary, so coordinate-heavy answers are counted nearly
  exactly; special tokens (``<|box_start|>``) are one token each; words count one token per 7 characters started,
  punctuation runs one per 2 characters, non-Latin words one per 2 characters. Prose comes out within about 20% of
  the real count; pass the tokenizer for exact numbers.

The sequence LLaMA-Factory trains on is the chat template around the turns plus the image tokens, and it is cut at
``cutoff_len`` (the answer loses its end first, which breaks a geometry answer), so each record's sequence is
estimated as ``template + image tokens + prompt + answer`` where

* image tokens = ``(W' / f) * (H' / f) + 2`` per image: ``(W', H')`` is the size the model sees
  (``style.target_size`` of the record's render style), ``f`` the style's ``factor`` (28 for Qwen2/2.5-VL, 32 for
  Qwen3-VL), plus the vision start and end tokens;
* template = 21 tokens for the default system prompt and the role markers of the first turn pair, 10 per further pair
  (Qwen's ChatML template); videos are not counted.

Records whose sequence exceeds the cutoff are counted per task: raise ``cutoff_len``, lower ``image_max_pixels`` or
``--max-objects``. The slim lines of a mixture (``terrasense mix``) carry no ``meta.render`` and count no image tokens:
run stats on the converted datasets for sequence lengths.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import regex

from ts_instruct.errors import ConfigError, TerraSenseError
from ts_instruct.record import IMAGE_PLACEHOLDER, VIDEO_PLACEHOLDER, Record
from ts_instruct.recordset import RecordRef, sample_runs

__all__ = [
    "DEFAULT_CUTOFF_LEN",
    "Stats",
    "collect",
    "estimate_tokens",
    "format_tables",
    "image_tokens",
    "load_token_counter",
    "quantile",
    "write_plots",
]

#: ``cutoff_len`` of the shipped training configs.
DEFAULT_CUTOFF_LEN = 16384

#: Chat-template tokens of the first user/assistant pair (system prompt included) and of each further pair.
TEMPLATE_FIRST_PAIR = 21
TEMPLATE_NEXT_PAIR = 10

# The pre-tokenizer split of every Qwen2-family tokenizer (transformers' tokenization_qwen2.py).
_QWEN2_SPLIT = regex.compile(
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
_SPECIAL = regex.compile(r"<\|[a-z_]+\|>")

TokenCounter = Callable[[str], int]


def estimate_tokens(text: str) -> int:
    """Estimated Qwen token count of ``text`` (see the module docstring for the rule and its accuracy).

    Example:
        >>> estimate_tokens("1234")  # one token per digit
        4
        >>> estimate_tokens("<|box_start|>(125,250)<|box_end|>")  # 2 special + "(" + 6 digits + "," + ")"
        11
    """
    parts = _SPECIAL.split(text)
    n = len(parts) - 1  # one token per special token between the parts
    for part in parts:
        for piece in _QWEN2_SPLIT.findall(part):
            core = piece.strip()
            if not core or core.isdigit():
                n += 1
            elif regex.fullmatch(r"[^\p{L}\p{N}]?\p{L}+", piece):
                n += math.ceil(len(piece) / (7 if piece.isascii() else 2))
            else:
                n += math.ceil(len(core) / 2)
    return n


def load_token_counter(name: str) -> TokenCounter:
    """A counter using the tokenizer at ``name`` (local folder or Hub name).

    Raises:
        ConfigError: the tokenizer cannot be loaded (the message says what to pass instead).
    """
    try:
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(name)
    except (OSError, ValueError, ImportError) as e:
        raise ConfigError(
            f"--tokenizer must be a folder or Hub name transformers can load, got {name!r} ({e}); "
            "omit it to use the documented estimate"
        ) from e

    def count(text: str) -> int:
        return len(tok(text, add_special_tokens=False)["input_ids"])

    return count


def image_tokens(rec: Record) -> int:
    """Image tokens of a record for its render style (0 when its style or image sizes are unknown)."""
    from ts_instruct.render import style_from_meta

    try:
        style = style_from_meta(rec.meta["render"])
    except (KeyError, TerraSenseError):
        return 0
    factor = int(rec.meta["render"].get("factor", 28))
    total = 0
    for m in rec.meta.get("images", []):
        try:
            w, h = style.target_size(int(m["width"]), int(m["height"]))
        except (KeyError, TerraSenseError):
            continue
        total += (w // factor) * (h // factor) + 2
    return total


def _labels(ann: dict[str, Any]) -> Iterable[str]:
    if ann.get("scene"):
        yield str(ann["scene"])
    for name in ("objects", "polygons", "refs"):
        for item in ann.get(name, []):
            if item.get("label"):
                yield str(item["label"])
    for c in ann.get("changes", []):
        if c.get("from_label") or c.get("to_label"):
            yield f"{c.get('from_label') or '?'}→{c.get('to_label') or '?'}"
        else:
            yield str(c.get("category") or "change")


@dataclass
class Stats:
    """Counters of one pass. Keys are tuples of strings; token histograms map a count to how many records had it."""

    records: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (dataset, split, task)
    samples: Counter[tuple[str, str]] = field(default_factory=Counter)  # (dataset, split)
    answer_tokens: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))  # task → histogram
    sequence_tokens: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    over_cutoff: Counter[tuple[str, str]] = field(default_factory=Counter)  # (dataset, task)
    classes: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))  # dataset → label counts
    cutoff_len: int = DEFAULT_CUTOFF_LEN
    tokenizer: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON form (``stats.json``), keys sorted."""

        def hist(h: Counter[int]) -> dict[str, Any]:
            return {
                "records": sum(h.values()),
                "min": min(h),
                "median": quantile(h, 0.5),
                "p95": quantile(h, 0.95),
                "max": max(h),
            }

        return {
            "tokenizer": self.tokenizer or "estimate",
            "cutoff_len": self.cutoff_len,
            "records": [[d, s, t, n] for (d, s, t), n in sorted(self.records.items())],
            "samples": [[d, s, n] for (d, s), n in sorted(self.samples.items())],
            "answer_tokens": {t: hist(h) for t, h in sorted(self.answer_tokens.items())},
            "sequence_tokens": {t: hist(h) for t, h in sorted(self.sequence_tokens.items())},
            "over_cutoff": [[d, t, n] for (d, t), n in sorted(self.over_cutoff.items())],
            "classes": {
                d: dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))) for d, c in sorted(self.classes.items())
            },
        }


def quantile(hist: Counter[int], q: float) -> int:
    """The smallest value ``v`` with at least a fraction ``q`` of the counts at or below it (0 for an empty one).

    Example:
        >>> quantile(Counter({1: 1, 2: 1, 10: 2}), 0.5), quantile(Counter({1: 1, 2: 1, 10: 2}), 0.95)
        (2, 10)
    """
    total = sum(hist.values())
    if not total:
        return 0
    seen = 0
    for value in sorted(hist):
        seen += hist[value]
        if seen >= q * total:
            return value
    return max(hist)


def collect(refs: Iterable[RecordRef], *, tokenizer: str | None = None, cutoff_len: int = DEFAULT_CUTOFF_LEN) -> Stats:
    """One pass over the records.

    Args:
        refs: the record stream (:func:`ts_instruct.recordset.iter_records`).
        tokenizer: tokenizer to count with; ``None`` uses :func:`estimate_tokens`.
        cutoff_len: LLaMA-Factory ``cutoff_len`` to compare sequence lengths against.

    Raises:
        ConfigError: ``cutoff_len`` is not positive, or the tokenizer cannot be loaded.
    """
    if cutoff_len < 1:
        raise ConfigError(f"cutoff_len must be a positive int, got {cutoff_len}")
    count = load_token_counter(tokenizer) if tokenizer else estimate_tokens
    stats = Stats(cutoff_len=cutoff_len, tokenizer=tokenizer)
    for first, ref in sample_runs(refs):
        rec = ref.record
        stats.records[(rec.dataset, ref.split, rec.task)] += 1
        if first:
            stats.samples[(rec.dataset, ref.split)] += 1
            stats.classes[rec.dataset].update(_labels(rec.annotations))
        answers = [m.content for m in rec.messages if m.role == "assistant"]
        prompts = [m.content.replace(IMAGE_PLACEHOLDER, "").replace(VIDEO_PLACEHOLDER, "") for m in rec.messages]
        answer = count(answers[-1]) if answers else 0
        pairs = max(len(answers), 1)
        text = sum(count(p) for p, m in zip(prompts, rec.messages, strict=True) if m.role != "assistant")
        text += sum(count(a) for a in answers)
        sequence = TEMPLATE_FIRST_PAIR + TEMPLATE_NEXT_PAIR * (pairs - 1) + image_tokens(rec) + text
        stats.answer_tokens[rec.task][answer] += 1
        stats.sequence_tokens[rec.task][sequence] += 1
        if sequence > cutoff_len:
            stats.over_cutoff[(rec.dataset, rec.task)] += 1
    return stats


def _table(header: list[str], rows: list[list[Any]]) -> str:
    cells = [header, *[[str(c) for c in r] for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    numeric = [all(isinstance(r[i], int | float) or r[i] == "" for r in rows) for i in range(len(header))]
    lines = []
    for r in cells:
        lines.append("  ".join(c.rjust(w) if num else c.ljust(w) for c, w, num in zip(r, widths, numeric, strict=True)))
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def format_tables(stats: Stats, *, top_classes: int = 10) -> str:
    """The terminal report: samples and records, token lengths against the cutoff, most frequent classes."""
    out = []
    tasks: dict[tuple[str, str], list[str]] = defaultdict(list)
    for (d, s, t), n in sorted(stats.records.items()):
        tasks[(d, s)].append(f"{t} {n}")
    rows = [
        [
            d,
            s,
            stats.samples[(d, s)],
            sum(n for (dd, ss, _), n in stats.records.items() if (dd, ss) == (d, s)),
            ", ".join(t),
        ]
        for (d, s), t in tasks.items()
    ]
    total = sum(stats.records.values())
    rows.append(["total", "", sum(stats.samples.values()), total, f"{len({t for _, _, t in stats.records})} tasks"])
    out += ["Samples and records", _table(["dataset", "split", "samples", "records", "records per task"], rows), ""]

    how = f"counted with {stats.tokenizer}" if stats.tokenizer else "estimated: pass --tokenizer for exact counts"
    over: Counter[str] = Counter()
    for (_, t), n in stats.over_cutoff.items():
        over[t] += n
    rows = []
    for t in sorted(stats.answer_tokens):
        a, q = stats.answer_tokens[t], stats.sequence_tokens[t]
        rows.append(
            [t, sum(a.values()), quantile(a, 0.5), quantile(a, 0.95), max(a), quantile(q, 0.95), max(q), over[t]]
        )
    header = [
        "task",
        "records",
        "answer p50",
        "answer p95",
        "answer max",
        "seq p95",
        "seq max",
        f"> {stats.cutoff_len}",
    ]
    out += [f"Tokens per record ({how}), against cutoff_len {stats.cutoff_len}", _table(header, rows), ""]

    rows = []
    for d in sorted(stats.classes):
        c = stats.classes[d]
        n = sum(c.values())
        for label, k in sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[:top_classes]:
            rows.append([d, label, k, f"{100 * k / n:.1f}%"])
        if len(c) > top_classes:
            rows.append([d, f"... {len(c) - top_classes} more", "", ""])
    out += [
        f"Classes (instances, once per sample; top {top_classes} per dataset)",
        _table(["dataset", "class", "count", "share"], rows),
    ]
    return "\n".join(out) + "\n"


def write_plots(stats: Stats, out: Path, *, top_classes: int = 15) -> list[Path]:
    """Write ``records.png``, ``tokens.png`` and ``classes.png`` (and ``stats.json``) into ``out``.

    Returns:
        The PNG paths written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    (out / "stats.json").write_text(json.dumps(stats.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    meta = {"Software": None}  # no version string in the file: same stats, same bytes
    written = []

    datasets = sorted({d for d, _, _ in stats.records})
    splits = sorted({s for _, s, _ in stats.records})
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(datasets) + 1.5))
    left = [0] * len(datasets)
    for s in splits:
        values = [sum(n for (dd, ss, _), n in stats.records.items() if dd == d and ss == s) for d in datasets]
        ax.barh(datasets, values, left=left, label=s)
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.set_xlabel("records")
    ax.set_title("Records per dataset and split")
    ax.invert_yaxis()
    ax.legend(loc="lower right")
    fig.tight_layout()
    written.append(out / "records.png")
    fig.savefig(written[-1], dpi=100, metadata=meta)
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, hists, name in ((axes[0], stats.answer_tokens, "answer"), (axes[1], stats.sequence_tokens, "sequence")):
        top = max((max(h) for h in hists.values()), default=1)
        bins = [0, *sorted({round(1.25**k) for k in range(math.ceil(math.log(max(top, 2), 1.25)) + 2)})]
        for task in sorted(hists):
            h = hists[task]
            ax.hist(list(h), bins=bins, weights=list(h.values()), histtype="step", label=task)
        ax.axvline(stats.cutoff_len, color="red", linestyle="--", label=f"cutoff_len {stats.cutoff_len}")
        ax.set_xscale("symlog")
        ax.set_xlabel(f"{name} tokens" + ("" if stats.tokenizer else " (estimate)"))
        ax.set_ylabel("records")
    axes[1].legend(fontsize=7, loc="upper left")
    fig.suptitle("Token lengths against the training cutoff")
    fig.tight_layout()
    written.append(out / "tokens.png")
    fig.savefig(written[-1], dpi=100, metadata=meta)
    plt.close(fig)

    with_classes = [d for d in sorted(stats.classes) if stats.classes[d]]
    cols = min(3, max(1, len(with_classes)))
    rows_n = max(1, math.ceil(len(with_classes) / cols))
    fig, axes_grid = plt.subplots(rows_n, cols, figsize=(5 * cols, 0.25 * top_classes * rows_n + 1.5), squeeze=False)
    for k, ax in enumerate(axes_grid.flat):
        if k >= len(with_classes):
            ax.axis("off")
            continue
        d = with_classes[k]
        items = sorted(stats.classes[d].items(), key=lambda kv: (-kv[1], kv[0]))[:top_classes]
        ax.barh([label for label, _ in items], [n for _, n in items])
        ax.invert_yaxis()
        ax.set_title(d, fontsize=9)
        ax.tick_params(labelsize=7)
    fig.suptitle("Class frequencies (instances)")
    fig.tight_layout()
    written.append(out / "classes.png")
    fig.savefig(written[-1], dpi=100, metadata=meta)
    plt.close(fig)
    return written
