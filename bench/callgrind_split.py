#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""Splits one timed part of a callgrind profile of singleflight_bench into
instructions per call by what they do (strand, table lock, hash, frames, ...).

Usage:
  valgrind --tool=callgrind build/X/bench/singleflight_bench --scale 20 \\
      --scenario cold,stampede,mixed --threads 1
  bench/callgrind_split.py callgrind.out.PID.N CALLS [TOP]

singleflight_bench dumps each timed part on its own (callgrind.out.PID.1 is
the first scenario's first implementation, and so on); CALLS is the `calls=`
of that part's result line. Build the benchmark in Release with -g, so that
inlined code keeps the name of its source file: a line's bucket is chosen by
that file first (a lock taken inside the strand's code counts as the lock),
then by the function's name. TOP lists the largest entries of each bucket.
Exclusive costs only: the buckets add up to the part's total.
"""
import collections
import re
import sys

# (bucket, pattern on the inlined source file, pattern on the function name)
BUCKETS = [
    ("strand entry and exit", r"^strand_executor_service|^strand\.hpp$", r"strand_executor_service|loader_strand"),
    ("locks (the table's spin_mutex, the strand's pthread mutex)", r"^pthread_mutex|^spin_mutex\.", r"pthread_mutex|spin_mutex"),
    ("hash (seeded SipHash)", r"^hash\.cpp$", r"siphash"),
    ("frame and flight allocation", r"^thread_info_base\.hpp$|^malloc\.c$|^recycling_allocator|^counting_new",
     r"thread_info_base|^malloc$|^free$|_int_free|_int_malloc|aligned_alloc|memalign"),
    ("flight table (admit, finish)", r"^flight_table\.|^foa\.hpp$|^emmintrin\.h$", r"flight_table"),
    ("delivery and resumption", r"^deliver\.|^waiter\.hpp$", r"deliver|resume_waiters|resume_op"),
    ("executor copies, refcounts, work counts", r"^any_executor\.hpp$|^any_io_executor|^shared_ptr_base\.h$|^atomicity\.h$",
     r"any_executor|any_io_executor|_Sp_counted|shared_count"),
    ("io_context scheduler", r"^scheduler|^io_context\.hpp$|^executor_op\.hpp$|^io_context\.ipp$", r"scheduler"),
    ("cancellation slots", r"^cancellation|^canceller\.hpp$", r"cancellation"),
    ("coroutine machinery (awaitable, pump)", r"^awaitable\.hpp$|^coroutine$", r"awaitable|pump"),
    ("harness (caller, loader body)", r"^bench\.cpp$", r"anonymous namespace"),
    ("group glue (join, launch, flight_main)", r"^group_impl\.hpp$|^async_group\.hpp$|^coro_waiter\.hpp$|^flight\.hpp$",
     r"singleflight"),
]


def strip_templates(name):
    out, depth = [], 0
    for ch in name:
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        elif ch == "(" and depth == 0:
            break
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def bucket_of(base, fn):
    for name, file_rx, _ in BUCKETS:
        if re.search(file_rx, base):
            return name
    for name, _, fn_rx in BUCKETS:
        if re.search(fn_rx, fn):
            return name
    return "other"


def split(path):
    names, files = {}, {}

    def named(value, table):
        m = re.match(r"\((\d+)\)(?: (.*))?", value)
        if not m:
            return value
        if m.group(2):
            table[m.group(1)] = m.group(2)
        return table.get(m.group(1), value)

    cost = collections.Counter()
    detail = collections.defaultdict(collections.Counter)
    fn, fl, cur, after_calls = "", "", "", False
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("fl="):
                fl = cur = named(line[3:], files)
            elif line.startswith(("fi=", "fe=")):
                cur = named(line[3:], files)
            elif line.startswith("fn="):
                fn, cur = strip_templates(named(line[3:], names)), fl
            elif line.startswith("cfn="):
                named(line[4:], names)
            elif line.startswith(("cfi=", "cfl=")):
                named(line[4:], files)
            elif line.startswith("calls="):
                after_calls = True  # the next cost line is the callee's, inclusive
            elif line[:1].isdigit() or line[:1] in "+-*":
                parts = line.split()
                if len(parts) < 2:
                    continue
                if after_calls:
                    after_calls = False
                    continue
                base = cur.split("/")[-1]
                b = bucket_of(base, fn)
                cost[b] += int(parts[1])
                detail[b][f"{base}: {fn}"[:110]] += int(parts[1])
    return cost, detail


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    calls = float(sys.argv[2])
    top = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    cost, detail = split(sys.argv[1])
    total = sum(cost.values())
    print(f"{total / calls:8.0f}  instructions per call (Ir)")
    for b, c in cost.most_common():
        print(f"{c / calls:8.0f}  {100 * c / total:5.1f}%  {b}")
        for what, d in detail[b].most_common(top):
            print(f"          {d / calls:6.0f}  {what}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
