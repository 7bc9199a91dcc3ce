#!/usr/bin/env python3
"""Ratios between the implementations of one benchmark run.

Usage: bench/compare.py RESULTS  (the lines bench/run --compare printed)

Prints, for each spec scenario, ours (impl=singleflight) against Go's peer
(impl=go-x-sync, same thread count: Go runs with GOMAXPROCS=2, so stampede
and mixed compare with our threads=2 lines) and against the bare harness
(impl=bare, same thread count), with the targets of issue #3; then the
scaling scenario side by side.
"""
import signal
import sys

TARGETS = {
    # (scenario, threads): (max ours/go, max ours/bare)
    ("cold", 1): (0.8, None),
    ("stampede", 1): (None, 1.0),
    ("stampede", 2): (0.5, 1.0),
    ("mixed", 2): (0.5, None),
}


def parse(path):
    rows = []
    with open(path) as f:
        for line in f:
            if not line.startswith("scenario="):
                continue
            d = {}
            for pair in line.split():
                k, _, v = pair.partition("=")
                d[k] = v
            rows.append(d)
    return rows


def num(d, k):
    try:
        return float(d[k])
    except (KeyError, ValueError, TypeError):
        return None


def ratio(a, b):
    return None if a is None or b in (None, 0) else a / b


def fmt(x, spec="{:.2f}"):
    return "-" if x is None else spec.format(x)


def verdict(value, limit):
    if limit is None or value is None:
        return ""
    return ("ok" if value <= limit else "MISS") + f"(<={limit:g})"


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quiet when piped into head
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    rows = parse(sys.argv[1])
    by = {}
    for d in rows:
        by[(d.get("scenario"), d.get("impl"), d.get("threads"))] = d

    print()
    print("Ratios from this run (ns_per_call; below 1 means ours is faster)")
    head = (f"{'scenario':<9} {'thr':>3} {'ours ns':>9} {'bare ns':>9} {'go ns':>9} "
            f"{'ours/go':>8} {'':<11} {'ours/bare':>9} {'':<10} "
            f"{'loads ours':>10} {'loads go':>9} {'':<4} {'allocs ours/bare/go':>20} {'heap ours/bare':>15}")
    print(head)
    print("-" * len(head))
    for scenario in ("cold", "stampede", "mixed"):
        for threads in ("1", "2"):
            ours = by.get((scenario, "singleflight", threads))
            if ours is None:
                continue
            bare = by.get((scenario, "bare", threads)) or {}
            go = by.get((scenario, "go-x-sync", threads)) or {}
            o, b, g = num(ours, "ns_per_call"), num(bare, "ns_per_call"), num(go, "ns_per_call")
            r_go, r_bare = ratio(o, g), ratio(o, b)
            lim_go, lim_bare = TARGETS.get((scenario, int(threads)), (None, None))
            loads_o, loads_g = num(ours, "loader_calls"), num(go, "loader_calls")
            loads_note = ""
            if scenario == "mixed" and threads == "2" and loads_o is not None and loads_g is not None:
                loads_note = "ok" if loads_o <= loads_g else "MISS"
            allocs = "/".join(fmt(num(x, "allocs_per_call")) for x in (ours, bare, go))
            heap = "/".join(fmt(num(x, "heap_allocs_per_call")) for x in (ours, bare))
            print(f"{scenario:<9} {threads:>3} {fmt(o, '{:.1f}'):>9} {fmt(b, '{:.1f}'):>9} "
                  f"{fmt(g, '{:.1f}'):>9} {fmt(r_go):>8} {verdict(r_go, lim_go):<11} "
                  f"{fmt(r_bare):>9} {verdict(r_bare, lim_bare):<10} "
                  f"{fmt(loads_o, '{:.0f}'):>10} {fmt(loads_g, '{:.0f}'):>9} {loads_note:<4} "
                  f"{allocs:>20} {heap:>15}")
    print("allocs: operator new per call (Go: Mallocs); heap: every malloc-level "
          "allocation per call, Asio's own included")

    scaling = [d for d in rows if d.get("scenario") == "scaling"]
    if not scaling:
        return
    sc = {}
    for d in scaling:
        sc[(d.get("impl"), d.get("threads"), d.get("callers"))] = d
    callers = sorted({int(d["callers"]) for d in scaling if d.get("callers", "").isdigit()})
    cols = [(impl, t) for t in ("1", "2") for impl in ("singleflight", "bare", "go-x-sync")
            if any(k[0] == impl and k[1] == t for k in sc)]
    short = {"singleflight": "ours", "bare": "bare", "go-x-sync": "go"}
    print()
    print("Scaling: N callers on one key (ns per caller | heap bytes per caller)")
    head = f"{'callers':>7} " + " ".join(f"{short[i] + ' t' + t:>9}" for i, t in cols)
    head += "  |" + " ".join(f"{short[i] + ' t' + t:>9}" for i, t in cols)
    print(head)
    print("-" * len(head))
    for n in callers:
        cells = [sc.get((i, t, str(n))) for i, t in cols]
        line = f"{n:>7} " + " ".join(f"{fmt(num(c, 'ns_per_caller') if c else None, '{:.1f}'):>9}"
                                      for c in cells)
        line += "  |" + " ".join(
            f"{fmt(num(c, 'heap_bytes_per_caller') if c else None, '{:.0f}'):>9}" for c in cells)
        print(line)
    print("Go's heap bytes exclude goroutine stacks; ours include every coroutine frame.")


if __name__ == "__main__":
    main()
