"""GLM-Edge-V (THUDM/glm-edge-v-2b, THUDM/glm-edge-v-5b): remote code only; opt in with
`model.trust_remote_code=true`. Loading follows the model card (AutoTokenizer,
AutoImageProcessor and AutoModelForCausalLM with remote code; `pixel_values` passed to
`generate`); samples run one at a time (batch 1).

Prompt: ms-swift template `glm_edge_v` (swift/llm/template/template/glm.py, 3.x), which the SARChat
checkpoints were fine-tuned and evaluated with: `prompt=['<|user|>\\\\n{{QUERY}}\\\\n<|assistant|>\\\\n']`,
`system_prefix=['<|system|>\\\\n{{SYSTEM}}\\\\n']`. Those are escaped in the Python source, so the
template writes a backslash and an `n` where a newline looks intended (its GLM-4 templates in the
same file write real newlines). We reproduce the text the models saw:
`<|system|>\\n{system}\\n<|user|>\\n{query}\\n<|assistant|>\\n` with literal `\\n`; the data's own
newline after `<image>` stays a newline. `model.escaped_newlines=false` writes real newlines instead
(e.g. for a checkpoint tuned on a corrected template). The data's `<image>` becomes 578
`<|begin_of_image|>` tokens (written once in the rendered prompt, expanded before tokenising).
Generation also stops at `<|user|>` (the template's stop words), besides the checkpoint's eos.

Native boxes: GLM-Edge-V documents no grounding format (model cards, THUDM/GLM-Edge README).
The generic codec (model_adapters/generic_boxes.py) is our explicit choice; its per-mille branch
matches the `[[x0,y0,x1,y1]]` [000, 999] grid of Zhipu's earlier CogVLM/CogAgent models (CogAgent
paper, CVPR 2024).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from model_adapters.base import GenerationRequest
from model_adapters.family import Family
from model_adapters.generic_boxes import GENERIC_BOXES
from model_adapters.hf_backend import image_of
from model_adapters.hf_images import to_rgb

IMAGE_TOKEN, IMAGE_TOKENS = "<|begin_of_image|>", 578


class GLMEdgeV(Family):
    batch_safe = False
    backends = ("hf",)
    name = "glm_edge_v"
    image_placeholder = IMAGE_TOKEN
    native_codec = GENERIC_BOXES
    remote_code_transformers = "4"  # its released modeling code predates transformers 5
    stop_tokens = ("<|user|>",)

    @property
    def escaped_newlines(self) -> bool:
        configured = self.settings.escaped_newlines
        return True if configured is None else bool(configured)  # ms-swift 3.x wrote them escaped

    def chat(self, system: str | None, user: str) -> str:
        nl = "\\n" if self.escaped_newlines else "\n"
        head = f"<|system|>{nl}{system}{nl}" if system is not None else ""
        return f"{head}<|user|>{nl}{user}{nl}<|assistant|>{nl}"

    def remote_prompt(self, question: str, size: tuple[int, int], processor: Any = None) -> str:
        """The text the tokenizer encodes: the image's 578 tokens written out, as ms-swift does."""
        return self.render_prompt(question, size, processor).replace(IMAGE_TOKEN, IMAGE_TOKEN * IMAGE_TOKENS, 1)

    def load_remote(self, hf: Any, path: str) -> tuple[Any, Any]:
        from transformers import AutoImageProcessor, AutoModelForCausalLM, AutoTokenizer

        revision = self.settings.revision
        processor = SimpleNamespace(
            tokenizer=AutoTokenizer.from_pretrained(path, trust_remote_code=True, revision=revision),
            image_processor=AutoImageProcessor.from_pretrained(path, trust_remote_code=True, revision=revision),
        )
        model = AutoModelForCausalLM.from_pretrained(path, trust_remote_code=True, **hf.model_kwargs())
        return processor, hf.place(model)

    def generate_remote(self, hf: Any, request: GenerationRequest, max_new_tokens: int) -> str:
        import numpy as np
        import torch

        image = to_rgb(image_of(request))
        text = self.remote_prompt(request.prompt, image.size, hf.processor)
        encoded = hf.processor.tokenizer(text, return_tensors="pt")
        pixels = torch.tensor(np.array(hf.processor.image_processor(image).pixel_values))
        inputs = hf.to_model({**encoded, "pixel_values": pixels})
        with torch.inference_mode():
            output = hf.model.generate(**inputs, **hf.generation_kwargs(max_new_tokens))
        new_tokens = output[0][inputs["input_ids"].shape[1] :]
        return hf.processor.tokenizer.decode(new_tokens, skip_special_tokens=True).strip()
