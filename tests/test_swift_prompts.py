"""Prompt fidelity against the authors' stack: ms-swift 4.6's own templates vs sarbench's prompts,
token for token, on the first sample of every subset of the bundled sample. Runs in .venv-swift
(bash scripts/setup_swift_env.sh); skipped where ms-swift is not importable. What differs between
ms-swift 4.6 and the 3.x the SARChat authors used, and what sarbench follows: docs/ms_swift_templates.md.

How far each family is compared (the tiny checkpoints' tokenizers and processors throughout):
- qwen2_vl, qwen2_5_vl, llava1_5_hf, internvl2_5: ms-swift loads the processor and encodes the image
  itself (mode `transformers`, what `swift infer` runs); equal, image tokens included. InternVL2.5
  on the transformers layout (sarbench's native path) and, in mode `vllm`, on the released layout.
- yi_vl, deepseek_vl: ms-swift's loaders clone the authors' GitHub repos (01-ai/Yi's llava package,
  deepseek-ai/DeepSeek-VL) for the processor and its templates' image code imports them: the
  processor is ours, handed to the template as ms-swift's loader would, and the template encodes in
  mode `vllm` (text and image placeholder, images left to the engine); the test then expands the
  placeholder by the template's own rule (Yi-VL: LLaVA's -200 becomes one token per ViT patch;
  DeepSeek-VL: `num_image_tokens` copies of `<image_placeholder>`).
- deepseek_vl2, mplug_owl3, phi3_vision, glm_edge_v: model and processor are the checkpoint's remote
  code (DeepSeek-VL2's also the deepseek_vl2 package), so no tiny checkpoint exists and ms-swift's
  mode `transformers` cannot encode their images here (mPLUG-Owl3, Phi-3.5-V: no image_processor
  without the remote processor; DeepSeek-VL2: `No module named 'deepseek_vl2'`; GLM-Edge-V: its
  image processor is remote code). Compared in mode `vllm` with a stand-in tokenizer that has the
  family's control tokens: the text prompt with its image placeholder, token for token.

ms-swift hard-codes some real checkpoints' token ids (Qwen `<|image_pad|>` = 151655, Yi `###` =
8308); the test points them at the tiny tokenizer's id of the same token, and gives ms-swift the
tiny checkpoints' image sizes (Qwen pixel budget, InternVL tile size and count) through the
environment variables it reads them from (the real checkpoints' values are its defaults).
"""

import importlib.util
import os
from dataclasses import dataclass

import pytest

from model_adapters.tiny.internvl import TILE as INTERNVL_TILE
from model_adapters.tiny.qwen2_vl import MAX_PIXELS, MIN_PIXELS

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("swift") is None,
    reason="the ms-swift tier runs in .venv-swift (scripts/setup_swift_env.sh)",
)
os.environ.setdefault("USE_HF", "1")
# ms-swift reads image sizes from the environment (defaults: the real checkpoints'); sarbench reads
# the checkpoint's processor. The tiny checkpoints' values here.
os.environ["MIN_PIXELS"], os.environ["MAX_PIXELS"] = str(MIN_PIXELS), str(MAX_PIXELS)
os.environ["INPUT_SIZE"], os.environ["MAX_NUM"] = str(INTERNVL_TILE), "4"


@dataclass(frozen=True)
class Case:
    builder: str  # tiny checkpoint
    model_type: str  # ms-swift model type (its loader)
    template: str  # ms-swift template type, as the authors' `swift sft/infer` chose it
    family: str  # sarbench family
    image_token: str | None = None  # token whose id ms-swift hard-codes
    system: str | None = None  # model.system_prompt, where not the family's default


ENCODED_BY_SWIFT = [
    Case("qwen2_vl", "qwen2_vl", "qwen2_vl", "qwen2_vl", "<|image_pad|>"),
    Case("qwen2_5_vl", "qwen2_5_vl", "qwen2_5_vl", "qwen2_5_vl", "<|image_pad|>"),
    Case("llava", "llava1_5_hf", "llava1_5_hf", "llava1_5"),
    Case("llava", "llava1_5_hf", "llava1_5_hf", "llava1_5", system="Answer briefly."),  # 4.x only takes one
    Case("internvl", "internvl_chat", "internvl2_5", "internvl2_5"),
]


def first_samples():
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from sarbench.__main__ import CONF_DIR
    from sarbench.evaluate import load_run_data
    from sarbench.images import load_image

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base=None):
        config = compose(config_name="config", overrides=["data=sample"])
    data = load_run_data(OmegaConf.to_container(config.data, resolve=True), list(config.task.subsets))
    samples = [(samples[0].prompt, load_image(samples[0].image)) for samples in data.samples.values()]
    assert len(samples) == 9
    return samples


@pytest.fixture(scope="module")
def samples():
    return first_samples()


def swift_template(path, case: Case, system, mode: str, processor=None):
    """ms-swift's template for `case`; `processor` given: ms-swift's loader cannot build one here, so
    ours gets what that loader would attach to it (model info and meta) instead."""
    from swift.model import get_processor
    from swift.model.model_meta import get_model_info_meta
    from swift.template import get_template

    if processor is None:
        processor = get_processor(str(path), model_type=case.model_type)
    else:
        info, meta = get_model_info_meta(str(path), model_type=case.model_type, download_model=False)
        meta.loader(info, meta, load_model=False, model_kwargs={})._postprocess_processor(processor)
    template = get_template(processor, template_type=case.template, default_system=system)
    template.set_mode(mode)
    return template, getattr(processor, "tokenizer", processor)


def swift_ids(template, system, question, image) -> list[int]:
    turns = [{"role": "system", "content": system}] if system is not None else []
    turns.append({"role": "user", "content": f"<image>\n{question}"})
    return list(template.encode({"messages": turns, "images": [image]})["input_ids"])


def our_ids(family, processor, question, image) -> list[int]:
    """The input ids sarbench's HF backend builds (model_adapters/hf_backend.py)."""
    from model_adapters.base import GenerationRequest
    from model_adapters.hf_backend import native_inputs

    text, prepared = native_inputs(family, GenerationRequest("s/0", "s", question, "", image), processor)
    specials = {} if family.tokenizer_specials else {"add_special_tokens": False}
    return list(processor(text=[text], images=[prepared], **specials)["input_ids"][0])


@pytest.mark.parametrize("case", ENCODED_BY_SWIFT, ids=lambda c: c.template + ("+system" if c.system else ""))
def test_sarbench_prompts_equal_ms_swift_templates_token_for_token(case, samples, tmp_path):
    from family_helpers import make_family
    from transformers import AutoProcessor

    from model_adapters.tiny import ensure_tiny_model

    path = ensure_tiny_model(case.builder, tmp_path / "tiny")
    family = make_family(case.family, path=str(path), system_prompt=case.system)
    template, tokenizer = swift_template(path, case, family.system, "transformers")
    if case.image_token:
        template.image_token_id = tokenizer.convert_tokens_to_ids(case.image_token)
    processor = AutoProcessor.from_pretrained(path)
    for question, image in samples:
        theirs = swift_ids(template, family.system, question, image)
        assert our_ids(family, processor, question, image) == theirs, question


def test_internvl_released_layout_prompt_for_vllm_equals_ms_swift_vllm_mode(samples, tmp_path):
    """The released InternVL2.5 layout runs on backend=vllm; ms-swift's `vllm` mode writes the text
    prompt it hands vLLM (image as `<image>\\n`, which vLLM expands): the same ids as sarbench's."""
    from family_helpers import make_family
    from transformers import AutoTokenizer

    from model_adapters.internvl_chat import register_config
    from model_adapters.tiny import ensure_tiny_model

    register_config()  # what lets transformers (so ms-swift) read the released config.json here
    path = ensure_tiny_model("internvl_chat", tmp_path / "tiny")
    family = make_family("internvl2_5", path=str(path))
    template, _ = swift_template(path, Case("", "internvl_chat", "internvl2_5", ""), family.system, "vllm")
    tokenizer = AutoTokenizer.from_pretrained(path)
    for question, image in samples:
        text = family.render_prompt(question, image.size, placeholder=family.vllm_image_placeholder)
        assert tokenizer(text)["input_ids"] == swift_ids(template, family.system, question, image), question


def expand(ids: list[int], placeholder: int, replacement: list[int]) -> list[int]:
    out = []
    for token in ids:
        out.extend(replacement if token == placeholder else [token])
    return out


def test_yi_vl_prompts_equal_ms_swift_template_with_llava_image_tokens(samples, tmp_path):
    from family_helpers import make_family
    from transformers import AutoProcessor

    from model_adapters.tiny import ensure_tiny_model

    path = ensure_tiny_model("yi_vl", tmp_path / "tiny")
    family = make_family("yi_vl", path=str(path))
    processor = AutoProcessor.from_pretrained(path)
    template, tokenizer = swift_template(path, Case("", "yi_vl", "yi_vl", ""), family.system, "vllm", processor)
    hash_id = tokenizer.convert_tokens_to_ids("###")
    meta = template.template_meta
    meta.prompt = [[hash_id] if part == [8308] else part for part in meta.prompt]  # 8308: `###` in Yi's vocab
    crop = processor.image_processor.crop_size["height"]
    patches = (crop // processor.patch_size) ** 2  # LLaVA's -200 becomes the ViT's patch features
    for question, image in samples:
        theirs = expand(swift_ids(template, family.system, question, image), -200, [processor.image_token_id] * patches)
        assert our_ids(family, processor, question, image) == theirs, question


def test_deepseek_vl_prompts_equal_ms_swift_template_with_its_image_tokens(samples, tmp_path):
    from family_helpers import make_family
    from transformers import AutoProcessor

    from model_adapters.tiny import ensure_tiny_model

    path = ensure_tiny_model("deepseek_vl", tmp_path / "tiny")
    family = make_family("deepseek_vl", path=str(path))
    processor = AutoProcessor.from_pretrained(path)
    case = Case("", "deepseek_vl", "deepseek_vl", "")
    template, tokenizer = swift_template(path, case, family.system, "vllm", processor)
    image_id = tokenizer.convert_tokens_to_ids("<image_placeholder>")
    for question, image in samples:
        theirs = expand(
            swift_ids(template, family.system, question, image), image_id, [image_id] * processor.num_image_tokens
        )
        assert our_ids(family, processor, question, image) == theirs, question


@dataclass(frozen=True)
class StandIn:
    """A tokenizer-only folder for a remote-code family: its control tokens, eos/pad/bos as the
    released tokenizer has them (no tiny checkpoint can exist: model and processor are remote code)."""

    model_type: str  # = ms-swift template type
    family: str
    specials: tuple[str, ...]
    eos: str
    pad: str
    bos: str | None = None  # also: the tokenizer prepends it, as the released one does
    swift_image: int | None = None  # what ms-swift writes for the image in mode vllm, where not text
    ours_image: str | None = None  # the token sarbench writes there (the remote processor expands both)


DEEPSEEK_BOS, DEEPSEEK_EOS = "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"
REMOTE_CODE = [
    StandIn(
        "deepseek_vl2", "deepseek_vl2", (DEEPSEEK_EOS, DEEPSEEK_BOS, "<|User|>", "<|Assistant|>", "<image>"),
        eos=DEEPSEEK_EOS, pad=DEEPSEEK_EOS, bos=DEEPSEEK_BOS,
    ),
    StandIn(
        "mplug_owl3", "mplug_owl3", ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|image|>"),
        eos="<|im_end|>", pad="<|endoftext|>", swift_image=-100, ours_image="<|image|>",
    ),
    StandIn(
        "phi3_vision", "phi3_5_vision",
        ("<unk>", "<s>", "</s>", "<|endoftext|>", "<|system|>", "<|end|>", "<|user|>", "<|assistant|>"),
        eos="<|endoftext|>", pad="<unk>", bos="<s>",
    ),
    StandIn(
        "glm_edge_v", "glm_edge_v", ("<|endoftext|>", "<|system|>", "<|user|>", "<|assistant|>", "<|begin_of_image|>"),
        eos="<|endoftext|>", pad="<|endoftext|>",
    ),
]  # fmt: skip


@pytest.mark.parametrize("stand_in", REMOTE_CODE, ids=lambda s: s.model_type)
def test_remote_code_family_prompts_equal_ms_swift_templates_in_vllm_mode(stand_in, samples, tmp_path):
    """Families whose processor is the checkpoint's remote code (DeepSeek-VL2's also needs the
    deepseek_vl2 package): ms-swift's mode `transformers` cannot encode their images here, mode
    `vllm` writes the text prompt with the image placeholder. That text, tokenized by a stand-in
    tokenizer with the family's control tokens, against the text sarbench hands the remote
    processor (mPLUG-Owl3: ms-swift's -100 and sarbench's `<|image|>` both become the image's cut
    tokens; GLM-Edge-V: both write the 578 image tokens out)."""
    import json

    from family_helpers import make_family

    from model_adapters.tiny.tokenizer import build_tokenizer

    tokenizer = build_tokenizer(
        list(stand_in.specials), eos=stand_in.eos, pad=stand_in.pad, bos=stand_in.bos, add_bos=stand_in.bos is not None
    )
    tokenizer.save_pretrained(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "llama", "architectures": ["LlamaForCausalLM"]}))
    family = make_family(stand_in.family, path=str(tmp_path))
    case = Case("", stand_in.model_type, stand_in.model_type, "")
    template, _ = swift_template(tmp_path, case, family.system, "vllm", tokenizer)
    remote_prompt = getattr(family, "remote_prompt", family.render_prompt)
    for question, image in samples:
        theirs = swift_ids(template, family.system, question, image)
        if stand_in.swift_image is not None:
            theirs = expand(theirs, stand_in.swift_image, [tokenizer.convert_tokens_to_ids(stand_in.ours_image)])
        assert tokenizer(remote_prompt(question, image.size))["input_ids"] == theirs, question
