"""`sarbench convert-internvl SRC DST`: an InternVL2.5 checkpoint in its released `internvl_chat`
layout (e.g. a SARChat fine-tune with its LoRA merged) -> transformers' native InternVL format,
which backend=hf runs without remote code and batched. The mapping lives in
model_adapters/internvl_chat.py; nothing from the checkpoint's own code runs.
"""

from __future__ import annotations

import argparse

from model_adapters.errors import ModelLoadError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sarbench convert-internvl",
        description="Convert a released-layout InternVL2.5 checkpoint (model_type internvl_chat, Qwen2 language "
        "model: InternVL2.5-1B/4B and their fine-tunes) into transformers' InternVL format.",
    )
    parser.add_argument("src", help="checkpoint folder in the released layout (config.json, *.safetensors, tokenizer)")
    parser.add_argument("dst", help="new folder for the converted checkpoint (must not exist or be empty)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from model_adapters.internvl_chat import convert

    try:
        out = convert(args.src, args.dst)
    except (ModelLoadError, OSError, KeyError, ValueError) as exc:
        raise SystemExit(f"error: cannot convert {args.src}: {exc}") from None
    print(f"converted {args.src} -> {out}; run it with: sarbench run model=internvl2_5-1b model.path={out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
