"""Runs the shell examples of a Markdown file and checks what each one says it answers.

The conventions (docs/README of them: the "Docs that run" section of README.md):

- Every ```sh, ```bash, ```shell or ```console block is run, in the order of the file, by one bash process per
  file, from the repository's root (in ```console blocks only the lines after a `$ ` prompt).
- A block preceded by `<!-- not run: <reason> -->` is skipped; the reason is required.
- A command may state its answer in a comment that starts with `→`, at the end of its last line or on the
  lines right after it: `# → 201 {"status": "pending"}`. The number is the HTTP status of the command's
  last curl; the JSON (it may run over several comment lines) lists fields the answer must have, at any
  depth: a list matches when each of its items matches some item of the answer's list, `…` or `...` stands
  for the entries left out, and a string holding `…` matches any value that starts and ends as shown
  (`"…"` matches anything). Prose may follow the JSON.
- A command without a `→` comment must exit 0, and every curl in it must answer 2xx.
"""
from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

SHELLS = {"sh", "bash", "shell", "console"}
FENCE = re.compile(r"^(\s*)```(\S*)\s*$")
NOT_RUN = re.compile(r"^<!--\s*not run:\s*(.*?)\s*-->\s*$")
ARROW = re.compile(r"(?:^|\s)#\s*→\s*(.*)$")
ELLIPSIS = ("…", "...")


@dataclass
class Expectation:
    status: int | None
    body: object = None  # the parsed JSON pattern, or None
    text: str = ""


@dataclass
class Command:
    line: int            # 1-based line in the Markdown file
    source: str          # shell text
    expect: Expectation | None = None


@dataclass
class Block:
    line: int
    language: str
    text: str
    skipped: str | None = None  # the reason, when not run
    commands: list[Command] = field(default_factory=list)


def blocks_of(markdown: str) -> list[Block]:
    """Every shell block of the file, with its not-run reason if one precedes it."""
    lines = markdown.splitlines()
    found, i = [], 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match or not match.group(2):
            i += 1
            continue
        language, start = match.group(2).lower(), i
        j = i + 1
        while j < len(lines) and lines[j].strip() != "```":
            j += 1
        if language in SHELLS:
            previous = next((lines[k] for k in range(start - 1, -1, -1) if lines[k].strip()), "")
            reason = NOT_RUN.match(previous.strip())
            body = lines[start + 1:j]
            if language == "console":
                body = [line[2:] for line in body if line.startswith("$ ")]
            block = Block(line=start + 1, language=language, text="\n".join(body),
                          skipped=reason.group(1) if reason else None)
            if block.skipped is None:
                block.commands = commands_of(body, first_line=start + 2)
            found.append(block)
        i = j + 1
    return found


def _complete(text: str) -> bool:
    """Is this a whole shell command (or several)? bash itself decides."""
    if not text.strip() or text.rstrip().endswith("\\"):
        return not text.strip()
    checked = subprocess.run(["bash", "-n"], input=text, capture_output=True, text=True)
    return checked.returncode == 0 and "here-document" not in checked.stderr  # an open heredoc only warns


def commands_of(lines: list[str], first_line: int) -> list[Command]:
    commands: list[Command] = []
    pending: list[str] = []
    start = 0
    i = 0
    while i < len(lines):
        line = lines[i]
        if not pending and not line.strip():
            i += 1
            continue
        if not pending and line.lstrip().startswith("#"):
            arrow = ARROW.match(line.strip())
            i += 1
            if arrow and commands:
                text, i = _gather(lines, i, arrow.group(1))
                commands[-1].expect = parse_expectation(text, where=f"line {first_line + i - 1}")
            continue
        if not pending:
            start = i
        pending.append(line)
        i += 1
        if _complete("\n".join(pending)):
            command = Command(line=first_line + start, source="\n".join(pending))
            arrow = ARROW.search(pending[-1])
            if arrow:
                text, i = _gather(lines, i, arrow.group(1))
                command.expect = parse_expectation(text, where=f"line {first_line + start}")
            commands.append(command)
            pending = []
    if pending:
        raise ValueError(f"line {first_line + start}: an incomplete shell command: {' '.join(pending)[:120]}")
    return commands


def _gather(lines: list[str], i: int, text: str) -> tuple[str, int]:
    """An expectation and the comment lines from `i` on that continue its JSON; returns it and the index of
    the line after it."""
    while _depth(text) > 0 and i < len(lines) and lines[i].lstrip().startswith("#"):
        text += " " + lines[i].lstrip()[1:].strip()
        i += 1
    return text, i


def _scan(text: str) -> tuple[int, int | None]:
    """The bracket depth at the end of `text` (outside strings), and where its first bracket closes."""
    depth, quoted, escaped, closed = 0, False, False, None
    for index, char in enumerate(text):
        if quoted:
            quoted = not (char == '"' and not escaped)
            escaped = char == "\\" and not escaped
        elif char == '"':
            quoted = True
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
            if depth == 0 and closed is None:
                closed = index
    return depth, closed


def _depth(text: str) -> int:
    return _scan(text)[0]


def parse_expectation(text: str, where: str = "") -> Expectation:
    match = re.match(r"\s*(\d{3})\b", text)
    status = int(match.group(1)) if match else None
    rest = text[match.end():] if match else text
    body = None
    lead = len(rest) - len(rest.lstrip(" ,;:"))
    if rest[lead:lead + 1] in ("{", "["):
        closed = _scan(rest[lead:])[1]
        if closed is None:
            raise ValueError(f"{where}: the expected answer's JSON does not close: {text}")
        body = _pattern(rest[lead:lead + closed + 1], where)
    if status is None and body is None:
        raise ValueError(f"{where}: `→` needs a status or a JSON answer: {text!r}")
    return Expectation(status=status, body=body, text=text)


def _pattern(text: str, where: str):
    cleaned = re.sub(r'(:\s*)(…|\.\.\.)(?=\s*[,}\]])', r'\1"…"', text)        # "id": …
    cleaned = re.sub(r',\s*(…|\.\.\.)\s*(?=[}\]])', "", cleaned)               # , …}
    cleaned = re.sub(r'(?<=[{\[])\s*(…|\.\.\.)\s*,?', "", cleaned)             # {…, or […]
    try:
        return json.loads(cleaned)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{where}: the expected answer is not JSON ({exc}): {text}") from None


def matches(pattern, value) -> bool:
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(k in value and matches(v, value[k]) for k, v in pattern.items())
    if isinstance(pattern, list):
        return isinstance(value, list) and all(any(matches(p, v) for v in value) for p in pattern)
    if isinstance(pattern, str):
        for mark in ELLIPSIS:
            if mark in pattern:
                head, _, tail = pattern.partition(mark)
                if not head and not tail:
                    return True
                return isinstance(value, str) and value.startswith(head) and value.endswith(tail)
        return pattern == value
    if isinstance(pattern, bool) or pattern is None:
        return value is pattern
    return pattern == value and not isinstance(value, bool)


# ---------------------------------------------------------------------------------------------- running

PRELUDE = r'''
__doc_n() { cat "$__DOC_DIR/n"; }
curl() {  # records each call's status line, headers and body; the command sees curl's own output
  local n
  n=$(( $(__doc_n) + 1 )); echo "$n" > "$__DOC_DIR/n"
  command curl -D "$__DOC_DIR/$n.h" "$@" | tee "$__DOC_DIR/$n.b"
  return "${PIPESTATUS[0]}"
}
__doc_mark() { echo "mark $1 $(__doc_n)" >> "$__DOC_DIR/log"; }
__doc_done() { echo "done $1 $(__doc_n) $2" >> "$__DOC_DIR/log"; }
'''


@dataclass
class Outcome:
    command: Command
    exit_code: int
    output: str
    calls: list[tuple[int, dict, str]]  # (status, headers, body) of each curl, in order

    def problem(self) -> str | None:
        expect = self.command.expect
        last = self.calls[-1] if self.calls else None
        if expect is None:
            if self.exit_code != 0:
                return f"exited {self.exit_code}"
            bad = [status for status, _, _ in self.calls if not 200 <= status < 300]
            return f"a curl answered {bad[0]} (state `# → {bad[0]}` if that is meant)" if bad else None
        if last is None:
            return "states an answer but made no HTTP call"
        status, _, body = last
        if expect.status is not None and status != expect.status:
            return f"answered {status}, the doc says {expect.status}"
        if expect.status is None and not 200 <= status < 300:
            return f"answered {status}"
        if expect.body is not None:
            try:
                answer = json.loads(body)
            except json.JSONDecodeError:
                return f"answered something that is not JSON: {body[:200]!r}"
            if not matches(expect.body, answer):
                return (f"the answer lacks what the doc shows\n  doc:    {json.dumps(expect.body, ensure_ascii=False)}"
                        f"\n  answer: {json.dumps(answer, ensure_ascii=False)[:1500]}")
        return None


def run_file(path: Path, cwd: Path, env: dict, work: Path, timeout: float = 300) -> list[Outcome]:
    """Run every runnable block of `path` in one bash, in order; the outcome of every command."""
    commands = [c for b in blocks_of(path.read_text(encoding="utf-8")) if b.skipped is None for c in b.commands]
    work.mkdir(parents=True, exist_ok=True)
    (work / "n").write_text("0")
    (work / "log").write_text("")
    script = [PRELUDE]
    for k, command in enumerate(commands):
        script.append(f"__doc_mark {k}\n{{\n{command.source}\n}} >\"$__DOC_DIR/out.{k}\" 2>&1\n__doc_done {k} $?\n")
    (work / "script.sh").write_text("\n".join(script), encoding="utf-8")
    subprocess.run(["bash", "--noprofile", "--norc", str(work / "script.sh")], cwd=cwd,
                   env={**env, "__DOC_DIR": str(work)}, stdin=subprocess.DEVNULL, capture_output=True,
                   timeout=timeout)
    marks, done = {}, {}
    for line in (work / "log").read_text().splitlines():
        kind, k, n, *rest = line.split()
        (marks if kind == "mark" else done)[int(k)] = (int(n), int(rest[0]) if rest else None)
    outcomes = []
    for k, command in enumerate(commands):
        if k not in done:
            outcomes.append(Outcome(command, -1, "(never finished: the script stopped)", []))
            continue
        first, last = marks[k][0], done[k][0]
        calls = [_call(work, n) for n in range(first + 1, last + 1)]
        output = (work / f"out.{k}").read_text(encoding="utf-8", errors="replace")
        outcomes.append(Outcome(command, done[k][1], output, [c for c in calls if c is not None]))
    return outcomes


def _call(work: Path, n: int):
    head = work / f"{n}.h"
    if not head.exists():
        return None
    sections = [s for s in head.read_text(errors="replace").replace("\r", "").split("\n\n") if s.strip()]
    if not sections:
        return None
    lines = sections[-1].splitlines()  # the last response (after any 100 Continue)
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    body_path = work / f"{n}.b"
    body = body_path.read_bytes().decode("utf-8", errors="replace") if body_path.exists() else ""
    while body.startswith("HTTP/") and "\r\n\r\n" in body:  # curl -i: the headers are in the output too
        body = body.split("\r\n\r\n", 1)[1]
    return status, headers, body
