"""bench/peers.py's export of the bundled sample to an lmms-eval task: what it compares stays the
same work (every sample, the same question text, the same prompt) without needing .venv-peers."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO
from family_helpers import make_family

pytest.importorskip("transformers")
pytest.importorskip("torchvision")


def load_module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def task(tmp_path_factory):
    out = tmp_path_factory.mktemp("peers-task")
    load_module("export_samples", REPO / "bench" / "peers" / "export_samples.py").export(out, 24)
    return out


class TaskLoader(yaml.SafeLoader):
    pass


TaskLoader.add_constructor("!function", lambda loader, node: ("function", loader.construct_scalar(node)))


def test_every_sample_is_exported_with_sarbench_question_and_image(task):
    from sarbench.build import sample_data_dir
    from sarbench.data import load_dataset

    dataset = load_dataset(sample_data_dir(), sample_data_dir())
    rows = [json.loads(line) for line in (task / "samples.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == [s.id for s in dataset.all_samples()]
    expected = {s.id: s for s in dataset.all_samples()}
    for row in rows:
        sample = expected[row["id"]]
        assert (row["subset"], row["question"], row["reference"]) == (sample.subset, sample.prompt, sample.reference)
        assert row["image"] == str(Path(sample.image).resolve())

    config = yaml.load((task / "sarbench_sample.yaml").read_text(), Loader=TaskLoader)
    assert config["dataset_path"] == "json"
    assert config["dataset_kwargs"]["data_files"]["test"] == str(task / "samples.jsonl")
    assert config["generation_kwargs"]["max_new_tokens"] == 24
    assert config["doc_to_text"] == ("function", "utils.doc_to_text")
    utils = load_module("peers_task_utils", task / "utils.py")
    assert utils.doc_to_visual(rows[0])[0].mode == "RGB"
    assert utils.process_results(rows[0], [rows[0]["reference"] + " "]) == {"exact_match": 1.0}


def test_the_peers_get_the_tiny_checkpoint_and_its_pixel_budget(tmp_path, monkeypatch):
    """lmms-eval's qwen2_vl model overrides the processor's pixel budget with its own default, so
    bench/peers.py passes the checkpoint's: read from the files transformers saved."""
    from model_adapters.tiny import qwen2_vl

    monkeypatch.setenv("SARBENCH_TINY_CACHE", str(tmp_path))
    model = load_module("export_samples", REPO / "bench" / "peers" / "export_samples.py").tiny_model()
    assert Path(model["path"]).parent == tmp_path
    assert (model["min_pixels"], model["max_pixels"]) == (qwen2_vl.MIN_PIXELS, qwen2_vl.MAX_PIXELS)


def test_lmms_eval_qwen2_vl_prompt_equals_sarbench_prompt(task, tmp_path):
    """lmms-eval's qwen2_vl model builds [system, user: image then doc_to_text] and renders it with
    the checkpoint's chat template: with the task's leading newline that is sarbench's prompt text."""
    from transformers import AutoProcessor

    from model_adapters.tiny import ensure_tiny_model

    processor = AutoProcessor.from_pretrained(ensure_tiny_model("qwen2_vl", tmp_path))
    utils = load_module("peers_task_utils", task / "utils.py")
    family = make_family("qwen2_vl")
    rows = [json.loads(line) for line in (task / "samples.jsonl").read_text().splitlines()]
    for row in {r["subset"]: r for r in rows}.values():  # one question per subset
        messages = [
            {"role": "system", "content": "You are a helpful assistant."},
            {
                "role": "user",
                "content": [{"type": "image", "image": "x"}, {"type": "text", "text": utils.doc_to_text(row)}],
            },
        ]
        lmms = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        assert lmms == family.render_prompt(row["question"]), row["id"]


def test_every_peer_system_starts_with_empty_compile_caches_of_its_own(tmp_path):
    peers = load_module("peers", REPO / "bench" / "peers.py")
    first = peers.cold_caches({"PATH": "/bin"}, tmp_path / "caches-1")
    second = peers.cold_caches({"PATH": "/bin"}, tmp_path / "caches-2")
    keys = ("VLLM_CACHE_ROOT", "TORCHINDUCTOR_CACHE_DIR")
    assert first["PATH"] == "/bin" and all(first[k] != second[k] for k in keys)
    assert not any(Path(first[k]).exists() for k in keys)
