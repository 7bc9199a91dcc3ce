#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""Writes fuzz/corpus/: hand-made seed inputs for fuzz_group, one per
scenario, in the encoding that decoder.hpp describes (see there):

  byte 0: options: bit 0 keep_abandoned_loaders, bits 1-2 max_in_flight
          (0 = unlimited), bit 3 end by shutting down, bit 4 callers'
          context first
  then operations, opcode byte % 16 and its argument bytes:
    0-3  start   a: key (a % 4), form (((a >> 2) & 3) % 3: callback, do_,
                    do_shared), on the callers' context (bit 4), coroutine
                    passes every cancellation type (bit 5)
                 b: loader (b % 8: 0-4 finished by the input, 5 returns at
                    once, 6 throws at once, 7 throws before its awaitable)
    4-5  cancel  a: caller (a % callers), b: type (b % 8: terminal, partial,
                    total, none, terminal|partial, all, partial|total,
                    terminal)
    6-7  finish  a: waiting loader (a % waiting), b: bit 0 throws
    8    forget  a: key (a % 4), bit 2: as a string_view
    9-10 run one handler    a: bit 0 the callers' context
    11-12 run ready handlers a: bit 0 the callers' context
    13   run both contexts until idle (then nothing may be pending)
    14   destroy the group   a: only if a % 4 == 0
    15   nothing

Usage: fuzz/make_corpus.py [directory]   (default: the corpus beside it)
"""
import os
import sys

CALLBACK, DO, SHARED = 0, 1, 2
GATED, VALUE, THROW, THROW_EARLY = 0, 5, 6, 7
TERMINAL, PARTIAL, TOTAL, NONE, T_P, ALL, P_TOT = range(7)


def opts(keep=False, limit=0, shutdown=False, callers_first=False):
    return [int(keep) | (limit << 1) | (int(shutdown) << 3) | (int(callers_first) << 4)]


def start(key, form=CALLBACK, other_ctx=False, reset=False, loader=GATED):
    return [0, key | (form << 2) | (int(other_ctx) << 4) | (int(reset) << 5), loader]


def cancel(caller, kind=TERMINAL):
    return [4, caller, kind]


def finish(index=0, fail=False):
    return [6, index, int(fail)]


def forget(key, view=False):
    return [8, key | (int(view) << 2)]


def run_one(callers_ctx=False):
    return [9, int(callers_ctx)]


def run(callers_ctx=False):
    return [11, int(callers_ctx)]


IDLE = [13]
DESTROY = [14, 0]

SEEDS = {
    "01-join-and-share": opts() + start(0) + start(0, DO) + start(0, SHARED) + IDLE + finish() + IDLE,
    "02-loader-throws": opts() + start(1, DO) + start(1, SHARED) + start(1) + IDLE + finish(0, True) + IDLE,
    "03-every-cancellation-type": opts()
    + start(2, DO, reset=True) + start(2, DO, reset=True) + start(2, SHARED, reset=True) + start(2, DO)
    + IDLE + cancel(0, PARTIAL) + cancel(1, TOTAL) + cancel(2, T_P) + cancel(3, PARTIAL) + IDLE
    + cancel(3, NONE) + IDLE + finish() + IDLE,
    "04-last-caller-leaves": opts() + start(0) + start(0, DO) + IDLE + cancel(0) + cancel(1) + IDLE
    + start(0) + IDLE + finish() + IDLE,
    "05-forget-then-new-flight": opts() + start(3) + IDLE + forget(3) + forget(3, True) + start(3, SHARED)
    + IDLE + finish(1) + finish(0, True) + IDLE,
    "06-destroy-with-parked-callers": opts() + start(0) + start(0, DO, True) + start(1, SHARED) + IDLE
    + DESTROY + run() + run(True) + start(0) + IDLE + finish() + IDLE,
    "07-max-in-flight": opts(limit=1) + start(0) + start(1) + start(1, DO) + start(0, DO) + IDLE
    + finish() + IDLE + start(1) + IDLE + finish() + IDLE,
    "08-keep-abandoned": opts(keep=True) + start(2, DO) + IDLE + cancel(0) + IDLE + start(2) + IDLE
    + cancel(1) + forget(2) + start(2, SHARED) + IDLE + finish(0) + finish(0, True) + IDLE,
    "09-shutdown-with-callers-parked": opts(shutdown=True) + start(0) + start(0, DO, True) + start(1, SHARED)
    + run_one() + run_one(True) + start(2, DO),
    "10-immediate-loaders": opts() + start(0, DO, loader=VALUE) + start(1, SHARED, loader=THROW)
    + start(2, loader=THROW_EARLY) + start(3, DO, True, loader=VALUE) + IDLE,
    "11-two-contexts-step-by-step": opts() + start(0, DO, True) + start(0, CALLBACK, True) + start(0, SHARED)
    + run_one() + run_one(True) + run_one() + run_one(True) + finish() + run_one() + cancel(1)
    + run_one(True) + run_one() + IDLE,
    "12-cancel-before-start": opts() + start(1, DO) + start(1, SHARED, True, True) + cancel(0) + cancel(1, ALL)
    + IDLE + start(1, DO) + IDLE + finish() + IDLE,
    "13-destroy-keep-shutdown": opts(keep=True, shutdown=True, callers_first=True) + start(0, DO) + start(1)
    + IDLE + DESTROY + start(0, DO, True) + run(),
    "14-finish-after-abandon": opts() + start(3, DO) + IDLE + cancel(0) + finish() + IDLE + start(3) + IDLE
    + finish(0, True) + IDLE,
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(bytes(data))
    print(f"{len(SEEDS)} seeds in {out}")


if __name__ == "__main__":
    main()
