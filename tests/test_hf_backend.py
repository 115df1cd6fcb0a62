"""backend=hf machinery: OOM fallback, max_new_tokens grouping, loading guards, runner integration."""

import importlib.util
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from family_helpers import make_family, model_config
from hydra import compose, initialize_config_dir
from PIL import Image

from model_adapters import BACKENDS, FAMILIES, BackendSpec, Capabilities, GenerationRequest, ModelAdapter
from model_adapters.hf_images import image_size, to_rgb
from model_adapters.settings import OracleSettings
from sarbench.__main__ import CONF_DIR
from sarbench.evaluate import build_adapter, run_from_config
from sarbench.runner import RunError

REPO = Path(__file__).resolve().parents[1]


def compose_config(*overrides):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base=None):
        return compose(config_name="config", overrides=list(overrides))


def request(i=0, size=(64, 48), max_new_tokens=6, prompt="[count] Count the ship in this satellite image."):
    return GenerationRequest(
        sample_id=f"count/{i}",
        subset="count",
        prompt=prompt + " x" * i,
        image_path="",
        image=Image.new("RGB", size, (10 * i, 20, 30)),
        max_new_tokens=max_new_tokens,
    )


# -- without torch --------------------------------------------------------------------------
def test_package_imports_and_registers_without_torch():
    code = (
        "import sys; sys.modules['torch'] = None; sys.modules['transformers'] = None\n"
        "import model_adapters\n"
        "assert {'qwen2_vl', 'internvl2_5', 'glm_edge_v'} <= set(model_adapters.FAMILIES.names())\n"
        "sys.path.insert(0, 'tests'); from family_helpers import model_config\n"
        "try:\n    model_adapters.build_model(model_config('qwen2_vl', path='nowhere'), 'hf')\n"
        "except model_adapters.AdapterError as e:\n    print(e)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert "backend=hf needs torch, transformers" in result.stdout


def test_native_box_format_rewrites_responses_and_sarchat_leaves_them():
    raw = "There is a ship (100,200),(300,400)."
    native = make_family("qwen2_vl", box_format="native")
    assert native.to_protocol(raw, (1000, 500)) == "There is a ship {<100><100><300><200>}."
    assert make_family("qwen2_vl").to_protocol(raw, (1000, 500)) == raw


def test_to_rgb_scales_16_bit_images_instead_of_clipping():
    amplitude = Image.fromarray(np.arange(64, dtype=np.uint16).reshape(8, 8) * 1000)
    rgb = np.asarray(to_rgb(amplitude))
    assert rgb.shape == (8, 8, 3) and rgb.max() == 255 and len(np.unique(rgb[..., 0])) == 64
    gray = Image.fromarray(np.arange(64, dtype=np.uint8).reshape(8, 8), mode="L")
    assert np.array_equal(np.asarray(to_rgb(gray)), np.asarray(gray.convert("RGB")))


def test_batch_order_key_groups_by_image_area_then_prompt_length(tmp_path):
    for name, size in (("big", (512, 512)), ("small", (64, 64))):
        Image.new("L", size).save(tmp_path / f"{name}.png")
    adapter = make_family("qwen2_vl")
    keys = {
        k: adapter.batch_order_key(p, str(tmp_path / f"{k.split('-')[0]}.png"))
        for k, p in (("big-long", "x" * 50), ("small-long", "x" * 50), ("small-short", "x"))
    }
    assert sorted(keys, key=keys.get) == ["small-short", "small-long", "big-long"]
    assert image_size(str(tmp_path / "missing.png")) == (0, 0)


def test_hydra_lists_available_models_for_an_unknown_name():
    with pytest.raises(Exception) as info:
        compose_config("model=no-such-model")
    message = str(info.value)
    for name in ("tiny-qwen2vl", "qwen2vl-2b", "internvl2_5-8b", "yi-vl-6b", "glm-edge-v-5b"):
        assert name in message


def test_every_paper_checkpoint_has_a_config():
    names = {p.stem for p in (CONF_DIR / "model").glob("*.yaml")}
    paper = {
        "internvl2_5-1b",
        "internvl2_5-2b",
        "internvl2_5-4b",
        "internvl2_5-8b",
        "qwen2vl-2b",
        "qwen2vl-7b",
        "qwen2_5vl-3b",
        "deepseekvl-1.3b",
        "deepseekvl-7b",
        "deepseekvl2-tiny",
        "mplug-owl3-1b",
        "mplug-owl3-2b",
        "mplug-owl3-7b",
        "phi3_5v-4.2b",
        "glm-edge-v-2b",
        "glm-edge-v-5b",
        "llava-1.5-7b",
        "yi-vl-6b",
    }
    assert paper <= names
    for name in paper:
        cfg = compose_config(f"model={name}").model
        assert cfg.name == name and cfg.backend == "hf" and cfg.family in FAMILIES
        assert cfg.trust_remote_code is False and cfg.box_format == "sarchat" and "/" in cfg.path


# -- the batch-unsafe path through the runner -----------------------------------------------
@dataclass
class BatchUnsafeAdapter(ModelAdapter):
    capabilities = Capabilities(batch_safe=False, needs_image=False)
    seen = []

    @classmethod
    def create(cls, settings, family, backend_settings):
        return cls(name=settings.name, settings=settings)

    def generate(self, requests):
        BatchUnsafeAdapter.seen.append(len(requests))
        return [r.reference or "" for r in requests]


def test_batch_unsafe_adapter_is_run_at_batch_1(tmp_path):
    from test_run import make_dataset

    data = make_dataset(tmp_path / "data", per_subset=3)
    BACKENDS.register("test_batch_unsafe")(
        BackendSpec("test_batch_unsafe", "test_hf_backend:BatchUnsafeAdapter", OracleSettings)
    )
    BatchUnsafeAdapter.seen.clear()
    run_from_config(
        compose_config(
            "data=built",
            f"data.root={data}",
            f"out={tmp_path / 'run'}",
            "task=refer",
            "model.backend=test_batch_unsafe",
            "runner.batch_size=8",
            "scoring.meteor=false",
            "runner.progress=false",
        )
    )
    assert BatchUnsafeAdapter.seen and set(BatchUnsafeAdapter.seen) == {1}
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["batch_size"] == 1
    assert any("batch-unsafe: batch size forced to 1" in e for e in manifest["events"])


def test_remote_only_families_declare_batch_1():
    for family in ("deepseek_vl2", "mplug_owl3", "phi3_5_vision", "glm_edge_v"):
        assert not FAMILIES.get(family).batch_safe


# -- loading guards (fake checkpoints: no weights needed) ------------------------------------
def fake_checkpoint(root: Path, **config) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "config.json").write_text(json.dumps(config))
    return root


@pytest.fixture
def transformers_installed():
    pytest.importorskip("torch")
    pytest.importorskip("transformers")


@pytest.mark.parametrize(
    "family, model_type",
    [
        ("internvl2_5", "internvl_chat"),
        ("mplug_owl3", "mplugowl3"),
        ("phi3_5_vision", "phi3_v"),
        ("glm_edge_v", "glm"),
        ("deepseek_vl2", "deepseek_vl_v2"),
    ],
)
def test_remote_code_needs_an_explicit_opt_in(family, model_type, tmp_path, transformers_installed):
    path = fake_checkpoint(tmp_path / family, model_type=model_type, auto_map={"AutoModel": "x.Y"})
    with pytest.raises(RunError, match=r"model\.trust_remote_code=true"):
        build_adapter(model_config(family, path=str(path)), "hf")


def test_deepseek_vl2_without_its_package_says_how_to_install(tmp_path, transformers_installed):
    pytest.importorskip("torch")
    try:
        import deepseek_vl2  # noqa: F401

        pytest.skip("deepseek_vl2 is installed")
    except ImportError:
        pass
    import transformers

    # a checkpoint whose code was ported to the installed transformers (released ones are refused
    # earlier: tests/test_remote_fail_fast.py)
    path = fake_checkpoint(
        tmp_path / "dsv2", model_type="deepseek_vl_v2", transformers_version=transformers.__version__
    )
    with pytest.raises(RunError, match="pip install git\\+https://github.com/deepseek-ai/DeepSeek-VL2"):
        build_adapter(model_config("deepseek_vl2", path=str(path), trust_remote_code=True), "hf")


@pytest.mark.parametrize(
    "family, config, message",
    [
        ("llava1_5", {"model_type": "llava", "mm_vision_tower": "openai/clip"}, "llava-hf"),
        ("yi_vl", {"model_type": "llava", "mm_vision_tower": "./vit/clip"}, "llava-hf"),
        ("deepseek_vl", {"model_type": "multi_modality"}, "deepseek-community"),
        ("qwen2_vl", {"model_type": "something_else"}, "trust_remote_code"),
        ("qwen2_vl", {"model_type": "llava"}, "is a 'llava' model; family qwen2_vl runs qwen2_vl"),
        ("mplug_owl3", {"model_type": "phi3_v"}, "family mplug_owl3 runs mplugowl3"),
    ],
)
def test_unloadable_layouts_are_refused_with_advice(family, config, message, tmp_path, transformers_installed):
    path = fake_checkpoint(tmp_path / family, **config)
    with pytest.raises(RunError, match=message):
        build_adapter(model_config(family, path=str(path)), "hf")


def test_family_without_remote_path_refuses_even_with_opt_in(tmp_path, transformers_installed):
    path = fake_checkpoint(tmp_path / "q", model_type="something_else")
    with pytest.raises(RunError, match="no remote-code loading path"):
        build_adapter(model_config("qwen2_vl", path=str(path), trust_remote_code=True), "hf")


def test_missing_path_and_unimplemented_backend_are_clear(transformers_installed):
    with pytest.raises(RunError, match="model.path is not set"):
        build_adapter(model_config("qwen2_vl", path=None), "hf")
    cfg = dict(compose_config("model=qwen2vl-2b").model)
    if importlib.util.find_spec("vllm") is None:  # the vLLM tier: tests/test_vllm_backend.py
        with pytest.raises(RunError, match="backend=vllm needs vllm"):
            build_adapter(cfg, "vllm")
    with pytest.raises(RunError, match=r"does not run on backend 'vllm'.*backend=hf"):
        build_adapter(dict(compose_config("model=glm-edge-v-2b").model), "vllm")


def test_families_offered_on_vllm_have_a_layout_vllm_runs():
    """backend=vllm refuses remote-code layouts it does not implement (vllm_backend.py:
    check_checkpoint), so a family offers vLLM only with a transformers format or a layout vLLM
    implements itself (`vllm_remote_types`: InternVL2.5 and DeepSeek-VL2 as released)."""
    offered = {name for name in FAMILIES.names() if "vllm" in FAMILIES.get(name).backends}
    assert offered == {"qwen2_vl", "qwen2_5_vl", "internvl2_5", "llava1_5", "deepseek_vl2"}
    assert all(FAMILIES.get(n).native_model_types or FAMILIES.get(n).vllm_remote_types for n in offered)
    for remote_only in ("phi3_5v-4.2b", "glm-edge-v-2b", "mplug-owl3-1b"):
        with pytest.raises(RunError, match=r"does not run on backend 'vllm'.*backend=hf"):
            build_adapter(dict(compose_config(f"model={remote_only}").model), "vllm")


# -- generation on the tiny Qwen2-VL ----------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_qwen(tmp_path_factory):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    cache = tmp_path_factory.getbasetemp() / "tiny-models"
    cfg = dict(compose_config("model=tiny-qwen2vl", f"model.tiny.cache_dir={cache}").model)
    return build_adapter(cfg, "auto")


def test_cuda_oom_halves_the_batch_retries_and_records_events(tiny_qwen, monkeypatch):
    import torch

    requests = [request(i) for i in range(8)]
    expected = [tiny_qwen.generate([r])[0] for r in requests]
    real = tiny_qwen.generate_batch
    sizes = []

    def generate_batch(batch, max_new_tokens):
        sizes.append(len(batch))
        if len(batch) > 2:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(batch, max_new_tokens)

    monkeypatch.setattr(tiny_qwen, "generate_batch", generate_batch)
    tiny_qwen.events.clear()
    assert tiny_qwen.generate(requests) == expected
    assert sizes == [8, 4, 2, 2, 2, 2]
    assert tiny_qwen.events == [
        "CUDA out of memory at batch 8: retrying with batch 4",
        "CUDA out of memory at batch 4: retrying with batch 2",
    ]
    sizes.clear()
    assert tiny_qwen.generate(requests) == expected  # the smaller batch is remembered
    assert sizes == [2, 2, 2, 2] and len(tiny_qwen.events) == 2
    tiny_qwen._max_batch = None


def test_oom_at_batch_1_and_other_errors_propagate(tiny_qwen, monkeypatch):
    import torch

    def out_of_memory(batch, max_new_tokens):
        raise torch.OutOfMemoryError("CUDA out of memory")

    monkeypatch.setattr(tiny_qwen, "generate_batch", out_of_memory)
    with pytest.raises(torch.OutOfMemoryError):
        tiny_qwen.generate([request(0)])

    def broken(batch, max_new_tokens):
        raise ValueError("not an OOM")

    monkeypatch.setattr(tiny_qwen, "generate_batch", broken)
    with pytest.raises(ValueError):
        tiny_qwen.generate([request(0), request(1)])
    tiny_qwen._max_batch = None


def test_requests_are_grouped_by_max_new_tokens_and_returned_in_order(tiny_qwen, monkeypatch):
    requests = [request(i, max_new_tokens=4 if i % 2 else 7) for i in range(6)]
    expected = [tiny_qwen.generate([r])[0] for r in requests]
    calls = []
    real = tiny_qwen.generate_batch
    monkeypatch.setattr(tiny_qwen, "generate_batch", lambda batch, n: calls.append((len(batch), n)) or real(batch, n))
    assert tiny_qwen.generate(requests) == expected
    assert sorted(calls) == [(3, 4), (3, 7)]


def test_generation_kwargs_are_greedy_with_config_overrides(tiny_qwen):
    kwargs = tiny_qwen.generation_kwargs(16)
    assert kwargs["do_sample"] is False and kwargs["num_beams"] == 1 and kwargs["max_new_tokens"] == 16
    import dataclasses

    settings = dataclasses.replace(tiny_qwen.settings, min_new_tokens=32, generation={"repetition_penalty": 1.05})
    adapter = type(tiny_qwen)(name="q", settings=settings, family=tiny_qwen.family)
    assert adapter.generation_kwargs(8) == {
        "do_sample": False,
        "num_beams": 1,
        "repetition_penalty": 1.05,
        "max_new_tokens": 8,
        "min_new_tokens": 8,
    }


def test_min_new_tokens_fixes_the_generated_length(tiny_qwen, monkeypatch):
    import torch

    lengths = []
    real = tiny_qwen._model.generate

    def spy(**kwargs):
        output = real(**kwargs)
        lengths.append(output.shape[1] - kwargs["input_ids"].shape[1])
        return output

    monkeypatch.setattr(tiny_qwen._model, "generate", spy)
    import dataclasses

    monkeypatch.setattr(tiny_qwen, "settings", dataclasses.replace(tiny_qwen.settings, min_new_tokens=5))
    with torch.inference_mode():
        tiny_qwen.generate([request(0, max_new_tokens=5), request(1, max_new_tokens=5)])
    assert lengths == [5]


def test_end_to_end_tiny_qwen2vl_all_tasks_writes_metrics(tmp_path, tiny_qwen):
    from test_run import make_dataset

    data = make_dataset(tmp_path / "data", per_subset=3)
    cache = Path(tiny_qwen.settings.tiny["cache_dir"])
    out = tmp_path / "run"
    result = run_from_config(
        compose_config(
            "model=tiny-qwen2vl",
            f"model.tiny.cache_dir={cache}",
            "data=built",
            f"data.root={data}",
            f"out={out}",
            "task=all",
            "task.max_new_tokens=12",
            "runner.batch_size=4",
            "scoring.meteor=false",
            "runner.progress=false",
        )
    )
    assert set(result["n"].values()) == {3} and len(result["n"]) == 9
    assert json.loads((out / "metrics.json").read_text())["metrics"] == result["metrics"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["batch_size"] == 4 and any(e.startswith("loaded ") for e in manifest["events"])
    lines = [json.loads(l) for l in (out / "predictions" / "count.jsonl").read_text().splitlines()]
    assert len(lines) == 3 and all(isinstance(l["response"], str) and "error" not in l for l in lines)


def test_yi_vl_pads_to_a_square_and_reads_boxes_on_it():
    yi = make_family("yi_vl")
    square = yi.prepare_image(Image.new("RGB", (100, 50), (0, 0, 0)))
    assert square.size == (100, 100)
    assert square.getpixel((0, 0)) == (122, 116, 104) and square.getpixel((50, 50)) == (0, 0, 0)
    assert yi.box_codec().describe()["view"] == "pad_square"
    llava = make_family("llava1_5")
    assert llava.prepare_image(Image.new("RGB", (100, 50))).size == (100, 50)
    assert llava.box_codec().describe()["view"] == "crop_square"
    padded = make_family("llava1_5", pad_to_square=True)
    assert padded.box_codec().describe()["view"] == "pad_square"


def test_qwen2_5_vl_codec_uses_the_processors_actual_resize(tmp_path_factory):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    cache = tmp_path_factory.getbasetemp() / "tiny-models"
    adapter = build_adapter(dict(compose_config("model=tiny-qwen2_5vl", f"model.tiny.cache_dir={cache}").model), "auto")
    codec = adapter.family.box_codec(adapter.processor)
    for size in ((1000, 500), (97, 301), (64, 64)):
        grid = adapter.processor.image_processor(images=[Image.new("RGB", size)], return_tensors="pt")["image_grid_thw"]
        _, rows, columns = grid[0].tolist()
        assert codec.resized_size(*size) == (columns * 14, rows * 14)


@pytest.mark.parametrize("model", ["tiny-qwen2vl", "tiny-qwen2_5vl"])
def test_qwen_pixels_are_those_of_ms_swifts_pil_resize(model, tmp_path_factory):
    """ms-swift resizes with PIL (qwen-vl-utils fetch_image) before the processor; transformers 5's
    default torchvision processor alone would differ by up to a grey level."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from transformers import AutoImageProcessor

    cache = tmp_path_factory.getbasetemp() / "tiny-models"
    adapter = build_adapter(dict(compose_config(f"model={model}", f"model.tiny.cache_dir={cache}").model), "auto")
    pil = AutoImageProcessor.from_pretrained(adapter.checkpoint_location(), backend="pil")
    noise = np.random.default_rng(0).random((150, 211)) ** 2 * 255
    original = Image.fromarray(noise.astype(np.uint8)).convert("RGB")
    _, prepared = adapter.native_inputs(GenerationRequest("count/0", "count", "q", "", original, 4))
    ours = adapter.processor.image_processor(images=[prepared], return_tensors="pt")["pixel_values"]
    swift = pil(images=[original], return_tensors="pt")["pixel_values"]
    direct = adapter.processor.image_processor(images=[original], return_tensors="pt")["pixel_values"]
    assert ours.shape == swift.shape and float(abs(ours - swift).max()) < 1e-5
    assert float(abs(direct - swift).max()) > 1e-3  # the torchvision resize alone is not it
