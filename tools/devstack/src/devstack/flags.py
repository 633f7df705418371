"""``make flag``: flip a scenario switch of the running shop.

    python -m devstack.flags                      # list flags and their current variant
    python -m devstack.flags set consumer-work-ms slow

Edits the flag file the services watch (``FLAGD_OFFLINE_FLAG_SOURCE_PATH``, by default the copy
``make run`` keeps in ``.run/flags.json``); every service sees the change within a second.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[4]
TEMPLATE = REPO / "flags" / "scenarios.flagd.json"
RUNTIME = REPO / ".run" / "flags.json"


def runtime_copy(variants: dict[str, str] | None = None) -> Path:
    """A fresh runtime copy of the template for one ``make run``: scenarios all off, but for
    the ``variants`` a lab starts with."""
    RUNTIME.parent.mkdir(exist_ok=True)
    flags = json.loads(TEMPLATE.read_text())
    for name, variant in (variants or {}).items():
        flags["flags"][name]["defaultVariant"] = variant
    write(RUNTIME, flags)
    return RUNTIME


def write(path: Path, flags: dict[str, Any]) -> None:
    """Replace the file atomically, so a watcher never reads half a file."""
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as tmp:
        json.dump(flags, tmp, indent=2)
    os.replace(tmp.name, path)


def set_variant(path: Path, name: str, variant: str) -> None:
    flags = json.loads(path.read_text())
    flag = flags["flags"].get(name)
    if flag is None:
        raise SystemExit(f"no flag {name!r}; flags: {', '.join(flags['flags'])}")
    if variant not in flag["variants"]:
        raise SystemExit(
            f"{name} has no variant {variant!r}; variants: {', '.join(flag['variants'])}"
        )
    flag["defaultVariant"] = variant
    write(path, flags)


def describe(path: Path) -> str:
    flags = json.loads(path.read_text())["flags"]
    rows = []
    for name, flag in flags.items():
        current = flag["defaultVariant"]
        choices = ", ".join(f"{v}={flag['variants'][v]}" for v in flag["variants"])
        rows.append(f"  {name:26} {current:10} ({choices})")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(os.environ.get("FLAGD_OFFLINE_FLAG_SOURCE_PATH") or RUNTIME)
    if not path.is_file():
        print(f"no flag file at {path}: start the shop with `make run` first", file=sys.stderr)
        return 1
    if args[:1] == ["set"] and len(args) == 3:
        set_variant(path, args[1], args[2])
        print(f"{args[1]} -> {args[2]}")
    elif args:
        print(__doc__, file=sys.stderr)
        return 2
    print(describe(path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
