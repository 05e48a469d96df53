"""The dataset card (``README.md``) of a Hugging Face export, in the sections of the Hub's dataset card template.

The YAML header names the Parquet files of each split (``configs``), so ``datasets.load_dataset(DIR)`` and the Hub
map them to splits without a loading script. The body states the structure, fields and splits, the render style
with an example answer, and every source dataset with its homepage, licence and citation, taken from its converter
(the ``License:`` and ``Citation:`` sections of the converter's docstring, or its ``license`` attribute).
"""

from __future__ import annotations

import inspect
import json
from typing import TYPE_CHECKING, Any

import yaml

from ts_instruct.mix import SHAREGPT_TAGS

if TYPE_CHECKING:
    from ts_instruct.export_hf import ExportSummary

__all__ = ["dataset_card", "docstring_section", "source_info"]

#: Hub task categories implied by task names (a task name containing the key adds the category).
TASK_CATEGORIES: dict[str, str] = {
    "detect": "object-detection",
    "ground": "object-detection",
    "seg": "image-segmentation",
    "change": "image-segmentation",
    "caption": "image-to-text",
    "vqa": "visual-question-answering",
    "scene": "image-classification",
}

_FIELDS = [
    ("id", "string", "record id `<dataset>/<split>/<key>/<task>`"),
    ("dataset", "string", "source dataset (see Source data)"),
    ("task", "string", "task the conversation trains"),
    ("messages", "list of {role, content}", "the conversation; each `<image>` stands for one entry of `images`"),
    ("images", "list of Image", "the images, embedded; a before/after pair is in time order"),
    ("masks", "list of Image", "label masks listed in `annotations.masks`, in that order (segmentation, change)"),
    ("videos", "list of {bytes, path}", "video files, embedded (video datasets only)"),
    ("annotations", "string (JSON)", "ground truth in pixels of the image: objects, polygons, changes, QA, ..."),
    ("meta", "string (JSON)", "provenance (source file, tile window), render style, structured target"),
]


def docstring_section(doc: str | None, title: str) -> str | None:
    r"""The text of a Google-style section (``Citation:``) of a docstring, its lines joined, or ``None``.

    Example:
        >>> docstring_section("T.\n\nLicense:\n    CC0\n\nCitation:\n    A. B, 2020.\n    doi:1", "Citation")
        'A. B, 2020. doi:1'
    """
    if not doc:
        return None
    lines = inspect.cleandoc(doc).splitlines()
    for i, line in enumerate(lines):
        if line.strip() == f"{title}:":
            body = []
            for nxt in lines[i + 1 :]:
                if nxt and not nxt.startswith((" ", "\t")):
                    break
                body.append(nxt.strip())
            text = " ".join(b for b in body if b)
            return text or None
    return None


def source_info(name: str, license_fallback: str | None = None) -> dict[str, Any]:
    """Title, homepage, licence and citation of a source dataset, from its converter when one is registered."""
    info: dict[str, Any] = {"name": name, "title": name, "homepage": "", "license": license_fallback, "citation": None}
    try:
        from data_converters import get_converter

        cls = get_converter(name)
    except Exception:  # an unknown dataset (records from elsewhere): keep what the records say
        return info
    doc = inspect.getdoc(cls)
    info.update(
        title=cls.title or name,
        homepage=cls.homepage,
        license=docstring_section(doc, "License") or cls.license or license_fallback,
        citation=getattr(cls, "citation", None) or docstring_section(doc, "Citation"),
    )
    return info


def _size_category(n: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return label
    return "1M<n<10M" if n < 10_000_000 else "n>10M"


def _md_table(header: list[str], rows: list[list[Any]]) -> str:
    def cell(v: Any) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


def _fence(text: str) -> str:
    """A Markdown code block around ``text`` with a fence longer than any backtick run inside it."""
    longest = run = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}text\n{text}\n{ticks}"


def dataset_card(summary: ExportSummary, name: str) -> str:
    """The card's Markdown, YAML header first."""
    splits = summary.splits
    datasets = sorted({d for _, d in summary.records})
    total = sum(summary.records.values())
    tasks = sorted({t for _, t in summary.tasks})
    categories = sorted({"image-text-to-text", *(c for k, c in TASK_CATEGORIES.items() for t in tasks if k in t)})
    header = {
        "pretty_name": name,
        "license": "other",
        "license_name": "mixed",
        "language": ["en"],
        "task_categories": categories,
        "tags": ["remote-sensing", "earth-observation", "sharegpt", "llama-factory", "qwen-vl"],
        "size_categories": [_size_category(total)],
        "configs": [
            {
                "config_name": "default",
                "data_files": [{"split": s, "path": f"data/{s}-*.parquet"} for s in splits],
            }
        ],
    }
    parts = ["---", yaml.safe_dump(header, sort_keys=False, allow_unicode=True).rstrip(), "---", ""]

    parts += [
        f"# Dataset Card for {name}",
        "",
        "## Dataset Details",
        "",
        "### Dataset Description",
        "",
        f"{total} instruction-tuning conversations about remote-sensing images, converted by TerraSense from "
        f"{len(datasets)} public dataset(s) into the TS-Instruct format: LLaMA-Factory `sharegpt` conversations "
        "whose answers write geometry (boxes, oriented boxes, polygons) in the coordinate style of a Qwen-VL model, "
        "with the ground truth kept beside each conversation for evaluation.",
        "",
        "- **Language:** English",
        "- **License:** each source dataset keeps its own licence (see [Source data](#source-data)); the "
        "conversion adds no further restriction.",
        "",
        "## Uses",
        "",
        "Supervised fine-tuning and evaluation of vision-language models on remote-sensing tasks: "
        + ", ".join(f"`{t}`" for t in tasks)
        + ".",
        "",
        "```python",
        "import json",
        "",
        "from datasets import load_dataset",
        "",
        'ds = load_dataset("<this repo or folder>")',
        'record = ds["' + splits[0] + '"][0]',
        'record["images"][0]          # PIL image',
        'json.loads(record["meta"])   # render style, target, provenance',
        "```",
        "",
        "LLaMA-Factory reads it from the Hub with this `dataset_info.json` entry:",
        "",
        "```json",
        json.dumps(
            {
                "terrasense": {
                    "hf_hub_url": "<owner>/<name>",
                    "formatting": "sharegpt",
                    "columns": {"messages": "messages", "images": "images"},
                    "tags": SHAREGPT_TAGS,
                }
            },
            indent=2,
        ),
        "```",
        "",
        "Out of scope: the answers are written for one render style (below); a model trained on them reads and "
        "writes coordinates in that style only.",
        "",
        "## Dataset Structure",
        "",
        "One row per conversation. Fields:",
        "",
        _md_table(["field", "type", "content"], [list(f) for f in _FIELDS]),
        "",
        "Splits (records per source dataset):",
        "",
        _md_table(
            ["dataset", *splits, "total"],
            [
                [d, *(summary.records[(s, d)] for s in splits), sum(summary.records[(s, d)] for s in splits)]
                for d in datasets
            ]
            + [["**total**", *(sum(summary.records[(s, d)] for d in datasets) for s in splits), total]],
        ),
        "",
        "Tasks:",
        "",
        _md_table(["dataset", "task", "records"], [[d, t, n] for (d, t), n in sorted(summary.tasks.items())]),
        "",
        "### Render style",
        "",
    ]
    for key in sorted(summary.render):
        render = json.loads(key)
        dataset, task, prompt, answer = summary.examples[key]
        options = ", ".join(f"`{k}={v}`" for k, v in render.items() if k not in ("style", "coords", "template"))
        parts += [
            f"- **`{render.get('style')}`**: coordinates `{render.get('coords')}`, LLaMA-Factory template "
            f"`{render.get('template')}`; {options}.",
            "",
            f"  Example ({dataset}, `{task}`):",
            "",
            _indent(_fence(f"user: {prompt}\nassistant: {answer}"), "  "),
            "",
        ]
    if not summary.render:
        parts += ["(no render style recorded)", ""]

    parts += ["## Dataset Creation", "", "### Source data", ""]
    infos = [source_info(d, summary.licenses.get(d)) for d in datasets]
    parts += [
        _md_table(
            ["dataset", "source", "licence", "records"],
            [
                [
                    f"`{i['name']}`",
                    f"[{i['title']}]({i['homepage']})" if i["homepage"] else i["title"],
                    i["license"] or "unknown: check the source before use",
                    sum(summary.records[(s, i["name"])] for s in splits),
                ]
                for i in infos
            ],
        ),
        "",
        "Images are the source images (tiles cut from large scenes keep their window in `meta`); geometry is in "
        "pixels of the image as stored here.",
        "",
        "## Bias, Risks, and Limitations",
        "",
        "Licences differ between sources and some allow research use only: check each source's terms before "
        "any other use. Long object lists are cut at a fixed number of objects per answer (the answer says so and "
        "`meta.target.truncated` is set).",
        "",
        "## Citation",
        "",
        "Cite the source datasets you use:",
        "",
    ]
    for i in infos:
        parts.append(f"- **{i['title']}**: {i['citation'] or 'see ' + (i['homepage'] or 'the source')}")
    parts.append("")
    return "\n".join(parts)


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line if line else line for line in text.splitlines())
