"""Tables in text (placeholder until the table reader lands)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.figures import Figure


@dataclass
class Table:
    start: int
    end: int
    figures: list[Figure] = field(default_factory=list)


def find_tables(text: str, ctx) -> list[Table]:
    return []
