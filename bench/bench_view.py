"""Benchmark of `sarbench view` at the full test set's size: building the page, its size, and the
page in headless Chromium (load, filters, text search, next page).

    python bench/bench_view.py [--scale 1.0] [--images 2000] [--no-browser]

Writes a run folder of 226,636 synthetic predictions in the paper's task proportions (the
generator of bench_score.py: jittered, missing and extra boxes, wrong words), each with a
prompt and one of `--images` distinct 512x512 speckle images, scores it with details
(`sarbench score --details`), then builds the page with embedded thumbnails and with linked
originals (`--thumbnail-px 0`). Speckle is noise, the worst case for JPEG: real SAR thumbnails
are smaller. Chromium (scripts/setup_browser.sh) opens each page; the figures are wall times of
the page's own work: load_s until the first page of samples is drawn (reading the file, inflating
and parsing the data, drawing), parse_ms/rows_ms/ready_ms the page's own timings of those steps.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench_score import SIZES, make_pair  # noqa: E402
from PIL import Image  # noqa: E402

from metrics.benchmark import subset as subset_entry  # noqa: E402
from sarbench.score import main as score_main  # noqa: E402
from sarbench.view.__main__ import write_view  # noqa: E402


def write_run(folder: Path, scale: float, n_images: int, seed: int = 0) -> int:
    rng = random.Random(seed)
    images = folder / "images"
    images.mkdir(parents=True)
    for k in range(n_images):
        Image.effect_noise((512, 512), 40).save(images / f"{k}.png")
    predictions = folder / "predictions"
    predictions.mkdir()
    total = 0
    for name, size in SIZES.items():
        tag = subset_entry(name).task
        with open(predictions / f"{name}.jsonl", "w") as handle:
            for i in range(max(1, round(size * scale))):
                response, reference = make_pair(rng, name)
                question = f"<image>\n[{tag}] What do you see in this SAR image (sample {i})?"
                line = {
                    "id": f"{name}/{i}",
                    "response": response,
                    "labels": reference,
                    "messages": [{"role": "user", "content": question}],
                    "images": [str(images / f"{(total + i) % n_images}.png")],
                }
                handle.write(json.dumps(line) + "\n")
            total += max(1, round(size * scale))
    args = [str(predictions), "--out", str(folder / "metrics.json"), "--details", str(folder / "details.jsonl")]
    assert score_main([*args, "--no-meteor", "--quiet"]) == 0
    return total


def browser_figures(page: Path) -> dict:
    subprocess.run(["bash", str(REPO / "scripts" / "setup_browser.sh")], check=True)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.add_argument("--window-size=1400,1000")
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    driver.set_page_load_timeout(300)
    try:
        start = time.perf_counter()
        driver.get(page.as_uri())
        ready = "return document.body.dataset.timings"  # set once the first page of samples is drawn
        WebDriverWait(driver, 300, poll_frequency=0.05).until(lambda d: d.execute_script(ready))
        load = time.perf_counter() - start
        timed = """
            const t0 = performance.now();
            const control = document.getElementById(arguments[0]);
            control.value = arguments[1];
            if (arguments[2] !== null) document.getElementById("f-text").value = arguments[2];
            control.dispatchEvent(new Event("change", {bubbles: true}));
            return [performance.now() - t0, document.getElementById("count").dataset.matching];
        """
        figures = {"load_s": load, **json.loads(driver.execute_script(ready))}
        figures["filter_subset"] = driver.execute_script(timed, "f-subset", "refer_multi", None)
        figures["filter_wrong"] = driver.execute_script(timed, "f-outcome", "wrong", None)
        figures["text_search"] = driver.execute_script(timed, "f-subset", "", "tank")
        figures["sort_worst"] = driver.execute_script(timed, "f-sort", "worst", None)
        flip = "const t0 = performance.now(); document.getElementById('next').click(); return performance.now() - t0;"
        figures["next_page_ms"] = driver.execute_script(flip)
        figures["js_heap_mb"] = driver.execute_script("return performance.memory.usedJSHeapSize / 1e6")
        figures["severe"] = [e["message"][:200] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    finally:
        driver.quit()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, load average {load:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        start = time.perf_counter()
        n = write_run(run, args.scale, args.images)
        print(f"wrote and scored {n:,} samples in {time.perf_counter() - start:.1f} s")
        for label, px in (("embedded 256 px thumbnails", 256), ("linked originals (--thumbnail-px 0)", 0)):
            page = run / f"view-{px}.html"
            start = time.perf_counter()
            write_view([run], page, thumbnail_px=px)
            build = time.perf_counter() - start
            print(f"{label}: build {build:.1f} s, page {page.stat().st_size / 1e6:.1f} MB")
            if not args.no_browser:
                print("  chromium:", json.dumps(browser_figures(page)))


if __name__ == "__main__":
    main()
