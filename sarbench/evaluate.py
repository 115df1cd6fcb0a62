"""From a composed config to a finished run: data, adapter, runner, saved config, printed table."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from model_adapters import AdapterError, ModelAdapter, build_model
from sarbench import __version__
from sarbench.data import Dataset, load_dataset
from sarbench.records import DataError
from sarbench.reports.console import format_metrics
from sarbench.run_settings import runner_settings
from sarbench.runner import RunError, Runner
from sarbench.subsets import SUBSETS, split_file_stem, subset_from_filename

log = logging.getLogger("sarbench")

__all__ = ["RunError", "run_from_config", "build_adapter", "load_run_data"]


def data_root(data_cfg: dict[str, Any]) -> Path:
    root = data_cfg.get("root")
    if root == "???":  # OmegaConf's unset marker, as resolved into a plain container
        root = None
    if root is None:
        if data_cfg.get("name") != "sample":
            raise RunError("data.root is not set; e.g. data=sarchat data.root=/path/to/SARChat")
        from sarbench.build import sample_data_dir

        return sample_data_dir()
    path = Path(str(root)).expanduser()
    if not path.exists():
        raise RunError(f"data.root {path} does not exist")
    return path


def load_run_data(data_cfg: dict[str, Any], subsets: list[str]) -> Dataset:
    """Load and validate every selected record before any inference (fail fast)."""
    split = str(data_cfg.get("split") or "test")
    source = None
    if "repo" in data_cfg:  # data=hub: fetched and prepared into a folder like a local one
        from sarbench.hub import resolve_hub_data

        try:
            hub = resolve_hub_data(data_cfg)
        except DataError as exc:
            raise RunError(f"malformed data, nothing was run: {exc}") from None
        root, image_root, source = hub.files_dir, hub.image_root, hub.source
    else:
        root = image_root = data_root(data_cfg)
    try:
        dataset = load_dataset(
            root, image_root, subsets=subsets, split=split, collect_errors=bool(data_cfg.get("collect_errors", False))
        )
    except DataError as exc:
        raise RunError(f"malformed data, nothing was run: {exc}") from None
    dataset.source = source
    for issue in dataset.issues:
        log.warning("left out malformed record: %s record %s: %s", issue.path, issue.index, issue.problem)
    present = {subset_from_filename(path.name) for path in dataset.files}
    missing = [s for s in subsets if s not in present]
    if missing:
        raise RunError(
            f"{root} has no {split} file for {', '.join(missing)} (expected "
            f"{', '.join(split_file_stem(s, split) + '.json' for s in missing)}); nothing was "
            "run. Select the tasks present, e.g. task=count"
        )
    for subset in subsets:
        if subset not in dataset.samples:
            log.warning("%s has no records in %s: it is not evaluated (its columns stay absent)", subset, root)
    return dataset


def build_adapter(model_cfg: dict[str, Any], backend: str, backend_cfg: dict[str, Any] | None = None) -> ModelAdapter:
    """The configured model on its backend; a setting or checkpoint problem is a RunError."""
    settings = {k: v for k, v in (backend_cfg or {}).items()}
    try:
        return build_model(model_cfg, backend, settings)
    except AdapterError as exc:
        raise RunError(str(exc)) from None


def run_from_config(cfg: DictConfig) -> dict:
    config = OmegaConf.to_container(cfg, resolve=True)
    subsets = list(config["task"]["subsets"])
    unknown = [s for s in subsets if s not in SUBSETS]
    if unknown:
        raise RunError(f"task {config['task']['name']!r} names unknown subsets {unknown}")
    out = Path(config["out"])
    if out.exists() and not out.is_dir():
        raise RunError(f"out={out} is a file; give a folder for the run's results")
    dataset = load_run_data(config["data"], subsets)
    settings = runner_settings(config["runner"])
    adapter = build_adapter(config["model"], config["backend"]["name"], config["backend"])
    max_new_tokens = _max_new_tokens(config["task"], subsets)
    log.info(
        "sarbench %s: model %s (%s) on %s, task %s",
        __version__,
        config["model"]["name"],
        type(adapter).__name__,
        config["data"]["name"],
        config["task"]["name"],
    )
    try:
        runner = Runner(
            adapter,
            dataset,
            subsets,
            out,
            settings,
            max_new_tokens,
            config,
            meteor=config.get("scoring", {}).get("meteor"),
        )
        result = runner.run()
    finally:
        adapter.close()
    if "partial" in result:  # a shard done, siblings not yet: nothing is scored yet
        print(f"{result['shard']} done ({result['partial']} done) -> {out}; scored when the last shard finishes")
        return result
    title = f"{config['model']['name']} on {config['data']['name']} ({config['task']['name']}) -> {out}"
    print(format_metrics(result, title=title))
    return result


def _max_new_tokens(task_cfg: dict[str, Any], subsets: list[str]) -> dict[str, int]:
    # The default lives in conf/task_base/generation.yaml only; a task config without it is an error.
    if task_cfg.get("max_new_tokens") is None:
        raise RunError("task.max_new_tokens is not set (conf/task_base/generation.yaml sets it for every task)")
    value = task_cfg["max_new_tokens"]
    if isinstance(value, dict):
        if "default" not in value and not set(subsets) <= set(value):
            missing = sorted(set(subsets) - set(value))
            raise RunError(f"task.max_new_tokens has no 'default' and no value for {missing}")
        return {s: int(value.get(s, value.get("default"))) for s in subsets}
    return {s: int(value) for s in subsets}
