"""backend=vllm on tiny models: vLLM and transformers give identical greedy predictions (the whole
sample on the tiny Qwen2-VL; two samples per subset on tiny Qwen2.5-VL, LLaVA-1.5 and InternVL2.5);
and the runner's batch stream that backend=vllm relies on.

The vLLM tests run in .venv-vllm (`bash scripts/setup_vllm_env.sh`) and skip where vllm is not
importable (the main .venv); the runner tests at the end run everywhere. One engine for the whole
session (starting one costs about a minute on 2 cores). The transformers reference runs in the
same process and venv, on the same checkpoint files, through the same runner.
"""

import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf
from PIL import Image

import sarbench.evaluate
from model_adapters import AdapterError, GenerationRequest, InferenceFailure
from model_adapters.oracle import OracleBackend
from model_adapters.settings import OracleSettings
from model_adapters.vllm_backend import VLLMBackend
from sarbench.__main__ import CONF_DIR
from sarbench.evaluate import build_adapter, run_from_config
from sarbench.runner import RunError

needs_vllm = pytest.mark.skipif(
    importlib.util.find_spec("vllm") is None, reason="the vLLM tier runs in .venv-vllm (bash scripts/setup_vllm_env.sh)"
)

# Random weights rarely emit EOS, so nearly every sample runs to max_new_tokens: 425 samples x 128
# tokens keep this tier near 80 s on 2 cores (the transformers reference is most of it).
SAMPLE_TOKENS = 128


def compose_config(*overrides):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base=None):
        return compose(config_name="config", overrides=list(overrides))


def group(*overrides, name="model") -> dict:
    """One config group as plain containers, as `run_from_config` hands it to `build_adapter`."""
    return OmegaConf.to_container(compose_config(*overrides)[name], resolve=True)


@pytest.fixture(scope="session")
def tiny_cache(tmp_path_factory):
    return tmp_path_factory.getbasetemp() / "tiny-models"


def vllm_settings(*overrides) -> dict:
    """The `backend:` group of backend=vllm (conf/backend/vllm.yaml) with `overrides`."""
    return group("backend=vllm", *overrides, name="backend")


def model_overrides(cache, *extra):
    return ("model=tiny-qwen2vl", f"model.tiny.cache_dir={cache}", *extra)


@pytest.fixture(scope="session")
def engine(tiny_cache):
    overrides = (*model_overrides(tiny_cache), "backend=vllm", "backend.enforce_eager=true")
    adapter = build_adapter(group(*overrides), "vllm", group(*overrides, name="backend"))
    assert isinstance(adapter, VLLMBackend)
    adapter.load()
    yield adapter
    adapter.close()


@pytest.fixture(scope="session")
def reference(tiny_cache):
    adapter = build_adapter(group(*model_overrides(tiny_cache)), "hf")
    yield adapter
    adapter.close()


def run_with(adapter, out, *overrides):
    """`run_from_config` as `python -m sarbench` runs it, on an adapter built once per session."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sarbench.evaluate, "build_adapter", lambda *args: adapter)
        patch.setattr(adapter, "close", lambda: None)
        return run_from_config(
            compose_config(f"out={out}", "scoring.meteor=false", "runner.progress=false", *overrides)
        )


class Killed(BaseException):
    """Stops a run the way Ctrl-C or a kill does: not an inference failure the runner absorbs."""


def predictions(out: Path) -> dict[str, dict]:
    return {
        r["id"]: r
        for path in sorted((out / "predictions").glob("*.jsonl"))
        for r in map(json.loads, path.read_text().splitlines())
    }


@needs_vllm
def test_whole_sample_predictions_are_identical_to_transformers(engine, reference, tiny_cache, tmp_path, monkeypatch):
    common = (*model_overrides(tiny_cache), "task=all", f"task.max_new_tokens={SAMPLE_TOKENS}")
    pixels, prepared = type(engine.family).pixels, []
    monkeypatch.setattr(type(engine.family), "pixels", lambda *args: prepared.append(1) or pixels(*args))
    vllm_result = run_with(engine, tmp_path / "vllm", *common, "backend=vllm")
    # the samples of an image share its decoded and prepared pixels: at most once per subset
    # file and image (238 pairs in the sample) instead of once per sample
    assert 40 <= len(prepared) <= 238
    monkeypatch.undo()
    hf_result = run_with(reference, tmp_path / "hf", *common, "backend=hf", "runner.batch_size=8")
    ours, theirs = predictions(tmp_path / "vllm"), predictions(tmp_path / "hf")
    assert len(ours) == 425 and ours.keys() == theirs.keys()
    differing = [i for i in ours if ours[i]["response"] != theirs[i]["response"]]
    assert not differing, f"{len(differing)} of 425 differ, e.g. {differing[:3]}"
    assert all("error" not in r for r in ours.values())
    assert vllm_result["metrics"] == hf_result["metrics"]
    manifest = json.loads((tmp_path / "vllm" / "manifest.json").read_text())
    assert manifest["batch_size"] == 64  # backend.submit_size replaced runner.batch_size
    assert any(e.startswith("vLLM engine for ") for e in manifest["events"])
    # answers are collected while batches are queued only through this private detail of vLLM's
    # multiprocess client (model_adapters/vllm_backend.py: finished_outputs)
    assert hasattr(engine._llm.llm_engine.engine_core.outputs_queue, "qsize")


@needs_vllm
@pytest.mark.parametrize("model", ["tiny-qwen2_5vl", "tiny-llava1_5", "tiny-internvl2_5"])
def test_other_families_give_the_same_predictions_as_transformers(model, tiny_cache, tmp_path):
    """Each family's prompt (chat template, image placeholder) and image preparation as the engine
    sees them: two samples of every subset, vLLM and transformers, identical."""
    overrides = (
        f"model={model}",
        f"model.tiny.cache_dir={tiny_cache}",
        "task=all",
        "runner.limit=2",
        "task.max_new_tokens=24",
        "model.min_new_tokens=24",
    )
    vllm = build_adapter(
        group(*overrides, "backend=vllm"),
        "vllm",
        group(*overrides, "backend=vllm", "backend.enforce_eager=true", name="backend"),
    )
    hf = build_adapter(group(*overrides), "hf")
    try:
        run_with(vllm, tmp_path / "vllm", *overrides, "backend=vllm")
        run_with(hf, tmp_path / "hf", *overrides, "backend=hf")
    finally:
        vllm.close()
        hf.close()
    ours, theirs = predictions(tmp_path / "vllm"), predictions(tmp_path / "hf")
    assert len(ours) == 18 and ours.keys() == theirs.keys()
    assert all("error" not in r for r in ours.values())
    assert {i: r.get("raw_response", r["response"]) for i, r in ours.items()} == {
        i: r.get("raw_response", r["response"]) for i, r in theirs.items()
    }


@needs_vllm
def test_the_checkpoints_repetition_penalty_applies_as_with_transformers(tiny_cache, tmp_path):
    """transformers' generate() applies generation_config.json's repetition_penalty (Qwen's
    checkpoints ship one) even when greedy; vLLM only through SamplingParams."""
    import shutil

    from model_adapters.tiny import ensure_tiny_model

    penalised = tmp_path / "penalised"
    shutil.copytree(ensure_tiny_model("qwen2_vl", tiny_cache), penalised)
    config = json.loads((penalised / "generation_config.json").read_text())
    (penalised / "generation_config.json").write_text(json.dumps({**config, "repetition_penalty": 1.5}))
    overrides = (
        "model=qwen2vl-2b",
        f"model.path={penalised}",
        "model.device=cpu",
        "model.dtype=float32",
        "task=count",
        "runner.limit=6",
        "task.max_new_tokens=24",
        "model.min_new_tokens=24",
    )
    vllm = build_adapter(
        group(*overrides, "backend=vllm"),
        "vllm",
        group(*overrides, "backend=vllm", "backend.enforce_eager=true", name="backend"),
    )
    hf = build_adapter(group(*overrides), "hf")
    plain = build_adapter(group(*model_overrides(tiny_cache), *overrides[4:]), "hf")
    try:
        vllm.load()
        assert vllm.sampling_params(24).repetition_penalty == 1.5
        run_with(vllm, tmp_path / "vllm", *overrides, "backend=vllm")
        run_with(hf, tmp_path / "hf", *overrides, "backend=hf")
        run_with(plain, tmp_path / "plain", *model_overrides(tiny_cache), *overrides[4:], "backend=hf")
    finally:
        for adapter in (vllm, hf, plain):
            adapter.close()
    ours, theirs = predictions(tmp_path / "vllm"), predictions(tmp_path / "hf")
    assert len(ours) == 6 and {i: r["response"] for i, r in ours.items()} == {
        i: r["response"] for i, r in theirs.items()
    }
    unpenalised = predictions(tmp_path / "plain")
    assert any(unpenalised[i]["response"] != theirs[i]["response"] for i in theirs)


@needs_vllm
def test_requests_of_different_lengths_in_one_chunk_match_transformers(engine, reference, monkeypatch):
    import dataclasses

    for adapter in (engine, reference):  # fixed lengths: max_new_tokens wins
        monkeypatch.setattr(adapter, "settings", dataclasses.replace(adapter.settings, min_new_tokens=64))
    requests = [
        GenerationRequest(
            f"count/{i}",
            "count",
            f"[count] Count the ship.{' x' * i}",
            "",
            Image.new("L", (60 + 9 * i, 90), 40 * i),
            max_new_tokens=n,
        )
        for i, n in enumerate((3, 17, 8, 1, 17))
    ]
    ours = engine.generate(requests)
    assert ours == [reference.generate([r])[0] for r in requests]
    params = {r.max_new_tokens: engine.sampling_params(r.max_new_tokens) for r in requests}
    assert all(p.temperature == 0 and p.max_tokens == n and p.min_tokens == n for n, p in params.items())


@needs_vllm
def test_a_request_the_engine_refuses_fails_alone(engine, reference):
    too_long = " ".join(["ship"] * 5000)  # beyond the tiny model's 4096 positions
    requests = [
        GenerationRequest(f"count/{i}", "count", prompt, "", Image.new("L", (64, 64), 9 * i), max_new_tokens=6)
        for i, prompt in enumerate(["[count] Count the ship.", too_long, "[refer] Identify 4 ship."])
    ]
    ours = engine.generate(requests)
    assert isinstance(ours[1], InferenceFailure) and "vLLM refused the request" in ours[1].message
    assert [ours[0], ours[2]] == reference.generate([requests[0], requests[2]])


@needs_vllm
def test_native_boxes_use_the_family_codec_and_prompt(tiny_cache):
    cfg = group(*model_overrides(tiny_cache), "model.box_format=native")
    adapter = build_adapter(cfg, "vllm", vllm_settings())
    request = GenerationRequest("grounding_single/0", "grounding_single", "q", "", Image.new("L", (1000, 500)))
    assert adapter.to_protocol("a ship (100,200),(300,400)", request) == "a ship {<100><100><300><200>}"
    hf = build_adapter(cfg, "hf")
    assert adapter.prompt_fingerprint() == hf.prompt_fingerprint()
    assert adapter.engine_prompt(request)["prompt"] == hf.family.render_prompt("q", (1000, 500))


@needs_vllm
def test_an_interrupted_run_resumes_batch_by_batch(engine, tiny_cache, tmp_path, monkeypatch):
    overrides = (*model_overrides(tiny_cache), "backend=vllm", "task=count", "task.max_new_tokens=8")
    import dataclasses

    monkeypatch.setattr(engine, "engine_settings", dataclasses.replace(engine.engine_settings, submit_size=100))
    whole = run_with(engine, tmp_path / "whole", *overrides)  # the 71 count samples in one batch
    monkeypatch.setattr(
        engine, "engine_settings", dataclasses.replace(engine.engine_settings, submit_size=20, chunk_size=40)
    )
    answered, killed = [], []
    stream = engine.generate_stream

    def killed_once_after_two_batches(batches):
        for responses in stream(batches):
            if len(answered) == 2 and not killed:
                killed.append(True)
                raise Killed  # the third batch's answers are lost; the fourth was queued behind it
            answered.append(len(responses))
            yield responses

    monkeypatch.setattr(engine, "generate_stream", killed_once_after_two_batches)
    with pytest.raises(Killed):
        run_with(engine, tmp_path / "cut", *overrides)
    assert len(predictions(tmp_path / "cut")) == 40 and answered == [20, 20]
    assert not engine._llm.llm_engine.has_unfinished_requests()  # the queued batch was dropped
    resumed = run_with(engine, tmp_path / "cut", *overrides)
    manifest = json.loads((tmp_path / "cut" / "manifest.json").read_text())
    assert manifest["samples_resumed"] == 40 and manifest["samples_generated"] == 31
    assert answered == [20, 20, 20, 11]
    assert resumed["metrics"] == whole["metrics"]
    assert {i: r["response"] for i, r in predictions(tmp_path / "cut").items()} == {
        i: r["response"] for i, r in predictions(tmp_path / "whole").items()
    }


@needs_vllm
def test_a_family_without_vllm_support_fails_fast_naming_hf(tiny_cache):
    with pytest.raises(RunError, match=r"does not run on backend 'vllm'.*backend=hf"):
        build_adapter(group("model=glm-edge-v-2b"), "vllm", vllm_settings())


@pytest.mark.parametrize(
    "version, refused",
    [("0.10.2", True), ("0.31.9", True), ("0.32.0", False), ("0.33.0rc1", False), ("1.0.0", False), (None, False)],
)
def test_a_vllm_older_than_the_api_used_is_refused_up_front(version, refused):
    from model_adapters.vllm_backend import check_vllm_version

    if refused:
        with pytest.raises(AdapterError, match=rf"needs vllm >= 0.32 \(found {version}\).*backend=hf"):
            check_vllm_version(version)
    else:
        check_vllm_version(version)


def config_only_checkpoint(folder: Path, config: dict) -> Path:
    """A checkpoint folder with just its config.json: enough for the checks before the engine."""
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(config))
    return folder


@needs_vllm
def test_a_checkpoint_vllm_cannot_run_fails_before_the_engine_starts(tmp_path):
    checkpoint = config_only_checkpoint(
        tmp_path / "ckpt", {"model_type": "qwen2_vl", "architectures": ["Qwen2VLNotInVLLM"]}
    )
    cfg = group("model=qwen2vl-2b", f"model.path={checkpoint}")
    adapter = build_adapter(cfg, "vllm", vllm_settings())
    with pytest.raises(AdapterError, match=r"vLLM has no implementation of \['Qwen2VLNotInVLLM'\].*backend=hf"):
        adapter.generate([GenerationRequest("count/0", "count", "q", "", Image.new("L", (64, 64)))])


@needs_vllm
def test_a_remote_code_checkpoint_vllm_does_not_implement_is_refused_naming_hf(tmp_path, monkeypatch):
    from model_adapters.internvl2_5 import InternVL25

    monkeypatch.setattr(InternVL25, "vllm_remote_types", ())  # as if vLLM had no InternVLChatModel
    checkpoint = config_only_checkpoint(
        tmp_path / "ckpt", {"model_type": "internvl_chat", "architectures": ["InternVLChatModel"]}
    )
    cfg = group("model=internvl2_5-1b", f"model.path={checkpoint}", "model.trust_remote_code=true")
    adapter = build_adapter(cfg, "vllm", vllm_settings())
    with pytest.raises(AdapterError, match=r"remote-code layout \(internvl_chat\).*backend=hf"):
        adapter.load()


@needs_vllm
@pytest.mark.parametrize(
    "generation, message",
    [
        ({"do_sample": True}, "decodes greedily"),
        ({"num_beams": 4}, "decodes greedily"),
        ({"repetition_penalty": 1.1}, "backend.sampling"),
    ],
)
def test_non_greedy_or_transformers_only_generation_settings_are_refused(generation, message):
    cfg = group("model=qwen2vl-2b")
    with pytest.raises(RunError, match=message):
        build_adapter({**cfg, "generation": generation}, "vllm", vllm_settings())


# -- the runner's chunk stream (no vLLM needed) ------------------------------------------------
@dataclass
class ChunkedOracle(OracleBackend):
    """The oracle with an engine's interface: its own chunk size, answers as a stream."""

    chunks: list = None
    fail_at_chunk: int | None = None
    closed: bool = False

    def preferred_batch_size(self, configured: int) -> int:
        return 50

    def generate_stream(self, batches):
        try:
            for requests in batches:
                self.chunks.append(sorted({r.subset for r in requests}))
                if len(self.chunks) == self.fail_at_chunk:
                    raise RuntimeError("engine died")
                yield self.generate(requests)
        finally:
            self.closed = True


ORACLE = OracleSettings(name="oracle", backend="oracle", family=None, load_images=False, delay_s=0.0)


def oracle_run(tmp_path, adapter, *overrides):
    return run_with(adapter, tmp_path / "run", "model=oracle", "task=all", *overrides)


def test_chunks_run_across_subsets_and_land_in_each_subsets_file(tmp_path):
    adapter = ChunkedOracle(name="oracle", settings=ORACLE, chunks=[])
    result = oracle_run(tmp_path, adapter)
    assert len(adapter.chunks) == 9 and any(len(subsets) > 1 for subsets in adapter.chunks)  # 425 = 8 x 50 + 25
    assert result["metrics"]["avg"] == 100 and sum(result["n"].values()) == 425
    by_file = {path.stem: len(path.read_text().splitlines()) for path in (tmp_path / "run" / "predictions").glob("*")}
    assert by_file == result["n"] and adapter.closed


def test_a_failing_stream_goes_on_batch_by_batch(tmp_path):
    adapter = ChunkedOracle(name="oracle", settings=ORACLE, chunks=[], fail_at_chunk=3)
    result = oracle_run(tmp_path, adapter)
    assert result["metrics"]["avg"] == 100 and sum(result["inference_failures"].values()) == 0
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert any("generation stream failed" in e for e in manifest["events"]) and len(adapter.chunks) == 3


def test_a_run_that_stops_early_closes_the_stream(tmp_path, monkeypatch):
    adapter = ChunkedOracle(name="oracle", settings=ORACLE, chunks=[])
    down = InferenceFailure("down", transient=True)  # permanent ones stop sooner, within chunk 1
    monkeypatch.setattr(adapter, "generate", lambda requests: [down] * len(requests))
    with pytest.raises(RunError, match="60 samples failed in a row"):
        oracle_run(tmp_path, adapter, "runner.max_consecutive_failures=60")
    assert adapter.closed and len(adapter.chunks) == 2


# -- the checkpoint's generation_config (no vLLM needed) ------------------------------------------
def test_checkpoint_sampling_reads_repetition_penalty_and_refuses_what_vllm_cannot_apply(tmp_path):
    from model_adapters.vllm_sampling import checkpoint_sampling

    assert checkpoint_sampling(str(tmp_path), None) == {}  # no generation_config.json
    (tmp_path / "generation_config.json").write_text(
        json.dumps({"eos_token_id": [2, 3], "repetition_penalty": 1.05, "temperature": 0.1, "top_k": 1})
    )
    assert checkpoint_sampling(str(tmp_path), None) == {"repetition_penalty": 1.05}
    (tmp_path / "generation_config.json").write_text(json.dumps({"repetition_penalty": 1.0}))
    assert checkpoint_sampling(str(tmp_path), None) == {}
    (tmp_path / "generation_config.json").write_text(json.dumps({"no_repeat_ngram_size": 3}))
    with pytest.raises(AdapterError, match="sets no_repeat_ngram_size.*backend=hf"):
        checkpoint_sampling(str(tmp_path), None)


def test_a_family_that_keeps_tokenizer_specials_out_is_refused_on_vllm(monkeypatch):
    from family_helpers import make_family

    family = make_family("qwen2_vl")
    monkeypatch.setattr(type(family), "tokenizer_specials", False)
    with pytest.raises(AdapterError, match="special tokens.*backend=hf"):
        VLLMBackend.create(family.settings, family, vllm_settings())


def test_the_samples_of_one_image_are_queued_next_to_each_other(tmp_path):
    """So its pixels are decoded and prepared once for all of them (tests/test_image_reuse.py)."""
    from family_helpers import make_family

    family = make_family("qwen2_vl")
    backend = VLLMBackend.create(family.settings, family, vllm_settings())
    paths = {}
    for name, size in (("a", (20, 10)), ("b", (10, 20)), ("c", (30, 30))):
        paths[name] = str(tmp_path / f"{name}.png")
        Image.new("L", size).save(paths[name])
    samples = [("long question", "a"), ("q", "c"), ("q", "b"), ("question", "a"), ("q", "a"), ("other q", "b")]
    ordered = sorted(samples, key=lambda s: backend.batch_order_key(s[0], paths[s[1]]))
    images = [name for _, name in ordered]
    assert images[-1] == "c" and images[:5] in (["a"] * 3 + ["b"] * 2, ["b"] * 2 + ["a"] * 3)
    assert [q for q, name in ordered if name == "a"] == ["q", "question", "long question"]
