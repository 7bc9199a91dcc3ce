#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""Ratios between the implementations of one benchmark run.

Usage: bench/compare.py [--speedup] RESULTS
  RESULTS    what bench/run --out wrote (or any file of merged result lines)
  --speedup  print only the parallel scenario's time(t1) / time(t2) per impl

Prints the run's header (date, commit, load average at start and end), then
Markdown tables, ready to paste into a README:
- per spec scenario, ours (impl=singleflight) against Go's peer
  (impl=go-x-sync, same thread count: Go runs stampede and mixed with
  GOMAXPROCS=2, so they compare with our threads=2 lines) and against the
  bare harness (impl=bare, same thread count), with the performance targets;
- parallel: time(threads=1) / time(threads=2) for every implementation;
- the scaling scenario side by side.
Times are medians over the runs; "a–b" after a time is the fastest and the
slowest run; after a ratio, the worst and best it could be from those
extremes (e.g. ours_min / go_max – ours_max / go_min), so a ratio that holds
across the whole range did not come from one lucky run.
"""
import signal
import sys

# (scenario, threads): (max ours/go, max ours/bare), the performance targets.
TARGETS = {
    ("cold", "1"): (0.8, None),
    ("stampede", "2"): (0.5, 1.0),
    ("mixed", "2"): (0.5, None),
}
SPEEDUP_TARGET = 1.7  # parallel, ours: time(t1) / time(t2) at least this
IMPLS = (("singleflight", "ours"), ("bare", "bare"), ("go-x-sync", "Go x/sync"))


def parse(path):
    header, rows = [], []
    with open(path) as f:
        for line in f:
            if line.startswith("scenario="):
                rows.append(dict(p.partition("=")[::2] for p in line.split()))
            elif line.startswith("# ") and not line.startswith("# raw "):
                header.append(line[2:].rstrip("\n"))
    return header, rows


def num(d, k):
    try:
        return float(d[k])
    except (KeyError, ValueError, TypeError):
        return None


def ratio(a, b):
    return None if a is None or b in (None, 0) else a / b


def fmt(x, spec="{:.2f}"):
    return "-" if x is None else spec.format(x)


def timing(d, key="ns_per_call"):
    """(median, min, max) of a merged line; min and max absent in one run's."""
    if not d:
        return None, None, None
    return num(d, key), num(d, "min_ns"), num(d, "max_ns")


def fmt_time(t):
    med, lo, hi = t
    if med is None:
        return "-"
    if lo is None or hi is None:
        return f"{med:.1f}"
    return f"{med:.1f} ({lo:.0f}–{hi:.0f})"


def fmt_ratio(a, b):
    """a / b from the medians, then the range the extremes allow."""
    r = ratio(a[0], b[0])
    if r is None:
        return None, "-"
    lo, hi = ratio(a[1], b[2]), ratio(a[2], b[1])
    if lo is None or hi is None:
        return r, f"{r:.2f}"
    return r, f"{r:.2f} ({lo:.2f}–{hi:.2f})"


def verdict(value, limit, at_most=True):
    if limit is None:
        return ""
    sign = "≤" if at_most else "≥"
    if value is None:
        return f"{sign} {limit:g}"
    ok = value <= limit if at_most else value >= limit
    return f"{sign} {limit:g} {'ok' if ok else 'MISS'}"


def speedups(by):
    """impl -> (t1/t2 from medians, text with its range, t1 timing, t2 timing)."""
    out = {}
    for impl, _ in IMPLS:
        t1, t2 = timing(by.get(("parallel", impl, "1"))), timing(by.get(("parallel", impl, "2")))
        if t1[0] is None or t2[0] is None:
            continue
        r, text = fmt_ratio(t1, t2)
        out[impl] = (r, text, t1, t2)
    return out


def table(head, rows):
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" for _ in head) + "|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quiet when piped into head
    args = sys.argv[1:]
    only_speedup = "--speedup" in args
    args = [a for a in args if a != "--speedup"]
    if len(args) != 1:
        sys.exit(__doc__)
    header, rows = parse(args[0])
    by = {(d.get("scenario"), d.get("impl"), d.get("threads")): d
          for d in rows if d.get("scenario") != "scaling"}
    sp = speedups(by)

    if only_speedup:
        if sp:
            print("parallel, time(t1) / time(t2): " + ", ".join(
                f"{name} {sp[impl][1]}" for impl, name in IMPLS if impl in sp)
                + f" (target for ours: ≥ {SPEEDUP_TARGET:g})")
        return

    print()
    for h in header:
        print(h)
    print()
    print("ns per call, median of the runs (fastest–slowest); ratios below 1: ours is faster")
    print()
    out = []
    for scenario in ("cold", "stampede", "mixed", "parallel"):
        for threads in ("1", "2"):
            ours = by.get((scenario, "singleflight", threads))
            if ours is None:
                continue
            bare = by.get((scenario, "bare", threads)) or {}
            go = by.get((scenario, "go-x-sync", threads)) or {}
            t_o, t_b, t_g = timing(ours), timing(bare), timing(go)
            r_go, s_go = fmt_ratio(t_o, t_g)
            r_bare, s_bare = fmt_ratio(t_o, t_b)
            lim_go, lim_bare = TARGETS.get((scenario, threads), (None, None))
            loads = f"{fmt(num(ours, 'loader_calls'), '{:.0f}')} / {fmt(num(go, 'loader_calls'), '{:.0f}')}"
            allocs = " / ".join(fmt(num(x, "allocs_per_call")) for x in (ours, bare, go))
            heap = " / ".join(fmt(num(x, "heap_allocs_per_call")) for x in (ours, bare))
            out.append([scenario, threads, fmt_time(t_o), fmt_time(t_b), fmt_time(t_g),
                        s_go, verdict(r_go, lim_go), s_bare, verdict(r_bare, lim_bare),
                        loads, allocs, heap])
    table(["scenario", "threads", "ours ns", "bare ns", "Go ns", "ours / Go", "goal",
           "ours / bare", "goal", "loads ours / Go", "allocs ours / bare / Go",
           "heap allocs ours / bare"], out)
    print()
    print("allocs: operator new per call (Go: Mallocs); heap allocs: every malloc-level "
          "allocation per call, Asio's own included. Go runs stampede and mixed at GOMAXPROCS=2.")

    if sp:
        print()
        print("parallel: time(threads=1) / time(threads=2), how well loaders of different keys "
              "use the second thread")
        print()
        out = []
        for impl, name in IMPLS:
            if impl not in sp:
                continue
            r, text, t1, t2 = sp[impl]
            d1, d2 = by[("parallel", impl, "1")], by[("parallel", impl, "2")]
            loads = f"{fmt(num(d1, 'loader_calls'), '{:.0f}')} / {fmt(num(d2, 'loader_calls'), '{:.0f}')}"
            goal = verdict(r, SPEEDUP_TARGET, at_most=False) if impl == "singleflight" else ""
            out.append([name, fmt_time(t1), fmt_time(t2), text, goal, loads])
        table(["impl", "t1 ns", "t2 ns", "t1 / t2", "goal", "loads t1 / t2"], out)
        # bare's loaders share nothing, so its t1/t2 is what the machine gave
        # this run: below the target, the second core was busy elsewhere.
        if "bare" in sp and sp["bare"][0] < SPEEDUP_TARGET:
            print()
            print(f"Note: bare's t1 / t2 is {sp['bare'][0]:.2f}: the second core was not free "
                  "during this run (load elsewhere), so no t1 / t2 of it says much.")

    scaling = [d for d in rows if d.get("scenario") == "scaling"]
    if not scaling:
        return
    sc = {(d.get("impl"), d.get("threads"), d.get("callers")): d for d in scaling}
    callers = sorted({int(d["callers"]) for d in scaling if d.get("callers", "").isdigit()})
    cols = [(impl, t) for t in ("1", "2") for impl, _ in IMPLS
            if any(k[0] == impl and k[1] == t for k in sc)]
    short = {"singleflight": "ours", "bare": "bare", "go-x-sync": "Go"}
    print()
    print("scaling: N callers on one key, ns per caller (median) and heap bytes per caller")
    print()
    out = []
    for n in callers:
        cells = [sc.get((i, t, str(n))) for i, t in cols]
        out.append([str(n)]
                   + [fmt(num(c, "ns_per_caller") if c else None, "{:.1f}") for c in cells]
                   + [fmt(num(c, "heap_bytes_per_caller") if c else None, "{:.0f}") for c in cells])
    table(["callers"] + [f"{short[i]} t{t} ns" for i, t in cols]
          + [f"{short[i]} t{t} bytes" for i, t in cols], out)
    print()
    print("Go's heap bytes exclude goroutine stacks; ours include every coroutine frame.")


if __name__ == "__main__":
    main()
