"""One table per benchmark: printed, and written into docs/PERFORMANCE.md between markers of its own.

Each table says the command that reproduces it, when it was taken, and how busy the machine was (the load
average at the start and at the end: figures taken while other work ran are slower than the machine is).
Running a benchmark again replaces its own table and leaves the rest of the file as it is.
"""
from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path

PERFORMANCE = Path(__file__).resolve().parent.parent / "docs" / "PERFORMANCE.md"
STARTED_LOAD = os.getloadavg()[0]


def command() -> str:
    """The command line that ran this benchmark, as typed from the repository's root."""
    module = sys.modules["__main__"].__spec__.name if sys.modules["__main__"].__spec__ else sys.argv[0]
    return " ".join([".venv/bin/python -m", module, *sys.argv[1:]])


def table(header: list[str], rows: list[list[object]]) -> str:
    def cell(value: object) -> str:
        return f"{value:.2f}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" if i else "---" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def report(name: str, title: str, header: list[str], rows: list[list[object]], notes: list[str] = ()) -> str:
    """Print the table with its command and notes, and record it in docs/PERFORMANCE.md as `name`."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = (f"{os.cpu_count()} cores, load average {STARTED_LOAD:.1f} at the start and "
               f"{os.getloadavg()[0]:.1f} at the end")
    text = "\n".join([f"**{title}**", "", f"`{command()}` — {when}, {machine}.", "", table(header, rows),
                      *([""] + [f"- {note}" for note in notes] if notes else [])])
    print("\n" + text + "\n")
    record(name, text)
    return text


def record(name: str, text: str, path: Path = PERFORMANCE) -> None:
    begin, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    body = path.read_text(encoding="utf-8") if path.exists() else "# Performance\n"
    block = f"{begin}\n{text.rstrip()}\n{end}"
    if begin in body and end in body:
        head, _, rest = body.partition(begin)
        _, _, tail = rest.partition(end)
        body = head + block + tail
    else:
        body = body.rstrip() + "\n\n" + block + "\n"
    path.write_text(body, encoding="utf-8")
