#!/usr/bin/env python
"""Ask a TerraSense checkpoint about one image or a before/after pair, with plain transformers, and print the answer.

    python scripts/inference_demo.py --model saves/terrasense-qwen2.5-vl-7b/full/sft \
        --image scene.png --prompt "Detect every ship. Answer with boxes."
    python scripts/inference_demo.py --model ... --image before.png --image2 after.png \
        --prompt "Image 1 was taken before image 2. Box every new building."

Images are resized exactly as LLaMA-Factory resized them in training (``--image-max-pixels``/``--image-min-pixels``,
the training config's values), so Qwen2.5-VL's absolute pixel boxes refer to the same frame. The answer is printed
on stdout with the model's special tokens kept (``<|box_start|>`` ... for the Qwen2-VL style) and without the
end-of-turn token; the size of each image as the model saw it goes to stderr (``frame: W x H``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def generate(
    model_dir: str,
    images: list[Path],
    prompt: str,
    *,
    system: str | None = None,
    max_new_tokens: int = 256,
    image_max_pixels: int = 589824,
    image_min_pixels: int = 1024,
) -> tuple[str, list[tuple[int, int]]]:
    """Greedy answer of the model in ``model_dir`` to ``images`` + ``prompt``.

    Returns:
        the answer text (special tokens kept, stopped at the end-of-turn token) and each image's model-input size
        ``(width, height)`` in pixels, after the processor's own resize.
    """
    import torch
    from PIL import Image
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from ts_instruct.lf_resize import preprocess_image

    processor = AutoProcessor.from_pretrained(model_dir)
    model = AutoModelForImageTextToText.from_pretrained(model_dir, dtype="auto").eval()
    pil = [preprocess_image(Image.open(p), image_max_pixels, image_min_pixels) for p in images]
    content = [{"type": "image"} for _ in pil] + [{"type": "text", "text": prompt}]
    messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": content}]
    text = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    inputs = processor(text=[text], images=pil, return_tensors="pt").to(model.device)
    with torch.inference_mode():
        out = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
    new = out[0, inputs["input_ids"].shape[1] :].tolist()
    tok = processor.tokenizer
    stops = {tok.convert_tokens_to_ids(t) for t in ("<|im_end|>", "<|endoftext|>")}
    end = next((i for i, t in enumerate(new) if t in stops), len(new))
    patch = processor.image_processor.patch_size  # image_grid_thw counts patches: (frames, rows, columns)
    frames = [(int(w) * patch, int(h) * patch) for _, h, w in inputs["image_grid_thw"].tolist()]
    return tok.decode(new[:end], skip_special_tokens=False), frames


def main() -> int:
    """Parse arguments, generate, print."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--model", required=True, help="checkpoint folder (full-SFT output_dir, merged export_dir) or Hub id"
    )
    p.add_argument("--image", required=True, type=Path, help="the image (the earlier one of a pair)")
    p.add_argument("--image2", type=Path, help="the later image of a before/after pair")
    p.add_argument("--prompt", required=True, help="the question, as in training")
    p.add_argument("--system", help="system prompt (default: the chat template's)")
    p.add_argument("--max-new-tokens", type=int, default=256)
    p.add_argument("--image-max-pixels", type=int, default=589824, help="the training config's image_max_pixels")
    p.add_argument("--image-min-pixels", type=int, default=1024, help="the training config's image_min_pixels")
    args = p.parse_args()
    images = [args.image] + ([args.image2] if args.image2 else [])
    for path in images:
        if not path.is_file():
            print(f"inference_demo: error: image {path} not found", file=sys.stderr)
            return 2
    local = Path(args.model)
    if (local.exists() or "/" not in args.model) and not (local / "config.json").is_file():
        print(
            f"inference_demo: error: {args.model} has no config.json; pass a checkpoint folder or a Hub id org/name",
            file=sys.stderr,
        )
        return 2
    answer, frames = generate(
        args.model,
        images,
        args.prompt,
        system=args.system,
        max_new_tokens=args.max_new_tokens,
        image_max_pixels=args.image_max_pixels,
        image_min_pixels=args.image_min_pixels,
    )
    for i, (w, h) in enumerate(frames, 1):
        print(f"frame: image {i}: {w} x {h}", file=sys.stderr)
    print(answer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
