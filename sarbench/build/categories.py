"""Mapping source-dataset category names onto the six SARChat categories."""

from __future__ import annotations

import json
import re
from pathlib import Path

SARCHAT_CATEGORIES = ("ship", "aircraft", "car", "tank", "bridge", "harbor")
# The paper's option list in questions is alphabetical; classification answers use the same order.
OPTION_ORDER = tuple(sorted(SARCHAT_CATEGORIES))

# Keys are normalised names (see `normalise`). SARDet-100K uses the six names themselves; the
# SAR-AIRcraft-1.0 subtypes are aircraft. A generic name such as SAR-AIRcraft's "other" is not
# mapped by default: it means something else in other datasets, so it needs --category-map.
DEFAULT_CATEGORY_MAP: dict[str, str] = {
    **{name: name for name in SARCHAT_CATEGORIES},
    "ships": "ship",
    "boat": "ship",
    "boats": "ship",
    "vessel": "ship",
    "vessels": "ship",
    "aircrafts": "aircraft",
    "plane": "aircraft",
    "planes": "aircraft",
    "airplane": "aircraft",
    "airplanes": "aircraft",
    "aeroplane": "aircraft",
    "a220": "aircraft",
    "a320/321": "aircraft",
    "a320": "aircraft",
    "a321": "aircraft",
    "a330": "aircraft",
    "a350": "aircraft",
    "arj21": "aircraft",
    "boeing737": "aircraft",
    "boeing747": "aircraft",
    "boeing777": "aircraft",
    "boeing787": "aircraft",
    "cars": "car",
    "tanks": "tank",
    "oiltank": "tank",
    "oiltanks": "tank",
    "storagetank": "tank",
    "storagetanks": "tank",
    "bridges": "bridge",
    "harbors": "harbor",
    "harbour": "harbor",
    "harbours": "harbor",
    "port": "harbor",
}


def normalise(name: str) -> str:
    """Case-, space-, underscore- and hyphen-insensitive key: 'Oil_Tank' and 'oil tank' -> 'oiltank'."""
    return re.sub(r"[\s_\-]+", "", name.strip().lower())


class CategoryMapError(ValueError):
    pass


class CategoryMapper:
    """Source name -> SARChat category, or None for names the map ignores on purpose.

    A user map (JSON object) is laid over the defaults; a value of null marks a source name to
    ignore (its objects are dropped and counted as `ignored_category`).
    """

    def __init__(self, overrides: dict[str, str | None] | None = None) -> None:
        self._map: dict[str, str | None] = dict(DEFAULT_CATEGORY_MAP)
        for source, target in (overrides or {}).items():
            if target is not None and target not in SARCHAT_CATEGORIES:
                raise CategoryMapError(
                    f"category map: {source!r} -> {target!r} is not one of {', '.join(SARCHAT_CATEGORIES)} or null"
                )
            self._map[normalise(source)] = target
        self.overrides = dict(overrides or {})
        self._cache: dict[str, tuple[bool, str | None]] = {}

    @classmethod
    def from_file(cls, path: str | Path | None) -> CategoryMapper:
        if path is None:
            return cls()
        try:
            overrides = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CategoryMapError(f"{path}: cannot read the category map: {exc}") from None
        except RecursionError:
            raise CategoryMapError(f"{path}: cannot read the category map: JSON nested too deeply") from None
        if not isinstance(overrides, dict):
            raise CategoryMapError(f"{path}: the category map must be a JSON object {{source name: category}}")
        return cls(overrides)

    def resolve(self, name: str) -> tuple[bool, str | None]:
        """(known, category) of a source name; category is None for names ignored on purpose."""
        hit = self._cache.get(name)
        if hit is None:
            key = normalise(name)
            hit = self._cache[name] = (key in self._map, self._map.get(key))
        return hit
