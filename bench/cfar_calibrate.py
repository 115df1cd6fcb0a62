"""Calibrate model=cfar without peeking: a grid search on a validation split of real SAR images,
scored with the benchmark's own metrics; the test split is only built, never looked at here.

    python bench/cfar_calibrate.py --real-sar ../shared/real-sar --work /tmp/cfar-calib [--write]

1. Split: the images of `annotations.jsonl` that have boxes go to `val` or `test` by a hash of
   their path (BLAKE2b, first byte even: val), so the split is fixed and independent of any score.
2. Build both with `sarbench.build` (`--split val` / `--split test`, images linked, not copied)
   into `--work` (outside the repository: real images and anything derived from them are never
   committed).
3. Search on val only, objective = mean(task.count, task.refer) (identify answers do not depend on
   the detector): stage 1 the window and threshold (scale x guard x train x pfa), stage 2 the
   clean-up (closing x opening x min_pixels) at the best window, stage 3 the window and threshold
   again (guard x train x pfa) at the best scale and clean-up. `--write` puts the winner into conf/model/cfar.yaml.
4. Then run the measured row on the test split: the command is printed at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import re
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import yaml
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from model_adapters.cfar import amplitude_pixels, count_answer, refer_answer  # noqa: E402
from model_adapters.cfar_detector import CFARParams, cfar_ratio, detections_of, statistic_of  # noqa: E402
from sarbench.build import BuildOptions, build  # noqa: E402
from sarbench.data import load_dataset  # noqa: E402
from sarbench.score_predictions import score_pairs  # noqa: E402

CONFIG = REPO / "conf" / "model" / "cfar.yaml"
SUBSETS = ["count", "refer_single", "refer_multi"]
PFAS = (1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-8)
WINDOWS = {"scale": ("linear", "log"), "guard": (8, 12, 16, 24), "train": (4, 8, 16)}
CLEAN_UP = {"closing": (0, 1, 2, 4), "opening": (0, 1), "min_pixels": (10, 20, 40, 80, 160)}


def split_of(image: str) -> str:
    return "val" if hashlib.blake2b(image.encode()).digest()[0] % 2 == 0 else "test"


def build_splits(real_sar: Path, work: Path) -> dict[str, Path]:
    records = [json.loads(line) for line in (real_sar / "annotations.jsonl").read_text().splitlines() if line]
    roots = {}
    for split in ("val", "test"):
        chosen = [r for r in records if r.get("objects") and split_of(r["image"]) == split]
        annotations = work / f"{split}.jsonl"
        annotations.parent.mkdir(parents=True, exist_ok=True)
        annotations.write_text("".join(json.dumps(r) + "\n" for r in chosen))
        roots[split] = work / split
        report = build(BuildOptions(annotations, "jsonl", roots[split], images=real_sar, split=split, link="symlink"))
        datasets = sorted({r["dataset"] for r in chosen})
        per = {d: sum(r["dataset"] == d for r in chosen) for d in datasets}
        print(f"{split}: {len(chosen)} images {per}; records {dict(report['records'])}")
    return roots


class Search:
    """Val samples with their images decoded once, and the statistic cached per window."""

    def __init__(self, root: Path) -> None:
        dataset = load_dataset(root, root, subsets=SUBSETS, split="val")
        self.samples = [s for subset in SUBSETS for s in dataset.samples.get(subset, [])]
        self.pixels = {}
        for sample in self.samples:
            if sample.image not in self.pixels:
                with Image.open(sample.image) as image:
                    self.pixels[sample.image] = amplitude_pixels(image)
        self._statistics: dict = {}

    def statistic(self, image: str, params: CFARParams):
        """Kept for the current window only (the grids vary pfa and clean-up innermost)."""
        window = (params.detector, params.scale, params.guard, params.train, params.downsample, params.os_rank)
        if window not in self._statistics:
            self._statistics = {window: {}}
        cached = self._statistics[window]
        if image not in cached:
            cached[image] = statistic_of(self.pixels[image], params)
        return cached[image]

    def score(self, params: CFARParams) -> tuple[float, dict]:
        found = {}
        for image, pixels in self.pixels.items():
            height, width = pixels.shape
            ratio = cfar_ratio(None, params, self.statistic(image, params))
            found[image] = (detections_of(ratio, params, width, height), width, height)
        pairs: dict[str, list] = {}
        for s in self.samples:
            detections, width, height = found[s.image]
            answer = (
                count_answer(detections) if s.subset == "count" else refer_answer(detections, s.prompt, width, height)
            )
            pairs.setdefault(s.subset, []).append((answer, s.reference))
        metrics = score_pairs(pairs, captions=False)["metrics"]
        return (metrics["task.count"] + metrics["task.refer"]) / 2, metrics

    def grid(self, base: CFARParams, axes: dict, log: list) -> CFARParams:
        best = None
        for values in itertools.product(*axes.values()):
            params = replace(base, **dict(zip(axes, values)))
            objective, metrics = self.score(params)
            log.append((objective, params, metrics))
            print(f"  {objective:6.2f}  {dict(zip(axes, values))}", flush=True)
            if best is None or objective > best[0]:
                best = (objective, params)
        return best[1]


def write_config(params: CFARParams) -> None:
    """The chosen values into conf/model/cfar.yaml, keeping its comments."""
    text = CONFIG.read_text()
    for key, value in asdict(params).items():
        # YAML 1.1 (PyYAML, OmegaConf) reads 1e-2 as a string: floats keep a dot (1.0e-02)
        shown = f"{value:.1e}" if key == "pfa" else value if isinstance(value, str) else json.dumps(value)
        text = re.sub(rf"(?m)^({key}:\s*)\S+", lambda m, shown=shown: m.group(1) + shown, text)
    CONFIG.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real-sar", type=Path, default=REPO.parent / "shared" / "real-sar")
    parser.add_argument("--work", type=Path, default=Path("/tmp/cfar-calib"))
    parser.add_argument("--write", action="store_true", help="write the chosen values into conf/model/cfar.yaml")
    args = parser.parse_args(argv)
    if not (args.real_sar / "annotations.jsonl").is_file():
        print(f"no {args.real_sar / 'annotations.jsonl'}: nothing to calibrate on", file=sys.stderr)
        return 2
    start = time.perf_counter()
    roots = build_splits(args.real_sar, args.work.resolve())
    search = Search(roots["val"])
    config = yaml.safe_load(CONFIG.read_text())
    base = CFARParams(**{k: v for k, v in config.items() if k in CFARParams.__dataclass_fields__})
    print(f"val: {len(search.samples)} count/refer samples on {len(search.pixels)} images")
    log: list = []
    best = search.grid(replace(base, detector="ca"), {**WINDOWS, "pfa": PFAS}, log)
    best = search.grid(best, CLEAN_UP, log)
    best = search.grid(best, {"guard": WINDOWS["guard"], "train": WINDOWS["train"], "pfa": PFAS}, log)
    configured = search.score(base)[0]
    log.sort(key=lambda entry: -entry[0])
    print(f"{len(log)} settings tried in {time.perf_counter() - start:.0f} s; best on val:")
    seen = set()
    for objective, params, metrics in log:
        if params in seen or len(seen) == 10:
            continue
        seen.add(params)
        changed = {k: v for k, v in asdict(params).items() if v != getattr(base, k)}
        print(
            f"  {objective:6.2f}  count {metrics['task.count']:.2f} refer {metrics['task.refer']:.2f}  "
            f"{changed or 'as configured'}"
        )
    print(f"configured values score {configured:.2f} on val")
    print("chosen:", {k: v for k, v in asdict(best).items()})
    if args.write:
        write_config(best)
        print(f"written to {CONFIG.relative_to(REPO)}")
    print(
        "measured row on the held-out split:\n"
        f"  python -m sarbench model=cfar data=built data.root={roots['test']} data.name=real-sar-test "
        "data.split=test task=all"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
