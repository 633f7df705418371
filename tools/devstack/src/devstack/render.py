"""Readable, interleaved, coloured output of the stack's JSON log lines for a terminal."""

from __future__ import annotations

import json
import sys
import threading

_COLOURS = {"aws": "90", "producer": "36", "consumer": "35", "frontend": "33"}
_SKIP = ("timestamp", "level", "service", "logger", "event", "span_id", "exception")
_lock = threading.Lock()


def format_line(name: str, line: str, colour: bool) -> str:
    try:
        record = json.loads(line)
    except ValueError:
        record = None
    if isinstance(record, dict):
        extras = " ".join(f"{k}={v}" for k, v in record.items() if k not in _SKIP and v is not None)
        text = f"{record.get('level', ''):7} {record.get('event', '')}  {extras}".rstrip()
        if "exception" in record:
            text += "\n" + str(record["exception"])
    else:
        text = line
    label = f"{name:>9} |"
    if colour:
        label = f"\033[{_COLOURS.get(name.split('-')[0], '37')}m{label}\033[0m"
    return f"{label} {text}"


def print_line(name: str, line: str) -> None:
    if name == "aws" and "Traceback" not in line and "Error" not in line:
        return  # moto's banner and per-request access log would drown everything else
    with _lock:
        print(format_line(name, line, sys.stdout.isatty()), flush=True)
