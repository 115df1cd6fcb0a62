"""Run folders with known answers for the viewer tests (tests/test_view*.py): every box, match,
parse failure and hostile string is chosen here, so the tests can say what the page must show."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from sarbench.result_files import Prediction
from sarbench.run_folder import json_line
from sarbench.score_predictions import score_predictions

HOSTILE = '</script><img src=x onerror="window.__pwned=1"><b>bold</b> & &amp; \u2028 "quote\''
HOSTILE_ID = "classify/<b>x</b> #1?&"
IMAGE_SIZE = (400, 200)

# (id, subset, question, reference, response of run A, response of run B)
OPTIONS = "What is shown? Options: aircraft, ship, tank."
SAMPLES = [
    (
        "grounding_multi/0",
        "grounding_multi",
        "[grounding] Give the location of each object in this SAR image.",
        "There are 2 ships: one in the top left portion {<20><20><120><80>}, one in the bottom right portion "
        "{<200><100><300><180>}.",
        "There are 2 ships: one in the top left portion {<22><20><120><80>}, one in the top right portion "
        "{<300><10><380><60>}.",
        "There are 2 ships: one in the top left portion {<20><20><120><80>}, one in the bottom right portion "
        "{<200><100><300><180>}.",
    ),
    (
        "count/0",
        "count",
        "[count] Count the ship in this SAR image.",
        "There is 1 instance. {<100><50><200><150>}",
        "There is 1 instance. {<150><50><250><150>}",  # IoU 1/3: matched at 0.25, not at 0.5
        "There is 1 instance. {<150><50><250><150>}",
    ),
    ("classify/0", "classify", OPTIONS, "It is ship.", "It is ship.", "tank"),
    ("classify/1", "classify", OPTIONS, "It is tank.", "It is ship.", "tank"),
    (
        "classify/2",
        "classify",
        "What is shown? Options: aircraft, ship, tank.",
        "It is aircraft.",
        "no idea",
        "no idea",
    ),
    (HOSTILE_ID, "classify", f"What is shown? {HOSTILE}", "It is ship.", HOSTILE, "It is ship."),
    (
        "identify_single/0",
        "identify_single",
        "[identify] What can you identify within these coordinates: {<20><20><120><80>}?",
        "A small ship in the top left.",
        "A small ship in the top left.",
        "A small ship in the top left.",
    ),
]
ONLY_IN_A = ("classify/3", "classify", OPTIONS, "It is ship.", "It is ship.")


def sar_image(path: Path) -> Path:
    """A grey speckle image of IMAGE_SIZE (contents irrelevant; the size places the boxes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.effect_noise(IMAGE_SIZE, 20).point(lambda v: v // 3).save(path)
    return path


def make_run(folder: Path, which: int = 0, *, model: str = "model-a", failed: str | None = None) -> Path:
    """A run folder (details.jsonl, metrics.json, predictions/) answering SAMPLES with response
    `which` (0: run A, 1: run B); `failed` names a sample whose prediction line is an inference
    failure. Run A also answers ONLY_IN_A."""
    image = sar_image(folder.parent / "images" / "scene.png")
    rows = SAMPLES + ([ONLY_IN_A + (None,)] if which == 0 else [])
    by_subset: dict[str, list[Prediction]] = {}
    lines: dict[str, list[str]] = {}
    for sample_id, subset, question, reference, *responses in rows:
        response = responses[which]
        by_subset.setdefault(subset, []).append(
            Prediction(sample_id, subset, response, reference, f"x.jsonl:{len(by_subset.get(subset, []))}", str(image))
        )
        line = {
            "id": sample_id,
            "response": response,
            "labels": reference,
            "messages": [{"role": "user", "content": f"<image>\n{question}"}],
            "images": [str(image)],
        }
        if sample_id == failed:
            line["error"] = f"RuntimeError: out of memory {HOSTILE}"
        lines.setdefault(subset, []).append(json_line(line))
    (folder / "predictions").mkdir(parents=True)
    for subset, subset_lines in lines.items():
        (folder / "predictions" / f"{subset}.jsonl").write_text("".join(subset_lines), encoding="utf-8")
    result = score_predictions(by_subset, captions=False, details=folder / "details.jsonl")
    result["run"] = {"model": model, "data": "viewer-test"}
    (folder / "metrics.json").write_text(json.dumps(result), encoding="utf-8")
    return folder


def details(folder: Path) -> dict[str, dict]:
    lines = (folder / "details.jsonl").read_text(encoding="utf-8").split("\n")  # not splitlines: U+2028 is text
    return {row["id"]: row for row in map(json.loads, filter(None, lines))}
