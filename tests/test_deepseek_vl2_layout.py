"""DeepSeek-VL2 in its released layout on backend=vllm: vLLM's own DeepseekVLV2ForCausalLM, config
class and image processing run the tiny checkpoint (deepseek-vl2-tiny's files, scaled down) without
any checkpoint code, on the whole bundled sample, deterministically; backend=hf stays refused.

The tiny checkpoint is 0.86 GB (vLLM builds the full SigLIP-so400m tower whatever config.json
says), so it is built once into the tiny-model cache ($SARBENCH_TINY_CACHE or
~/.cache/sarbench/tiny) and reused by later runs, not rebuilt per session.
"""

import dataclasses
import importlib.util
import json

import pytest
from family_helpers import make_family

from model_adapters.tiny import deepseek_vl2 as tiny

needs_vllm = pytest.mark.skipif(
    importlib.util.find_spec("vllm") is None or importlib.util.find_spec("timm") is None,
    reason="the vLLM tier runs in .venv-vllm (bash scripts/setup_vllm_env.sh; DeepSeek-VL2 also needs timm)",
)
SUBSETS = {
    "classify", "describe", "count", "grounding_single", "grounding_multi",
    "identify_single", "identify_multi", "refer_single", "refer_multi",
}  # fmt: skip
TOKENS = 12


def test_the_tiny_layout_is_the_released_one():
    config = tiny.released_config(700, dict.fromkeys([tiny.BOS, tiny.EOS], 0))
    assert config["architectures"] == ["DeepseekVLV2ForCausalLM"] and config["model_type"] == "deepseek_vl_v2"
    text = config["language_config"]
    assert text["model_type"] == "deepseek_v2" and not text["use_mla"] and text["kv_lora_rank"] is None
    shapes = tiny.released_shapes(config)
    # timm's vit_so400m_patch14_siglip_384, what vLLM builds: checked name for name in the vLLM tier
    assert sum(_numel(s) for n, s in shapes.items() if n.startswith("vision.")) == 428_225_600
    assert {"projector.layers.2.weight", "image_newline", "view_seperator", "language.lm_head.weight"} <= set(shapes)
    assert "language.model.layers.1.mlp.experts.3.down_proj.weight" in shapes  # layer 1 is MoE, as released
    assert "language.model.layers.0.mlp.gate_proj.weight" in shapes  # first_k_dense_replace: 1
    assert len(tiny.candidate_resolutions()) == 23 and tiny.candidate_resolutions()[-1] == [3 * tiny.TILE] * 2


def _numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def test_the_vllm_prompt_is_the_hf_prompt():
    family = make_family("deepseek_vl2")
    question = "[count] Count the ship."
    assert family.render_prompt(question, (64, 64), placeholder=family.vllm_image_placeholder) == (
        family.render_prompt(question, (64, 64))
    )


@pytest.fixture(scope="module")
def checkpoint():
    from model_adapters.tiny import ensure_tiny_model

    return ensure_tiny_model("deepseek_vl2")


@pytest.fixture(scope="module")
def engine(checkpoint):
    from test_vllm_backend import group

    from sarbench.evaluate import build_adapter

    overrides = ("model=tiny-deepseek_vl2", "backend=vllm")
    adapter = build_adapter(group(*overrides), "vllm", group(*overrides, "backend.enforce_eager=true", name="backend"))
    adapter.load()
    yield adapter
    adapter.close()


@needs_vllm
def test_the_tokenizer_has_the_released_special_tokens(checkpoint):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    for token in tiny.SPECIALS:
        assert tokenizer.encode(token, add_special_tokens=False) == [tokenizer.convert_tokens_to_ids(token)]
    assert tokenizer.encode("<|User|>: hi").count(tokenizer.bos_token_id) == 1  # as LlamaTokenizerFast's BOS


@needs_vllm
def test_vllm_answers_the_whole_sample_deterministically(engine, tmp_path):
    """Every sample of all 9 subsets answered, parsed and scored; a second pass in other batches
    (so other engine schedules) gives the same answers."""
    from test_vllm_backend import predictions, run_with

    overrides = ("model=tiny-deepseek_vl2", "backend=vllm", "task=all")
    tokens = (f"task.max_new_tokens={TOKENS}", f"model.min_new_tokens={TOKENS}")
    result = run_with(engine, tmp_path / "a", *overrides, *tokens)
    first = predictions(tmp_path / "a")
    assert len(first) == 425 and {i.split("/")[0] for i in first} == SUBSETS
    assert all("error" not in r and r["response"].strip() for r in first.values())
    assert {key.split(".")[0] for key in result["metrics"]} >= SUBSETS  # every subset scored
    engine.engine_settings = dataclasses.replace(engine.engine_settings, submit_size=7)
    run_with(engine, tmp_path / "b", *overrides, *tokens)
    second = predictions(tmp_path / "b")
    answers = {i: r["response"] for i, r in first.items()}
    assert answers == {i: r["response"] for i, r in second.items()}
    assert len(set(answers.values())) > 1  # answers depend on the input, so equality means something
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert any(e.startswith("vLLM engine for ") for e in manifest["events"])


@needs_vllm
def test_the_engine_sees_what_the_released_processor_makes(engine, checkpoint):
    """Prompt token ids as vLLM runs them == DeepseekVLV2Processor's (the released processing code,
    as vLLM ships it) for the rendered prompt: one BOS, `<image>` expanded into the tiles' tokens."""
    from PIL import Image
    from vllm.transformers_utils.processors.deepseek_vl2 import DeepseekVLV2Processor

    from model_adapters import GenerationRequest

    processor = DeepseekVLV2Processor.from_pretrained(checkpoint)
    for size in ((448, 256), (288, 416)):
        image = Image.new("RGB", size, (90, 60, 30))
        request = GenerationRequest("count/0", "count", "[count] Count the ship.", "", image, 1)
        prompt = engine.engine_prompt(request)
        (output,) = engine.engine.generate([prompt], engine.sampling_params(1), use_tqdm=False)
        expected = processor(text=prompt["prompt"], images=[image.convert("RGB")])["input_ids"][0].tolist()
        assert output.prompt_token_ids == expected
        assert expected.count(processor.image_token_id) > 3 + 1  # global view, separator, local tiles
