#!/usr/bin/env python3
"""Simulates N agents' Alertmanager outputs through an outage, with the backoff the
agent uses (agent/outputs/output.cpp, docs/DELIVERY.md), to predict what the fleet
bench measures after recovery (docs/FLEET.md).

The model, one output at a time (each agent has `outputs` of them, one per replica,
each with its own backoff):
- the outage starts at 0 and ends at `outage`; every flag is set at `flip` (1 s);
- the exec check runs every `exec_interval` at a phase of its own, so the incident
  opens uniformly within (flip, flip + exec_interval]; or, given `opened`, at
  those times (agents started within less than an exec interval of each other
  have phases closer together than uniform: the bench passes the openings it
  saw, each agent's first failed request less the flush interval);
- the output waits `flush_interval` (1 s) for its batch to fill, then sends;
- each failure waits min(1 s * 2^n, 60 s) * U(0.5, 1) before the n-th retry
  (n from 0), n growing until a request is answered;
- the first request after `outage` is accepted (it carries the open incident);
- afterwards the output re-sends its open incidents every 60 s at a phase of its
  own (uniform in the period), which adds to the requests per second.

  herd_sim.py N [--outage S] [--exec-interval S] [--outputs K] [--runs R]
"""

import argparse
import collections
import json
import random

BASE = 1.0
CAP = 60.0
FLUSH = 1.0
RESEND = 60.0


def seconds(text):
    text = str(text)
    for unit, mult in (("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)):
        if text.endswith(unit) and text[:-len(unit)].replace(".", "", 1).isdigit():
            return float(text[:-len(unit)]) * mult
    return float(text)


def one_output(rng, outage, opened):
    """(when its first request after the outage is accepted, failed requests)."""
    t, attempt, failures = opened + FLUSH, 0, 0
    while t < outage:
        failures += 1
        step = min(BASE * 2 ** min(attempt, 30), CAP)
        t += step * rng.uniform(0.5, 1.0)
        attempt += 1
    return t, failures


def run_once(rng, n, outage, exec_interval, outputs, opened=None, flip=1.0, window=CAP + 10):
    firsts, failures = [], 0
    per_second = collections.Counter()
    per_second_first = collections.Counter()
    per_replica_first = [collections.Counter() for _ in range(outputs)]
    for i in range(n):
        at = opened[i] if opened is not None else flip + rng.uniform(0, exec_interval)
        for r in range(outputs):
            t, f = one_output(rng, outage, at)
            failures += f
            d = t - outage
            firsts.append(d)
            per_second[int(d)] += 1
            per_second_first[int(d)] += 1
            per_replica_first[r][int(d)] += 1
            # Its periodic re-sends, once the backlog is delivered.
            tick = outage + rng.uniform(0, RESEND)
            while tick < outage + window:
                if tick > t:
                    per_second[int(tick - outage)] += 1
                tick += RESEND
    firsts.sort()
    return {
        "p50_s": firsts[len(firsts) // 2],
        "p99_s": firsts[min(len(firsts) - 1, int(0.99 * len(firsts)))],
        "p100_s": firsts[-1],
        "peak_first_per_s": max(per_second_first.values()),
        "peak_first_per_s_per_replica": max(max(c.values()) for c in per_replica_first),
        "peak_requests_per_s": max(per_second.values()),
        "retries_per_output": failures / (n * outputs),
    }


def simulate(n, outage=600, exec_interval=60, outputs=3, runs=5, seed=17, opened=None):
    """Means over `runs` runs of each figure run_once() gives; `opened`, when given,
    holds each of the n agents' incident opening (seconds into the outage)."""
    rng = random.Random(seed)
    results = [run_once(rng, n, outage, exec_interval, outputs, opened) for _ in range(runs)]
    return {k: round(sum(r[k] for r in results) / runs, 2) for k in results[0]}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("n", type=int)
    ap.add_argument("--outage", type=float, default=600)
    ap.add_argument("--exec-interval", default="60s")
    ap.add_argument("--outputs", type=int, default=3)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    print(json.dumps(simulate(args.n, args.outage, seconds(args.exec_interval), args.outputs,
                              args.runs), indent=1))


if __name__ == "__main__":
    main()
