#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""Checks that each code block of a Markdown file that follows a marker

    <!-- snippet: examples/2_simple/timeout.cpp#timeout -->

is, line for line, the region of that file between `// [snippet timeout]` and
`// [end snippet]` (dedented), so the README shows code that compiles and runs.
Usage: check_snippets.py README.md SOURCE_ROOT; exits 1 listing what differs.
"""
import pathlib
import re
import sys
import textwrap

MARKER = re.compile(r"<!-- snippet: (\S+)#(\S+) -->")


def region(path, name):
    lines = path.read_text().splitlines()
    start = f"// [snippet {name}]"
    try:
        begin = next(i for i, l in enumerate(lines) if l.strip() == start)
        end = next(i for i in range(begin + 1, len(lines)) if lines[i].strip() == "// [end snippet]")
    except StopIteration:
        return None
    return textwrap.dedent("\n".join(lines[begin + 1:end])).splitlines()


def blocks(markdown):
    lines = markdown.read_text().splitlines()
    for i, line in enumerate(lines):
        m = MARKER.search(line)
        if not m:
            continue
        j = i + 1
        if j >= len(lines) or not lines[j].startswith("```"):
            yield m.group(1), m.group(2), None, i + 1
            continue
        k = next((k for k in range(j + 1, len(lines)) if lines[k].startswith("```")), len(lines))
        yield m.group(1), m.group(2), lines[j + 1:k], i + 1


def main():
    markdown, root = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    problems, checked = [], 0
    for file, name, block, line in blocks(markdown):
        want = region(root / file, name) if (root / file).exists() else None
        if block is None:
            problems.append(f"{markdown.name}:{line}: no code block after the marker")
        elif want is None:
            problems.append(f"{markdown.name}:{line}: no region '{name}' in {file}")
        elif block != want:
            problems.append(f"{markdown.name}:{line}: the block differs from {file}#{name}")
        checked += 1
    for p in problems:
        print(p)
    print(f"snippets: {checked - len(problems)} match, {len(problems)} differ")
    return 1 if problems or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
