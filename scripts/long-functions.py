#!/usr/bin/env python3
"""Functions longer than N lines (default 80) in a Rust source tree, test modules left out.
usage: long-functions.py [src] [N]"""
import os, re, sys
root = sys.argv[1] if len(sys.argv) > 1 else "src"
limit = int(sys.argv[2]) if len(sys.argv) > 2 else 80
found = []
for d, _, fs in os.walk(root):
    for f in sorted(fs):
        if not f.endswith(".rs"):
            continue
        path = os.path.join(d, f)
        lines = open(path, encoding="utf-8").read().split("#[cfg(test)]")[0].split("\n")
        i = 0
        while i < len(lines):
            m = re.match(r"\s*(pub(\([^)]*\))?\s+)?(async\s+)?(const\s+)?fn\s+(\w+)", lines[i])
            if not m:
                i += 1
                continue
            depth, started, j = 0, False, i
            while j < len(lines):
                code = re.sub(r'"([^"\\]|\\.)*"|//.*', "", lines[j])
                depth += code.count("{") - code.count("}")
                started = started or "{" in code
                if started and depth <= 0:
                    break
                if not started and code.rstrip().endswith(";"):
                    break
                j += 1
            length = j - i + 1
            if started and length > limit:
                found.append((length, f"{path}:{i + 1}", m.group(5)))
            i += 1
found.sort(reverse=True)
for length, place, name in found:
    print(f"{length:4} {place} {name}")
print(f"{len(found)} function(s) over {limit} lines")
