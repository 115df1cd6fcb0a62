"""The CFAR baseline (model=cfar): threshold factors, false-alarm rates on speckle, planted
targets at a known SNR, boxes in original pixels, answers in the benchmark's formats, and the
end-to-end run with its not-attempted tasks in metrics.json and the leaderboard."""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from metrics.parsing import parse_answer
from model_adapters import AdapterError, GenerationRequest, build_model
from model_adapters.cfar import NOT_ATTEMPTED, count_answer, identify_answer, refer_answer
from model_adapters.cfar_detector import (
    CFARParams,
    Detection,
    ca_factor,
    cfar_ratio,
    detect,
    os_factor,
    threshold_factor,
)
from sarbench.leaderboard import main as leaderboard

REPO = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((REPO / "conf" / "model" / "cfar.yaml").read_text())
PARAM_NAMES = {f.name for f in dataclasses.fields(CFARParams)}


def params(**overrides) -> CFARParams:
    """The committed configuration, with overrides."""
    return CFARParams(**{**{k: v for k, v in CONFIG.items() if k in PARAM_NAMES}, **overrides})


def speckle(rng, shape, looks, mean_amplitude=60.0):
    """Amplitude of L-look gamma speckle (mean intensity mean_amplitude^2)."""
    return mean_amplitude * np.sqrt(rng.gamma(looks, 1.0 / looks, size=shape))


# --- threshold factors -------------------------------------------------------------------------


def test_ca_factor_matches_the_exponential_closed_form():
    for n, pfa in ((16, 1e-2), (80, 1e-4), (440, 1e-6)):
        assert ca_factor(pfa, n, 1.0) == pytest.approx(n * (pfa ** (-1 / n) - 1), rel=1e-9)


def test_os_factor_general_looks_agrees_with_the_exponential_closed_form():
    closed = os_factor(1e-3, 96, 72, 1.0)  # product formula (Rohling 1983)
    integrated = os_factor(1e-3, 96, 72, 1.0 + 1e-9)  # order-statistic integral
    assert integrated == pytest.approx(closed, rel=1e-4)


def test_threshold_grows_as_the_false_alarm_rate_falls():
    factors = [threshold_factor(params(pfa=p)) for p in (1e-2, 1e-4, 1e-6)]
    assert factors == sorted(factors) and factors[0] > 1


# --- false alarms on speckle only ---------------------------------------------------------------


@pytest.mark.parametrize(
    "detector,scale,looks",
    [("ca", "linear", 1), ("ca", "linear", 3), ("ca", "log", 1), ("ca", "log", 3), ("os", "linear", 3)],
)
def test_speckle_only_scene_gives_false_alarms_near_the_chosen_rate(detector, scale, looks):
    rng = np.random.default_rng(7)
    pfa = 1e-3
    chosen = params(detector=detector, scale=scale, looks=float(looks), pfa=pfa, guard=2, train=3, downsample=1)
    intensity = speckle(rng, (512, 512), looks) ** 2
    rate = float((cfar_ratio(intensity, chosen) > 1).mean())
    # ~262 expected exceedances; overlapping windows correlate them: +-30% is ~4 standard deviations
    assert 0.7 * pfa < rate < 1.3 * pfa, rate


def test_speckle_only_scene_leaves_few_components_after_clean_up():
    rng = np.random.default_rng(3)
    chosen = params(looks=3.0)
    found = detect(speckle(rng, (384, 384), 3.0), chosen)
    assert len(found) <= 3, [d.box for d in found]


# --- planted targets ------------------------------------------------------------------------------

TARGETS = [(40, 50, 10, 6), (200, 90, 8, 8), (120, 300, 6, 12), (330, 330, 9, 9), (60, 340, 12, 5)]  # >= 60 px


def planted_scene(rng, snr_db: float, looks: float = 3.0, shape=(400, 420)):
    """Speckle with rectangular targets whose mean intensity is `snr_db` above the clutter's.
    Returns the amplitude image and the targets' boxes (x1, y1, x2, y2)."""
    intensity = speckle(rng, shape, looks) ** 2
    clutter = 60.0**2
    boxes = []
    for x, y, w, h in TARGETS:
        target = clutter * 10 ** (snr_db / 10) * rng.gamma(looks, 1.0 / looks, size=(h, w))
        intensity[y : y + h, x : x + w] = target
        boxes.append((x, y, x + w, y + h))
    return np.sqrt(intensity), boxes


def iou(a, b) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(0, w) * max(0, h)
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


@pytest.mark.parametrize("detector", ["ca", "os"])
def test_targets_at_15_db_are_found_with_their_boxes(detector):
    rng = np.random.default_rng(11)
    image, boxes = planted_scene(rng, snr_db=15.0)
    # the committed windows and clean-up at a nominal pfa for this clutter (3 looks, 1e-4)
    found = detect(image, params(detector=detector, looks=3.0, pfa=1e-4))
    for box in boxes:
        best = max((iou(box, d.box) for d in found), default=0.0)
        assert best >= 0.5, (box, [d.box for d in found])
    assert len(found) <= len(boxes) + 2
    planted = [d for d in found if max(iou(d.box, b) for b in boxes) >= 0.5]
    assert min(d.score for d in planted) > max((d.score for d in found if d not in planted), default=0.0)


def test_targets_at_0_db_are_not_detections():
    rng = np.random.default_rng(12)
    image, boxes = planted_scene(rng, snr_db=0.0)
    found = detect(image, params(looks=3.0, pfa=1e-4))
    assert not any(iou(box, d.box) >= 0.5 for box in boxes for d in found)


def test_downsampled_detection_gives_boxes_in_original_pixels():
    rng = np.random.default_rng(5)
    image, boxes = planted_scene(rng, snr_db=18.0, shape=(401, 419))  # sides not multiples of 2 or 3
    for k in (2, 3):
        found = detect(image, params(downsample=k, guard=3, train=3, looks=3.0, min_pixels=4))
        for box in boxes:
            best = max(found, key=lambda d: iou(box, d.box))
            assert all(abs(a - b) <= 2 * k for a, b in zip(best.box, box)), (k, box, best.box)
        assert all(0 <= d.box[0] < d.box[2] <= 419 and 0 <= d.box[1] < d.box[3] <= 401 for d in found)


def test_filters_drop_small_huge_and_elongated_components():
    image = np.full((200, 200), 20.0)
    image[10:12, 10:12] = 250  # 4 pixels
    image[50:53, 20:80] = 250  # 3 x 60: elongated 20:1
    image[120:135, 120:140] = 250  # kept
    found = detect(image, params(min_pixels=9, max_elongation=10.0, closing=0, opening=0, guard=20, train=4))
    assert [d.box for d in found] == [(120, 120, 140, 135)]


def test_bad_settings_are_refused_naming_them():
    with pytest.raises(ValueError, match="detector='cell'"):
        params(detector="cell")
    config = {**CONFIG, "pfa": 1.5}
    with pytest.raises(AdapterError, match="pfa=1.5"):
        build_model(config)


# --- answers ------------------------------------------------------------------------------------


def detections(*boxes):
    return [Detection(box, float(10 - i), 20) for i, box in enumerate(boxes)]


def test_answers_parse_as_the_benchmark_reads_them():
    found = detections((10, 10, 30, 20), (200, 150, 220, 190), (5, 180, 15, 195))
    parsed = parse_answer("count", count_answer(found))
    assert parsed.count == 3 and list(parsed.boxes) == [(10, 10, 30, 20), (200, 150, 220, 190), (5, 180, 15, 195)]
    assert parse_answer("count", count_answer(found[:1])).count == 1
    assert parse_answer("count", count_answer([])).count == 0
    # refer: as many as asked, strongest first, each with its cell
    text = refer_answer(found, "[refer] Identify 2 ship.", 240, 200)
    assert text == "{<10><10><30><20>} (top left){<200><150><220><190>} (bottom right)"
    assert len(parse_answer("refer_multi", refer_answer(found, "[refer] Where are the ships?", 240, 200)).boxes) == 3
    assert parse_answer("refer_single", refer_answer([], "[refer] Identify 1 ship.", 240, 200)).boxes == ()
    answer = identify_answer("[identify] What is at {<200><150><220><190>}?", 240, 200)
    mentions = dict(parse_answer("identify_single", answer).mentions)
    assert mentions == {("cell", "bottom right"): 1, ("shape", "tall"): 1, ("size", "very small"): 1}


def test_identify_without_a_box_is_a_failure_not_an_answer():
    assert identify_answer("[identify] What is there?", 100, 100).message.startswith("identify question names no")


def test_adapter_answers_from_the_image_and_never_reads_the_reference():
    adapter = build_model(CONFIG)
    rng = np.random.default_rng(11)
    image, boxes = planted_scene(rng, snr_db=15.0)
    pil = Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).convert("RGB")
    requests = [
        GenerationRequest("count/0", "count", "[count] How many ship?", "a.png", pil, reference="p {<1><1><2><2>}"),
        GenerationRequest("refer_multi/0", "refer_multi", "[refer] Identify 2 ship.", "a.png", pil, reference="x"),
    ]
    count, refer = adapter.generate(requests)
    assert parse_answer("count", count).count == len(adapter.detections(requests[0])) >= len(boxes)
    assert "<1><1><2><2>" not in count
    assert len(parse_answer("refer_multi", refer).boxes) == 2
    assert set(adapter.not_attempted()) == {"classify", "describe", "grounding_single", "grounding_multi"}


# --- end to end -------------------------------------------------------------------------------------


def test_run_on_the_bundled_sample_and_leaderboard_marks_not_attempted(tmp_path, capsys):
    out = tmp_path / "cfar"
    done = subprocess.run(
        [sys.executable, "-m", "sarbench", "model=cfar", "task=all", f"out={out}", "runner.progress=false"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "classify: not attempted" in done.stdout
    result = json.loads((out / "metrics.json").read_text())
    assert result["not_attempted"] == NOT_ATTEMPTED
    assert set(result["n"]) == {"count", "identify_single", "identify_multi", "refer_single", "refer_multi"}
    assert not any(m.startswith(("classify", "describe", "grounding", "task.grounding")) for m in result["metrics"])
    assert not (out / "predictions" / "classify.jsonl").exists()
    assert result["metrics"]["identify.single"] == pytest.approx(75.0)  # cell, size, shape; no category
    assert result["metrics"]["count.iou50"] > 0 and not math.isnan(result["metrics"]["avg"])
    capsys.readouterr()
    assert leaderboard([str(tmp_path)]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("| cfar"))
    assert "[not attempted: classify, describe, grounding] ‡" in row  # listed, not ranked against full rows
    assert row.count("–") == 5  # grounding x3, describe, classify: absent, never zero


def test_a_task_it_does_not_attempt_is_refused_up_front(tmp_path):
    from hydra import compose, initialize_config_dir

    from sarbench.__main__ import CONF_DIR
    from sarbench.evaluate import run_from_config
    from sarbench.runner import RunError

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base=None):
        cfg = compose(config_name="config", overrides=["model=cfar", "task=classify", f"out={tmp_path}"])
    with pytest.raises(RunError, match="attempts none of classify: classify: names the categories"):
        run_from_config(cfg)
