"""`sarbench <verb> ...`: one command for every sarbench tool.

Each verb hands the rest of the command line to the module that implements it (`sarbench score X`
is `python -m sarbench.score X`); `sarbench run` takes Hydra overrides like `python -m sarbench`.
"""

from __future__ import annotations

import importlib
import sys
from typing import NamedTuple

from sarbench import __version__


class Verb(NamedTuple):
    module: str
    summary: str


VERBS: dict[str, Verb] = {
    "run": Verb("sarbench.__main__", "evaluate a model: sarbench run model=<model> task=<task> [key=value ...]"),
    "score": Verb("sarbench.score", "score result files (swift infer JSONL/JSON or sarbench predictions)"),
    "build": Verb("sarbench.build.__main__", "build a SARChat-format test set from detection annotations"),
    "leaderboard": Verb("sarbench.leaderboard", "table of the runs below folders (md, csv, latex, html)"),
    "compare": Verb("sarbench.compare", "paired comparison of two runs with confidence intervals"),
    "plot": Verb("sarbench.plot", "radar and bar charts of runs (PNG and PDF)"),
    "view": Verb("sarbench.view.__main__", "HTML page of every sample of a run (or two): boxes, answers, filters"),
    "convert-internvl": Verb(
        "sarbench.convert_internvl", "InternVL2.5 released layout (internvl_chat) -> transformers' InternVL format"
    ),
    "status": Verb("sarbench.status", "progress of a run folder: shards done/running/missing, samples/s, ETA"),
}


def usage() -> str:
    width = max(map(len, VERBS))
    lines = [
        f"usage: sarbench <verb> [arguments]   (sarbench {__version__})",
        "",
        "Evaluate vision-language models on SARChat-format SAR test sets (protocol sarchat-v1).",
        "",
        "verbs:",
    ]
    lines += [f"  {name:<{width}}  {verb.summary}" for name, verb in VERBS.items()]
    lines += ["", "`sarbench <verb> --help` describes a verb; `sarbench run --help` lists the config groups."]
    return "\n".join(lines)


def exit_status(exc: SystemExit) -> int:
    """The status `sys.exit(code)` would give; a message (`SystemExit("error: ...")`) is printed."""
    if exc.code is None or isinstance(exc.code, int):
        return exc.code or 0
    print(exc.code, file=sys.stderr)
    return 1


def run_hydra_app(module, argv: list[str]) -> int:
    """Hydra reads its overrides from sys.argv, so the verb is taken out of it."""
    saved = sys.argv
    sys.argv = ["sarbench run", *argv]
    try:
        module.main()
    except SystemExit as exc:
        return exit_status(exc)
    finally:
        sys.argv = saved
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if not args:
        print(usage(), file=sys.stderr)
        return 2
    name, rest = args[0], args[1:]
    if name in ("-h", "--help", "help"):
        print(usage())
        return 0
    if name == "--version":
        print(f"sarbench {__version__}")
        return 0
    if name not in VERBS:
        print(f"error: unknown verb {name!r}; the verbs are: {', '.join(VERBS)} (sarbench --help)", file=sys.stderr)
        return 2
    module = importlib.import_module(VERBS[name].module)
    if name == "run":
        return run_hydra_app(module, rest)
    try:
        return int(module.main(rest) or 0)
    except SystemExit as exc:  # argparse's --help (0) and usage errors (2), reports' SystemExit("error: ...")
        return exit_status(exc)


if __name__ == "__main__":
    sys.exit(main())
