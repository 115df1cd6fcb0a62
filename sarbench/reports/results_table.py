"""A format-neutral results table: rows of values under (grouped) columns, with best/second marks."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from sarbench.reports.columns import Column

BEST, SECOND = 1, 2


@dataclass
class Table:
    columns: list[Column]
    rows: list[tuple[str, list[float | None]]]
    section_starts: list[int] = field(default_factory=list)  # row indices preceded by a rule
    title: str = ""
    unranked: set[int] = field(default_factory=set)  # row indices listed but given no marks
    notes: list[str] = field(default_factory=list)  # footnotes printed under the table

    def value_text(self, value: float | None, absent: str) -> str:
        return absent if is_absent(value) else f"{value:.2f}"

    def ranks(self) -> list[list[int | None]]:
        """Per row and column: BEST, SECOND or None, on the values as printed (2 decimals).

        Ties share a rank. A column whose printed values are all equal marks nothing, and
        SECOND needs at least three values: with two, "second" would just mean "the other one".
        """
        marks: list[list[int | None]] = [[None] * len(self.columns) for _ in self.rows]
        for j, column in enumerate(self.columns):
            shown = {
                i: round(values[j], 2)
                for i, (_, values) in enumerate(self.rows)
                if not is_absent(values[j]) and i not in self.unranked
            }
            distinct = sorted(set(shown.values()), reverse=not column.lower_is_better)
            if len(distinct) < 2:
                continue
            for i, value in shown.items():
                if value == distinct[0]:
                    marks[i][j] = BEST
                elif value == distinct[1] and len(shown) >= 3:
                    marks[i][j] = SECOND
        return marks

    def group_spans(self) -> list[tuple[str, int, int]]:
        """(group, first column index, width) of consecutive columns sharing a group."""
        spans: list[tuple[str, int, int]] = []
        for j, column in enumerate(self.columns):
            if spans and column.group and spans[-1][0] == column.group:
                group, start, width = spans[-1]
                spans[-1] = (group, start, width + 1)
            else:
                spans.append((column.group, j, 1))
        return spans

    @property
    def has_groups(self) -> bool:
        return any(c.group for c in self.columns)


def is_absent(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))
