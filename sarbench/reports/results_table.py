"""A format-neutral results table: rows of values under (grouped) columns, with best/second marks."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from sarbench.reports.columns import Column
from sarbench.reports.ranking import BEST, NOT_RANKED, SECOND, marks

__all__ = ["BEST", "SECOND", "Table", "is_absent"]


@dataclass
class Table:
    columns: list[Column]
    rows: list[tuple[str, list[float | None]]]
    section_starts: list[int] = field(default_factory=list)  # row indices preceded by a rule
    title: str = ""
    # per row: rows with equal keys are ranked together; None: listed, not ranked (marked ‡).
    # None for the whole list: every row in one group.
    rank_groups: list[str | None] | None = None
    # per row and column: the samples behind the value (None: unknown); cells under min_n get no mark
    cell_n: list[list[int | None]] | None = None
    min_n: int = 0
    notes: list[str] = field(default_factory=list)  # footnotes, printed under the table
    source: str = ""  # where the numbers come from (printed under the table)

    def value_text(self, value: float | None, absent: str) -> str:
        return absent if is_absent(value) else f"{value:.2f}"

    def row_name(self, i: int) -> str:
        name = self.rows[i][0]
        return f"{name} {NOT_RANKED}" if self.rank_groups is not None and self.rank_groups[i] is None else name

    def ranks(self) -> list[list[int | None]]:
        """Per row and column: BEST, SECOND or None (see ranking.marks)."""
        groups = self.rank_groups if self.rank_groups is not None else ["all"] * len(self.rows)
        by_column = []
        for j, column in enumerate(self.columns):
            enough = [
                self.cell_n is None or self.cell_n[i][j] is None or self.cell_n[i][j] >= self.min_n
                for i in range(len(self.rows))
            ]
            by_column.append(marks([values[j] for _, values in self.rows], column.lower_is_better, groups, enough))
        return [[column[i] for column in by_column] for i in range(len(self.rows))]

    def legend(self, second: str = "underlined") -> str:
        """One line: units, what the marks mean, what a dash means."""
        other = [c for c in self.columns if c.unit != "%"]
        units = "Values in %"
        by_unit: dict[str, list[str]] = {}
        for c in other:
            by_unit.setdefault(c.unit, []).append(c.short)
        if by_unit:
            units += " except " + "; ".join(f"{', '.join(names)} in {unit}" for unit, names in by_unit.items())
        lower = [c.short for c in self.columns if c.lower_is_better]
        direction = f" (lower is better for {', '.join(lower)})" if lower else ""
        scope = " among the rows ranked together" if self.rank_groups is not None else ""
        text = f"{units}. Bold: best, {second}: second best{scope}{direction}; – : not evaluated."
        if self.cell_n is not None and self.min_n > 1:
            text += f" Cells resting on fewer than {self.min_n} samples are not marked."
        return text

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
