"""Image archives of a hub release (zip, tar, tar.gz/tgz/bz2/xz), extracted safely.

An archive whose members all lie under one top folder (`images.zip` holding `images/...`) is
extracted as it is; one holding loose files is extracted into a folder named after it
(`images.zip` holding `scene_000.png` -> `images/scene_000.png`), the two ways such archives are
made. A member that would land outside the target (absolute path, `..`, a link) is refused.
"""

from __future__ import annotations

import posixpath
import tarfile
import zipfile
from pathlib import Path

from sarbench.run_settings import RunError

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")


def archive_stem(path: Path) -> str:
    name = path.name
    for suffix in sorted(ARCHIVE_SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def extract_archives(archives: list[Path], target: Path) -> None:
    for archive in archives:
        names = _member_names(archive)
        tops = {name.split("/", 1)[0] for name in names}
        nested = len(tops) == 1 and all("/" in name or name.endswith("/") for name in names)
        destination = target if nested else target / archive_stem(archive)
        if destination.is_symlink() or (destination != target and destination.exists()):
            raise RunError(f"{archive.name} would extract into {destination.name}, which the release has already")
        destination.mkdir(parents=True, exist_ok=True)
        _extract(archive, destination)


def _member_names(archive: Path) -> list[str]:
    try:
        if archive.name.lower().endswith(".zip"):
            with zipfile.ZipFile(archive) as handle:
                names = [info.filename for info in handle.infolist()]
        else:
            with tarfile.open(archive) as handle:
                members = handle.getmembers()
                links = [m.name for m in members if m.issym() or m.islnk() or m.isdev()]
                if links:
                    raise RunError(f"{archive}: links or devices in an image archive are refused ({links[0]})")
                names = [m.name for m in members]
    except (OSError, zipfile.BadZipFile, tarfile.TarError) as exc:
        raise RunError(f"cannot read archive {archive}: {exc}") from None
    for name in names:
        normal = posixpath.normpath(name)
        if name.startswith("/") or normal == ".." or normal.startswith("../"):
            raise RunError(f"{archive}: member {name!r} would land outside the extraction folder")
    return [name for name in names if name.strip("/")]


def _extract(archive: Path, destination: Path) -> None:
    try:
        if archive.name.lower().endswith(".zip"):
            with zipfile.ZipFile(archive) as handle:
                handle.extractall(destination)
        else:
            with tarfile.open(archive) as handle:
                if hasattr(tarfile, "data_filter"):
                    handle.extractall(destination, filter="data")
                else:  # Python < 3.10.12: members were checked above (no links, nothing outside)
                    handle.extractall(destination)  # noqa: S202
    except (OSError, zipfile.BadZipFile, tarfile.TarError) as exc:
        raise RunError(f"cannot extract archive {archive}: {exc}") from None
