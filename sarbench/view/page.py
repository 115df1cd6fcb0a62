"""The viewer page: one self-contained HTML file (static/viewer.html with the stylesheet, the
script and the data inlined), opened from disk with no server.

The data is JSON, gzip-compressed and base64-encoded into a `<script type="application/octet-stream">`
element: about a fourth of the bytes the browser would otherwise read and tokenize, and an
alphabet with no `<`, so no string of a run (a response holding `</script>`) can end the element.
The script inflates it (DecompressionStream) and puts every string on the page as text (never as
HTML). A Content Security Policy allows only the page's own script and style (by hash): even a
markup mistake could not run a script a model wrote.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from importlib import resources
from pathlib import Path

from metrics.benchmark import SUBSET_TABLE
from metrics.breakdown import SIZE_WORDS
from sarbench import __version__
from sarbench.view.samples import RunRecords, size_words
from sarbench.view.thumbnails import image_table


def static_text(name: str) -> str:
    return resources.files("sarbench.view").joinpath("static", name).read_text(encoding="utf-8")


def embedded_data(value) -> str:
    """The page's data as base64 of gzip of JSON (module docstring)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (a model can emit one): \\u escapes read back the same
        raw = json.dumps(value, ensure_ascii=True, separators=(",", ":")).encode("ascii")
    return base64.b64encode(gzip.compress(raw, compresslevel=6, mtime=0)).decode("ascii")


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def page_data(runs: list[RunRecords], page_folder: Path, thumbnail_px: int, title: str | None) -> dict:
    """The document viewer.js reads: runs (records), the shared image table, the subset table."""
    paths = [p for run in runs for p in run.image_paths]
    images = image_table(paths, page_folder, thumbnail_px)
    index = {path: i for i, path in enumerate(dict.fromkeys(paths))}
    for run in runs:
        for record, path in zip(run.records, run.image_paths):
            record["img"] = index[path]
            entry = images[record["img"]]
            if "w" in entry:
                record["sz"] = size_words(record, entry["w"], entry["h"])
    names = [run.name for run in runs]
    return {
        "title": title or ("sarbench: " + " vs ".join(names)),
        "generator": f"sarbench {__version__}",
        "runs": [
            {"name": run.name, "folder": str(run.folder), "notes": run_notes(run), "samples": run.records}
            for run in runs
        ],
        "images": images,
        "subsets": [
            {"name": s.name, "task": s.task, "label": s.label, "box": [list(m) for m in s.box_metrics]}
            for s in SUBSET_TABLE
        ],
        "sizes": list(SIZE_WORDS),
    }


def run_notes(run: RunRecords) -> list[str]:
    """What the page does not show of a run: records its scoring left out, tasks it did not attempt."""
    notes = []
    malformed = run.metrics.get("malformed") or []
    if malformed:
        notes.append(f"{len(malformed)} malformed record(s) left out of the scores: listed in metrics.json")
    for subset, why in (run.metrics.get("not_attempted") or {}).items():
        notes.append(f"{subset}: not attempted ({why})")
    return notes


def render_page(data: dict) -> str:
    script, style = static_text("viewer.js"), static_text("viewer.css")
    policy = (
        f"default-src 'none'; script-src {_csp_hash(script)}; style-src {_csp_hash(style)}; "
        "img-src data: file: 'self'; base-uri 'none'; form-action 'none'"
    )
    replacements = {
        "__POLICY__": policy,
        "__STYLE__": style,
        "__DATA__": embedded_data(data),
        "__SCRIPT__": script,
    }
    template = static_text("viewer.html")
    # one pass, so a placeholder-like string inside the data is never substituted again
    parts = template.split("@@")
    return "".join(replacements.get(part, part) for part in parts)
