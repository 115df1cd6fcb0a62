"""Phi-3.5-Vision (microsoft/Phi-3.5-vision-instruct): remote code only (`model_type: phi3_v`);
opt in with `model.trust_remote_code=true`. Loading and generation follow the model card
(`AutoProcessor` with the checkpoint's `num_crops`, override through `processor_kwargs`;
attention `eager` unless `attn_implementation` is set, since the card's default needs
flash-attn). Samples run one at a time (batch 1): its processor takes one prompt.

Prompt: the Phi-3 chat format (ms-swift template `phi3_vision`,
swift/llm/template/template/microsoft.py; the model card's chat template):
`<|system|>\\n{system}<|end|>\\n<|user|>\\n{query}<|end|>\\n<|assistant|>\\n`, the data's `<image>`
becoming `<|image_1|>\\n` (the processor expands it; ms-swift's `<|image|><s>\\n` is the same
token sequence).

Native boxes: Phi-3.5-Vision documents no grounding format (its model card); the generic codec
(model_adapters/generic_boxes.py) is our explicit choice.
"""

from __future__ import annotations

from typing import Any

from model_adapters.base import GenerationRequest
from model_adapters.family import Family
from model_adapters.generic_boxes import GENERIC_BOXES
from model_adapters.hf_backend import image_of
from model_adapters.hf_images import to_rgb


class Phi35Vision(Family):
    batch_safe = False
    backends = ("hf",)
    name = "phi3_5_vision"
    remote_model_types = ("phi3_v",)
    remote_code_transformers = "4"  # its released modeling code predates transformers 5
    image_placeholder = "<|image_1|>\n"
    native_codec = GENERIC_BOXES
    # ms-swift's phi3 template ends a turn with `<|end|>`; the model card's generate() passes only
    # the tokenizer's eos (`<|endoftext|>`), which a fine-tuned model need not emit after it.
    stop_tokens = ("<|end|>",)

    def chat(self, system: str | None, user: str) -> str:
        head = f"<|system|>\n{system}<|end|>\n" if system is not None else ""
        return f"{head}<|user|>\n{user}<|end|>\n<|assistant|>\n"

    def load_remote(self, hf: Any, path: str) -> tuple[Any, Any]:
        from transformers import AutoModelForCausalLM, AutoProcessor

        processor = AutoProcessor.from_pretrained(
            path, trust_remote_code=True, revision=self.settings.revision, **dict(self.settings.processor_kwargs or {})
        )
        kwargs = hf.model_kwargs()
        kwargs.setdefault("attn_implementation", "eager")
        model = AutoModelForCausalLM.from_pretrained(path, trust_remote_code=True, **kwargs)
        return processor, hf.place(model)

    def generate_remote(self, hf: Any, request: GenerationRequest, max_new_tokens: int) -> str:
        import torch

        image = to_rgb(image_of(request))
        inputs = hf.processor(
            self.render_prompt(request.prompt, image.size, hf.processor), [image], return_tensors="pt"
        )
        inputs = hf.to_model(inputs)
        with torch.inference_mode():
            output = hf.model.generate(**inputs, **hf.generation_kwargs(max_new_tokens))
        new_tokens = output[:, inputs["input_ids"].shape[1] :]
        return hf.processor.batch_decode(new_tokens, skip_special_tokens=True, clean_up_tokenization_spaces=False)[
            0
        ].strip()
