"""`data=hub`: a SARChat release on the Hugging Face Hub (or ModelScope), or a local copy of one.

The release is fetched with the hub's own client into its cache (`snapshot_download`, revision
pinned, resolved commit recorded), then presented as what a local folder is: the official files
of the split (`SARChat_*_<split>.json[l]`) and the images their records name. So subset routing,
sample ids, checksums and resume are those of `data=sarchat`, by construction:

- (a) the ms-swift JSON/JSONL files with an image folder: read where they lie in the snapshot;
  with image archives (zip/tar): the archives are extracted once into a folder beside links to
  the snapshot's files (`hub_archives.py`);
- (b) `datasets` tables (parquet, or arrow as `save_to_disk` writes them) with ms-swift's
  `messages` and `images` columns: written once as the official JSONL files plus image files
  (`hub_tables.py`);
- (c) `data.repo` naming a local folder of either layout: no hub involved at all.

Only the split's files are fetched first (names containing the split: `*test*`); for layout (a)
then the image folders and archives its records point into. A repo that cannot be reached fails
at once with one message (the hub client's connection errors are not retried).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from sarbench.hub_archives import ARCHIVE_SUFFIXES, extract_archives
from sarbench.hub_tables import materialize_tables, table_sources
from sarbench.records import read_records
from sarbench.run_settings import RunError
from sarbench.subsets import official_file_names

log = logging.getLogger("sarbench")

SOURCES = ("hf", "modelscope")
COMPLETE = ".sarbench-complete"  # written last into a prepared folder: its absence means unfinished
COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class HubData:
    files_dir: Path  # holds the official files of the split
    image_root: Path  # the records' image paths resolve against it
    source: dict[str, Any]  # what was fetched (recorded in the run key and the manifest)


def resolve_hub_data(data_cfg: dict[str, Any]) -> HubData:
    """The local folder a `data=hub` config stands for, fetched and prepared on first use."""
    repo = str(data_cfg.get("repo") or "").strip()
    if not repo or repo == "???":
        raise RunError("data.repo is not set; e.g. data=hub data.repo=<org>/SARChat-Bench")
    split = str(data_cfg.get("split") or "test")
    source = str(data_cfg.get("source") or "hf")
    revision = data_cfg.get("revision")
    revision = None if revision in (None, "") else str(revision)
    local = Path(repo).expanduser()
    if local.is_dir():  # layout (c): a local copy, nothing to fetch
        snapshot = local.resolve()
        record: dict[str, Any] = {"source": "local", "repo": str(snapshot), "revision": None, "commit": None}
        fetch = None
    elif repo.startswith(("/", "~", ".")):
        raise RunError(f"data.repo={repo} is not a folder (a hub id is <org>/<name>)")
    else:
        if source not in SOURCES:
            raise RunError(f"data.source={source!r} is not one of {', '.join(SOURCES)}")
        cache_dir = data_cfg.get("cache_dir")
        pinned = revision

        def fetch(patterns: list[str]) -> Path:
            nonlocal pinned
            snapshot = _snapshot(source, repo, pinned, cache_dir, patterns)
            if COMMIT_RE.match(snapshot.name):  # every later fetch: the commit the first one resolved
                pinned = snapshot.name
            return snapshot

        snapshot = fetch(split_patterns(split))
        commit = snapshot.name if COMMIT_RE.match(snapshot.name) else None
        record = {"source": source, "repo": repo, "revision": revision, "commit": commit}
    work = _work_folder(data_cfg.get("cache_dir"), record, snapshot, split)
    hub_data = _prepare(snapshot, split, fetch, work, record)
    log.info(
        "data=hub: %s %s@%s (commit %s) -> %s",
        record["source"],
        record["repo"],
        record["revision"] or "default branch",
        record["commit"],
        hub_data.files_dir,
    )
    return hub_data


def split_patterns(split: str) -> list[str]:
    """The split's annotation files, wherever they lie (fnmatch: `*` spans folders)."""
    return [f"*{split}*.{ext}" for ext in ("json", "jsonl", "parquet", "arrow")] + ["*dataset_dict.json"]


def _prepare(snapshot: Path, split: str, fetch, work: Path, record: dict) -> HubData:
    official = official_file_names(split)
    folders = sorted({p.parent for p in _files(snapshot) if p.name in official})
    if len(folders) > 1:
        raise RunError(
            f"{record['repo']} holds SARChat {split} files in several folders "
            f"({', '.join(str(f.relative_to(snapshot)) for f in folders)}); give one as data.repo"
        )
    if folders:  # layout (a)
        folder = folders[0]
        images = _referenced_images(folder, official)
        if fetch is not None:
            fetch(split_patterns(split) + image_patterns(folder.relative_to(snapshot), images, split))
        archives = [p for p in _files(snapshot) if p.name.lower().endswith(ARCHIVE_SUFFIXES)]
        if archives:
            _once(work, lambda tmp: _link_and_extract(folder, archives, tmp))
            folder = work
        _check_images(folder, images, record, archives)
        return HubData(folder, folder, {**record, "layout": "json", "archives": sorted(a.name for a in archives)})
    sources = table_sources(snapshot, split)
    if not sources:
        listed = ", ".join(str(p.relative_to(snapshot)) for p in _files(snapshot)[:8]) or "nothing"
        raise RunError(
            f"{record['repo']} has no SARChat {split} data: expected the 9 SARChat_*_{split}.json(l) files "
            f"or parquet/arrow tables with 'messages' and 'images' columns and '{split}' in their path "
            f"(found: {listed})"
        )
    fetch_images = (
        None if fetch is None else (lambda images: fetch(split_patterns(split) + image_patterns("", images, split)))
    )
    image_root = _once(work, lambda tmp: materialize_tables(sources, snapshot, tmp, split, fetch_images))
    layout = "arrow" if any(p.is_dir() for p, _ in sources) else "parquet"
    return HubData(work, image_root, {**record, "layout": layout})


def image_patterns(folder: PurePosixPath | Path, images: set[str], split: str) -> list[str]:
    """What to fetch for the images the records name: their top folders (or the files at the
    top), and archives named after those folders or the split."""
    base = "" if str(folder) in ("", ".") else f"{PurePosixPath(folder)}/"
    tops = sorted({PurePosixPath(p).parts[0] for p in images if PurePosixPath(p).parts})
    patterns = []
    for top in tops:
        is_file = not any(len(PurePosixPath(p).parts) > 1 and PurePosixPath(p).parts[0] == top for p in images)
        patterns.append(f"{base}{top}" if is_file else f"{base}{top}/*")
        if not base and not is_file:  # paths relative to a table's folder
            patterns.append(f"*/{top}/*")
        patterns += [f"{where}{top}{suffix}" for suffix in ARCHIVE_SUFFIXES for where in ("", "*/")]
    return patterns + [f"*{split}*{suffix}" for suffix in ARCHIVE_SUFFIXES]


def _referenced_images(folder: Path, official: dict[str, str]) -> set[str]:
    images = set()
    for path in sorted(folder.iterdir()):
        if path.name not in official:
            continue
        for _, record in read_records(path, tolerant=True):  # malformed records: reported by the loader
            value = record.get("images") if isinstance(record, dict) else None
            if isinstance(value, list) and value and isinstance(value[0], str):
                images.add(os.path.normpath(value[0]))
    return images


def _check_images(root: Path, images: set[str], record: dict, archives: list[Path]) -> None:
    """No image the records name is there: a layout this reader does not understand, said now
    rather than as one inference failure per sample. Some missing: as with a local folder."""
    if not images:
        return
    missing = sorted(p for p in images if not (root / p).is_file())
    if len(missing) == len(images):
        raise RunError(
            f"none of the {len(images)} images the {record['repo']} records name is in the download "
            f"(first: {missing[0]}; looked under {root}; archives: {', '.join(a.name for a in archives) or 'none'})"
        )
    if missing:
        log.warning("%d of %d images are not in %s (first: %s)", len(missing), len(images), root, missing[0])


def _link_and_extract(folder: Path, archives: list[Path], tmp: Path) -> Path:
    for entry in sorted(folder.iterdir()):
        if not entry.name.lower().endswith(ARCHIVE_SUFFIXES) and not entry.name.startswith("."):
            (tmp / entry.name).symlink_to(entry.resolve() if entry.is_file() else entry)
    extract_archives(archives, tmp)
    return tmp


def _once(work: Path, build) -> Path:
    """`build(tmp)` into a fresh folder renamed to `work`; a finished `work` is reused (its
    inputs are pinned by the commit or the content digest in its name). Returns the image root
    `build` gave, moved to `work`."""
    marker = work / COMPLETE
    if marker.is_file():
        return work / marker.read_text().strip()
    tmp = work.with_name(f"{work.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        image_root = Path(build(tmp))
        (tmp / COMPLETE).write_text(str(image_root.relative_to(tmp)) + "\n")
        try:
            os.replace(tmp, work)  # atomic: `work` only ever exists finished
        except OSError:
            if not marker.is_file():
                raise
            # another run prepared the same pinned input meanwhile: its folder is used, ours dropped
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return work / (marker.read_text().strip())


def _work_folder(cache_dir: str | None, record: dict, snapshot: Path, split: str) -> Path:
    base = (
        Path(cache_dir).expanduser()
        if cache_dir
        else Path(os.environ.get("SARBENCH_HUB_CACHE", "~/.cache/sarbench/hub")).expanduser()
    )
    pin = record["commit"] or _content_digest(snapshot)
    name = re.sub(r"[^A-Za-z0-9._-]+", "--", record["repo"].strip("/"))[-80:]
    return base / "sarbench-prepared" / f"{record['source']}--{name}--{pin[:16]}--{split}"


def _content_digest(folder: Path) -> str:
    """A local folder has no commit: its files' names, sizes and mtimes pin what was prepared."""
    digest = hashlib.sha256()
    for path in _files(folder):
        stat = path.stat()
        digest.update(f"{path.relative_to(folder)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _files(folder: Path) -> list[Path]:
    found = []
    for directory, subdirectories, names in os.walk(folder, followlinks=True):
        subdirectories[:] = sorted(d for d in subdirectories if not d.startswith("."))
        found += [Path(directory) / n for n in sorted(names) if not n.startswith(".")]
    return found


def _snapshot(source: str, repo: str, revision: str | None, cache_dir: str | None, patterns: list[str]) -> Path:
    where = f"{repo}@{revision or 'default branch'}"
    if source == "modelscope":
        return _modelscope_snapshot(repo, revision, cache_dir, patterns, where)
    try:
        from huggingface_hub import HfApi, constants, snapshot_download
    except ImportError:
        raise RunError("data=hub needs huggingface_hub: pip install 'sarbench[hub]'") from None

    def download(at: str | None, **kwargs) -> Path:
        found = snapshot_download(
            repo, repo_type="dataset", revision=at, cache_dir=cache_dir, allow_patterns=patterns, **kwargs
        )
        return Path(found)

    try:
        if _offline():
            return download(revision)
        # snapshot_download asks the hub without a time limit (a silent network hangs for minutes):
        # this bounded question first resolves the commit, or says at once that nobody answers.
        try:
            commit = HfApi().dataset_info(repo, revision=revision, timeout=constants.HF_HUB_ETAG_TIMEOUT).sha
        except Exception as exc:  # noqa: BLE001 - unreachable, unknown or gated: the cache may still have it
            try:
                cached = download(revision, local_files_only=True)
            except Exception:  # noqa: BLE001 - not cached either: the hub's answer is the reason
                raise RunError(_unreachable(where, "Hugging Face Hub", exc)) from None
            log.warning("the Hugging Face Hub did not answer for %s (%s); using the cached %s", where, exc, cached.name)
            return cached
        return download(commit)
    except RunError:
        raise
    except Exception as exc:  # noqa: BLE001 - the client's many error types become one message
        raise RunError(_unreachable(where, "Hugging Face Hub", exc)) from None


def _modelscope_snapshot(repo: str, revision: str | None, cache_dir: str | None, patterns, where: str) -> Path:
    """ModelScope caches a snapshot under its revision's name (`snapshots/master`), so its commit
    is known only when `data.revision` is one; HF_HUB_OFFLINE=1 keeps it to its cache too."""
    try:
        from modelscope.hub.snapshot_download import snapshot_download
    except ImportError:
        raise RunError(
            "data.source=modelscope needs the modelscope client: pip install 'sarbench[modelscope]' "
            "(or use data.source=hf)"
        ) from None
    try:
        path = snapshot_download(
            repo_id=repo,
            repo_type="dataset",
            revision=revision,
            cache_dir=cache_dir,
            allow_patterns=patterns,
            local_files_only=_offline(),
        )
    except Exception as exc:  # noqa: BLE001 - as for the Hugging Face client
        raise RunError(_unreachable(where, "ModelScope", exc)) from None
    return Path(path)


def _offline() -> bool:
    """The hub client's own offline flag (HF_HUB_OFFLINE; a process may also set it, as
    model_adapters.hub_access does for an unreachable hub), else the environment."""
    try:
        from huggingface_hub import constants
    except ImportError:
        return os.environ.get("HF_HUB_OFFLINE", "0").strip().lower() not in ("0", "", "false", "no", "off")
    return bool(constants.HF_HUB_OFFLINE)


def _unreachable(where: str, hub: str, exc: Exception) -> str:
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    hint = (
        "HF_HUB_OFFLINE=1 is set and it is not in the hub cache (data.cache_dir, or HF_HUB_CACHE)"
        if _offline()
        else "check the id, the revision, the network (HF_ENDPOINT) and, for a gated repo, HF_TOKEN"
    )
    return (
        f"cannot get dataset {where} from the {hub}: {type(exc).__name__}: {reason}. {hint}; "
        "or give a local copy as data.repo=/path/to/folder"
    )
