#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""Checks that every source file of the project names its license, BSL-1.0,
in an SPDX line among its first three. Usage: check_spdx.py SOURCE_ROOT."""
import pathlib
import sys

TAG = "SPDX-License-Identifier: BSL-1.0"
DIRS = ("include", "src", "test", "fuzz", "bench", "examples", "scripts", "cmake", "test_package", ".ci")


def sources(root):
    for d in DIRS:
        for p in sorted((root / d).rglob("*")):
            rel = p.relative_to(root)
            if not p.is_file() or "build" in rel.parts[:1]:
                continue
            if rel.parts[0] == "fuzz" and rel.parts[1] in ("corpus", "regressions") and p.suffix != ".md":
                continue
            if p.suffix in (".hpp", ".cpp", ".go", ".py", ".cmake") or p.name == "CMakeLists.txt" or \
               (p.suffix == "" and rel.parts[0] in ("scripts", ".ci", "bench")):
                yield rel


def main():
    root = pathlib.Path(sys.argv[1])
    missing = [str(r) for r in sources(root) if TAG not in "\n".join((root / r).read_text().split("\n")[:3])]
    for m in missing:
        print(f"no SPDX line: {m}")
    checked = sum(1 for _ in sources(root))
    print(f"spdx: {checked - len(missing)} of {checked} files name their license")
    return 1 if missing or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
