#!/usr/bin/env python3
"""Longest namespace-scope function definitions in C++ sources (a heuristic, for code review):
a definition starts at column 0 and its body ends at the first line that is exactly '}'.
Usage: tools/function_lengths.py [--top N] [paths...] (default: src)."""
import argparse
import pathlib
import re

SKIP = re.compile(r"^(namespace|struct|class|enum|union|template|using|typedef|extern|#|//|}|static_assert)")


def functions(path):
    lines = path.read_text(errors="replace").splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line and not line[0].isspace() and not SKIP.match(line) and "(" in line:
            # The signature may span lines; its body opens with a '{' ending a line.
            j = i
            while j < len(lines) and not lines[j].rstrip().endswith("{") and not lines[j].rstrip().endswith(";"):
                j += 1
            if j < len(lines) and lines[j].rstrip().endswith("{"):
                k = j + 1
                while k < len(lines) and lines[k] != "}":
                    k += 1
                name = re.sub(r"\(.*", "", line).split()[-1] if line.split() else line
                yield k - i + 1, f"{path}:{i + 1}", name
                i = k
        i += 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("paths", nargs="*", default=["src"])
    args = parser.parse_args()
    found = []
    for root in args.paths:
        for path in sorted(pathlib.Path(root).rglob("*")):
            if path.suffix in (".cpp", ".h", ".cc"):
                found.extend(functions(path))
    for length, where, name in sorted(found, reverse=True)[: args.top]:
        print(f"{length:5d}  {name}  {where}")


if __name__ == "__main__":
    main()
