"""InternVL2.5 in its released `internvl_chat` layout: the tiny checkpoint has the real files' shape,
`sarbench convert-internvl` maps it to transformers' InternVL format, and (vLLM tier) vLLM's own
InternVLChatModel on the released files gives the same greedy answers as transformers on the
converted ones, on every subset of the bundled sample.
"""

import importlib.util
import json
import shutil

import pytest
from family_helpers import make_family
from safetensors.torch import load_file

from model_adapters.errors import ModelLoadError
from model_adapters.internvl_chat import convert, native_name
from model_adapters.tiny import ensure_tiny_model
from sarbench.cli import main as cli

needs_vllm = pytest.mark.skipif(
    importlib.util.find_spec("vllm") is None, reason="the vLLM tier runs in .venv-vllm (bash scripts/setup_vllm_env.sh)"
)


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    return ensure_tiny_model("internvl_chat", tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def converted(released, tmp_path_factory):
    out = tmp_path_factory.mktemp("converted") / "internvl-hf"
    assert cli(["convert-internvl", str(released), str(out)]) == 0
    return out


def test_the_tiny_checkpoint_has_the_released_layout(released):
    config = json.loads((released / "config.json").read_text())
    assert config["architectures"] == ["InternVLChatModel"] and config["model_type"] == "internvl_chat"
    assert config["llm_config"]["architectures"] == ["Qwen2ForCausalLM"]
    assert config["vision_config"]["model_type"] == "intern_vit_6b"
    names = set(load_file(released / "model.safetensors"))
    assert {"vision_model.encoder.layers.0.attn.qkv.weight", "mlp1.1.weight", "language_model.lm_head.weight"} <= names
    assert not any(n.startswith(("model.", "lm_head")) for n in names)  # no transformers-format name
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(released)
    for token in ("<img>", "</img>", "<IMG_CONTEXT>", "<|im_end|>"):
        assert tokenizer.encode(token, add_special_tokens=False) == [tokenizer.convert_tokens_to_ids(token)]


def test_conversion_renames_every_weight_and_splits_the_fused_qkv(released, converted):
    before, after = load_file(released / "model.safetensors"), load_file(converted / "model.safetensors")
    qkv = before["vision_model.encoder.layers.1.attn.qkv.weight"]
    width = qkv.shape[1]
    layer = "model.vision_tower.encoder.layer.1.attention"
    for i, part in enumerate("qkv"):
        assert after[f"{layer}.{part}_proj.weight"].equal(qkv[i * width : (i + 1) * width])
    assert after["lm_head.weight"].equal(before["language_model.lm_head.weight"])
    assert after["model.multi_modal_projector.linear_2.bias"].equal(before["mlp1.3.bias"])
    assert len(after) == len(before) + 2 * sum(".attn.qkv." in n for n in before)
    config = json.loads((converted / "config.json").read_text())
    assert config["model_type"] == "internvl" and config["image_seq_length"] == 4
    assert native_name("vision_model.encoder.layers.3.ls2") == "model.vision_tower.encoder.layer.3.lambda_2"


def test_the_converted_checkpoint_runs_natively_on_backend_hf(converted, tmp_path):
    from family_helpers import model_config
    from PIL import Image

    from model_adapters import GenerationRequest, build_model

    adapter = build_model(model_config("internvl2_5", path=str(converted), device="cpu", dtype="float32"), "hf")
    request = GenerationRequest("count/0", "count", "[count] Count the ship.", "", Image.new("L", (90, 60)), 5)
    assert not adapter._remote and adapter.model.__class__.__name__ == "InternVLForConditionalGeneration"
    assert isinstance(adapter.generate([request])[0], str)
    assert not any("not used" in e for e in adapter.events)


def test_conversion_refuses_what_it_cannot_convert(released, tmp_path, capsys):
    internlm = tmp_path / "internlm"
    shutil.copytree(released, internlm)
    config = json.loads((internlm / "config.json").read_text())
    config["llm_config"] |= {"model_type": "internlm2", "architectures": ["InternLM2ForCausalLM"]}
    (internlm / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match="'internlm2'.*backend=vllm model.trust_remote_code=true"):
        convert(internlm, tmp_path / "out1")
    assert cli(["convert-internvl", str(tmp_path), str(tmp_path / "out2")]) == 1  # no config.json
    assert "cannot convert" in capsys.readouterr().err
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x").write_text("")
    with pytest.raises(ModelLoadError, match="not empty"):
        convert(released, busy)


def test_the_vllm_prompt_of_the_released_layout_expands_to_the_same_text():
    family = make_family("internvl2_5")
    hf = family.render_prompt("[count] Count the ship.", (64, 64))
    vllm = family.render_prompt("[count] Count the ship.", (64, 64), placeholder=family.vllm_image_placeholder)
    image = "<img>" + "<IMG_CONTEXT>" * 4 + "</img>"
    assert hf.replace("<IMG_CONTEXT>", image, 1) == vllm.replace("<image>", image, 1)


@needs_vllm
def test_vllm_on_the_released_layout_answers_as_transformers_on_the_converted_one(released, converted, tmp_path):
    """All 9 subsets (two samples each): vLLM's InternVLChatModel and its own image processing on the
    released files, transformers' InternVL on the converted ones: identical greedy answers."""
    from test_vllm_backend import group, predictions, run_with

    from sarbench.evaluate import build_adapter

    common = ("task=all", "runner.limit=2", "task.max_new_tokens=24", "model.min_new_tokens=24")
    vllm_overrides = ("model=tiny-internvl2_5-chat", f"model.tiny.cache_dir={released.parent}", *common)
    hf_overrides = ("model=internvl2_5-1b", f"model.path={converted}", "model.device=cpu", "model.dtype=float32")
    vllm = build_adapter(
        group(*vllm_overrides, "backend=vllm"),
        "vllm",
        group(*vllm_overrides, "backend=vllm", "backend.enforce_eager=true", name="backend"),
    )
    hf = build_adapter(group(*hf_overrides, *common), "hf")
    try:
        run_with(vllm, tmp_path / "vllm", *vllm_overrides, "backend=vllm")
        run_with(hf, tmp_path / "hf", *hf_overrides, *common, "backend=hf")
    finally:
        vllm.close()
        hf.close()
    ours, theirs = predictions(tmp_path / "vllm"), predictions(tmp_path / "hf")
    assert len(ours) == 18 and ours.keys() == theirs.keys()
    assert {i.split("/")[0] for i in ours} == {
        "classify", "describe", "count", "grounding_single", "grounding_multi",
        "identify_single", "identify_multi", "refer_single", "refer_multi",
    }  # fmt: skip
    assert all("error" not in r for r in ours.values())
    answers = {i: r["response"] for i, r in ours.items()}
    assert answers == {i: r["response"] for i, r in theirs.items()}
    assert len(set(answers.values())) > 1  # answers depend on the input, so equality means something


def test_backend_hf_on_the_released_layout_names_the_ways_to_run_it(released):
    from family_helpers import model_config

    from model_adapters import build_model

    with pytest.raises(ModelLoadError) as refused:
        build_model(model_config("internvl2_5", path=str(released), device="cpu"), "hf")
    for way in ("written for transformers 4.37.2", "backend=vllm", "sarbench convert-internvl"):
        assert way in str(refused.value)
