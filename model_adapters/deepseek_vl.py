"""DeepSeek-VL (1.3B and 7B chat) in the transformers layouts: `deepseek_vl` (1.3B, SigLIP) and
`deepseek_vl_hybrid` (7B, SigLIP + SAM), e.g. deepseek-community/deepseek-vl-7b-chat. The
released deepseek-ai folders (`multi_modality`, need the deepseek_vl package) are refused with
that advice.

Prompt: ms-swift template `deepseek_vl` (swift/llm/template/template/deepseek.py):
`{system}\\n\\nUser: {query}\\n\\nAssistant:` (the tokenizer adds the BOS) with the SARChat system
prompt; the data's `<image>` becomes `<image_placeholder>`.

Native boxes: DeepSeek-VL documents no grounding format (model cards deepseek-ai/deepseek-vl-7b-chat,
-7b-base, github.com/deepseek-ai/DeepSeek-VL README); the generic codec
(model_adapters/generic_boxes.py) is our explicit choice.
"""

from __future__ import annotations

from model_adapters.errors import ModelLoadError
from model_adapters.family import Family
from model_adapters.generic_boxes import GENERIC_BOXES


class DeepSeekVL(Family):
    backends = ("hf",)
    name = "deepseek_vl"
    native_model_types = ("deepseek_vl", "deepseek_vl_hybrid")
    image_placeholder = "<image_placeholder>"
    native_codec = GENERIC_BOXES

    def chat(self, system: str | None, user: str) -> str:
        head = f"{system}\n\n" if system else ""
        return f"{head}User: {user}\n\nAssistant:"

    def check_config(self, config: dict, native: bool) -> None:
        if config.get("model_type") == "multi_modality":
            raise ModelLoadError(
                "this is the released DeepSeek-VL layout (needs the deepseek_vl package); "
                "use the transformers conversion, e.g. deepseek-community/deepseek-vl-7b-chat"
            )
        super().check_config(config, native)
