"""A small byte-level BPE tokenizer trained offline on SARChat-style text (deterministic).

Every tiny checkpoint uses it with its family's control tokens registered as special tokens,
so prompts tokenise into a few hundred ids and generation decodes to readable-ish text.
"""

from __future__ import annotations

from typing import Any

CATEGORIES = ("ship", "aircraft", "car", "tank", "bridge", "harbor")
CELLS = (
    "top left",
    "top center",
    "top right",
    "middle left",
    "middle center",
    "middle right",
    "bottom left",
    "bottom center",
    "bottom right",
)
PHRASES = (
    "You are a helpful assistant.",
    "In this SAR image, I can identify several objects and their locations:",
    "There are 4 instances.",
    "It is ship.",
    "What do you observe in this satellite imagery?",
    "[count] Count the ship in this satellite image.",
    "[refer] Identify 4 ship.",
    "[identify] What can you identify within these coordinates:",
    "[grounding] What objects can you identify in this SAR image and where are they located?",
    "Based on these category options (aircraft, bridge, car, harbor, ship, tank), what's visible in this scene?",
    "USER: ASSISTANT: User: Assistant: ### Human: ### Assistant: system user assistant",
)


def _corpus() -> list[str]:
    lines = list(PHRASES)
    for category in CATEGORIES:
        for cell in CELLS:
            lines.append(
                f"A small {category} is visible in the {cell} portion of the image "
                f"{{<12><345><67><890>}} [0.12, 0.34, 0.56, 0.78] (100,200),(300,400)"
            )
    lines.append(" ".join(str(i) for i in range(1000)))
    return lines * 3


def build_tokenizer(
    special_tokens: list[str],
    *,
    eos: str,
    pad: str,
    bos: str | None = None,
    named: dict[str, str] | None = None,
    vocab_size: int = 700,
    chat_template: str | None = None,
    add_bos: bool = False,
) -> Any:
    """A `PreTrainedTokenizerFast` with left padding; `named` become `tokenizer.<name>` attributes;
    `add_bos`: it prepends `bos` to what it encodes, as the real Llama tokenizers do."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    ordered = list(dict.fromkeys([pad, eos] + ([bos] if bos else []) + special_tokens))
    model = Tokenizer(models.BPE())
    model.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    model.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=ordered,
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    model.train_from_iterator(_corpus(), trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=model,
        eos_token=eos,
        pad_token=pad,
        bos_token=bos,
        padding_side="left",
        extra_special_tokens=dict(named or {}),
    )
    if add_bos:
        tokenizer.add_bos_token = True
    if chat_template is not None:
        tokenizer.chat_template = chat_template
    return tokenizer


def token_ids(tokenizer: Any, tokens: list[str]) -> dict[str, int]:
    return {t: tokenizer.convert_tokens_to_ids(t) for t in tokens}
