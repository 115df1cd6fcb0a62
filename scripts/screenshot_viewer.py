"""The README's viewer screenshot (docs/img/viewer.png), made by the code: the CFAR baseline and the
oracle run on the bundled sample (run here when their folders are missing), `sarbench view` of
the two, opened in headless Chromium (scripts/setup_browser.sh) with two filters applied.

    python scripts/screenshot_viewer.py [--out docs/img/viewer.png]
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RUNS = {"cfar": Path("results/cfar/sample"), "oracle": Path("results/oracle/sample")}  # below REPO: shown as given


def ensure_run(model: str, folder: Path) -> None:
    if (folder / "details.jsonl").is_file():
        return
    command = [sys.executable, "-m", "sarbench", f"model={model}", "task=all", "runner.progress=false", f"out={folder}"]
    subprocess.run(command, cwd=REPO, check=True)


def chromium_driver(width: int, height: int):
    subprocess.run(["bash", str(REPO / "scripts" / "setup_browser.sh")], check=True)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.add_argument(f"--window-size={width},{height}")
    options.add_argument("--force-device-scale-factor=1")
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "img" / "viewer.png")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=1000)
    args = parser.parse_args(argv)
    os.chdir(REPO)
    for model, folder in RUNS.items():
        ensure_run(model, folder)
    sys.path.insert(0, str(REPO))
    from PIL import Image
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    from sarbench.view.__main__ import write_view

    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "view.html"
        write_view([RUNS["cfar"], RUNS["oracle"]], page, title="sarbench view: CFAR baseline (A) vs oracle (B)")
        driver = chromium_driver(args.width, args.height)
        try:
            driver.get(page.as_uri())
            WebDriverWait(driver, 20).until(lambda d: d.find_element(By.ID, "count").get_attribute("data-matching"))
            Select(driver.find_element(By.ID, "f-subset")).select_by_value("count")
            Select(driver.find_element(By.ID, "f-compare")).select_by_value("disagree")
            Select(driver.find_element(By.ID, "f-iou")).select_by_value("0.25")
            driver.find_element(By.ID, "f-text").send_keys("count/1")
            WebDriverWait(driver, 5).until(lambda d: d.find_element(By.ID, "count").text.startswith("11 of"))
            png = driver.get_screenshot_as_png()
        finally:
            driver.quit()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    image = Image.open(io.BytesIO(png)).convert("RGB")
    image.save(args.out, optimize=True)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
