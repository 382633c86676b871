"""Table: the one structure every report section hands the templates, already formatted."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Table:
    """A table the templates print as is. `align` is "l" or "r" per column; `highlight` holds
    row indices to emphasise (the recommended strategy)."""

    id: str
    columns: list[str]
    rows: list[list[str]]
    align: list[str] = field(default_factory=list)
    caption: str = ""
    highlight: list[int] = field(default_factory=list)

    def __post_init__(self):
        if not self.align:
            self.align = ["l"] + ["r"] * (len(self.columns) - 1)
