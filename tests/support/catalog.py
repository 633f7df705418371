"""Reading docs/telemetry.md as data: its tables, under their headings."""

from __future__ import annotations

import re
from pathlib import Path

CATALOG = Path(__file__).resolve().parents[2] / "docs" / "telemetry.md"


def catalog_tables(text: str) -> dict[str, list[dict[str, str]]]:
    """Markdown tables under their nearest heading: {heading: [{column: cell}, ...]}."""
    tables: dict[str, list[dict[str, str]]] = {}
    heading, header = "", None
    for line in text.splitlines():
        if line.startswith("#"):
            heading, header = line.lstrip("#").strip(), None
        elif line.startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if header is None:
                header = cells
            elif not set("".join(cells)) <= set("-: "):
                tables.setdefault(heading, []).append(dict(zip(header, cells, strict=True)))
        else:
            header = None
    return tables


def ticked(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def services_of(row: dict[str, str]) -> set[str]:
    return {s.strip() for s in row["Service"].split(",")}


def documented_metrics(service: str) -> dict[str, tuple[str, set[str]]]:
    """{name: (type, label names)} of the Prometheus metrics the catalog gives ``service``."""
    rows = catalog_tables(CATALOG.read_text())["Prometheus metrics"]
    return {
        ticked(row["Metric"])[0]: (row["Type"], set(ticked(row["Labels"])))
        for row in rows
        if service in services_of(row)
    }
