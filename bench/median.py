#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""Merges the result lines of repeated benchmark runs into one line each.

Usage: bench/median.py RAW  (the lines of N runs of singleflight_bench and
of the Go programs, in any order; other lines are skipped)

Lines are grouped by what they measure (scenario, impl, threads, and callers
for the scaling scenario). Each group prints, in the order it first
appeared, the line of its median run (ordered by ns_per_call, or
ns_per_caller for scaling) with the time replaced by the median over the
runs and three pairs appended: min_ns= and max_ns= (the fastest and the
slowest run's time, in the same unit) and runs=N. With an even N the time
is the mean of the two middle runs and the other fields are the faster
one's. Every group must have the same number of runs: a missing one means a
run failed, and the merge says so instead of hiding it.
"""
import sys

IDENTITY = ("scenario", "impl", "threads", "callers")
TIME_KEYS = ("ns_per_call", "ns_per_caller")


def parse(line):
    pairs = [p.partition("=") for p in line.split()]
    return [(k, v) for k, _, v in pairs]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    groups = {}  # identity -> list of runs (each a list of (key, value)); dicts keep order
    with open(sys.argv[1]) as f:
        for line in f:
            if not line.startswith("scenario="):
                continue
            pairs = parse(line)
            d = dict(pairs)
            ident = tuple(d.get(k) for k in IDENTITY)
            groups.setdefault(ident, []).append(pairs)

    counts = {len(runs) for runs in groups.values()}
    if len(counts) > 1:
        sys.exit(f"bench/median.py: groups have different numbers of runs: {sorted(counts)}")

    for runs in groups.values():
        time_key = next(k for k in TIME_KEYS if k in dict(runs[0]))
        times = sorted(float(dict(r)[time_key]) for r in runs)
        runs = sorted(runs, key=lambda r: float(dict(r)[time_key]))
        n = len(runs)
        mid = runs[(n - 1) // 2]  # the median run (the faster middle one for an even n)
        median = times[n // 2] if n % 2 else (times[n // 2 - 1] + times[n // 2]) / 2
        out = [(k, f"{median:.1f}" if k == time_key else v) for k, v in mid]
        out += [("min_ns", f"{times[0]:.1f}"), ("max_ns", f"{times[-1]:.1f}"), ("runs", str(n))]
        print(" ".join(f"{k}={v}" for k, v in out))


if __name__ == "__main__":
    main()
