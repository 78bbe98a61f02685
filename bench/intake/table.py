#!/usr/bin/env python3
"""Turns bench/out/intake's raw figures into one Markdown table, with the goals of the intake.

Usage: table.py OUT CONNECTIONS SECONDS"""
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

out, connections, seconds = Path(sys.argv[1]), sys.argv[2], sys.argv[3]


def lines(name):
    return [json.loads(line) for line in (out / name).read_text().splitlines() if line.strip()]


rounds = lines("rounds.jsonl")
rss = {r["server"]: r["vmhwm_kib"] / 1024 for r in lines("rss.jsonl")}
kept = {r["server"]: r["kept"] for r in lines("kept.jsonl")}
servers = list(dict.fromkeys(r["server"] for r in rounds))
figures = {}
for name in servers:
    mine = [r for r in rounds if r["server"] == name]
    w = [r["wrk"] for r in mine]
    figures[name] = {
        "rps": [x["requests"] / x["seconds"] for x in w],
        "p99": [x["p99_us"] / 1000 for x in w],
        # Of every request of the run, the share slower than 10 ms: the p99 of them all is within
        # 10 ms when this is at most 1 %.
        "over_10ms": sum(x["over_10ms"] * x["requests"] for x in w) / sum(x["requests"] for x in w),
        "failed": sum(x["non_2xx"] + x["connect"] + x["read"] + x["write"] + x["timeout"] for x in w),
        # The check request before the rounds got its 200 too.
        "answered": sum(x["requests"] - x["non_2xx"] for x in w) + 1,
        "load": [r["load_before"] for r in mine] + [r["load_after"] for r in mine],
    }

LABELS = {
    "onfail-glibc": "`onfail serve`, SQLite (release, glibc)",
    "onfail-musl": "`onfail serve`, SQLite (release, static musl)",
    "express": "Express 4 on Node, in-memory Map",
    "floor": "floor: bare axum, keeps nothing",
}
median = statistics.median
express, floor = median(figures["express"]["rps"]), median(figures["floor"]["rps"])
cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")), platform.processor())
cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
loads = [x for f in figures.values() for x in f["load"]]
print(f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {cpu}, {cores} cores, "
      f"{platform.system()} {platform.release()}; wrk -t 2 -c {connections}, {seconds} s per server and "
      f"round, {len(figures['floor']['rps'])} rounds interleaved; load average (1 min) during the run "
      f"{min(loads):.1f} to {max(loads):.1f}.\n")
print("| server | requests/s (median; each round) | p99 latency (median; worst round) | slower than 10 ms (all rounds) "
      "| peak RSS | failed | answered 200 / kept |")
print("|---|---:|---:|---:|---:|---:|---:|")
for name in servers:
    f = figures[name]
    each = ", ".join(f"{x:,.0f}" for x in f["rps"])
    stored = kept.get(name)
    kept_cell = f"{f['answered']:,} / {stored:,}" if stored is not None else f"{f['answered']:,} / none kept"
    print(f"| {LABELS.get(name, name)} | **{median(f['rps']):,.0f}** ({each}) | {median(f['p99']):.1f} ms "
          f"({max(f['p99']):.1f} ms) | {100 * f['over_10ms']:.2f} % | {rss[name]:.1f} MiB | {f['failed']} | {kept_cell} |")
print()


def mark(ok):
    return "met" if ok else "**missed**"


print("| goal (each onfail build) | " + " | ".join(LABELS[n].split(" (")[-1].rstrip(")") for n in servers
                                                 if n.startswith("onfail")) + " |")
print("|---|" + "---|" * sum(n.startswith("onfail") for n in servers))
checks = [
    ("≥ 5× Express's requests/s", lambda f, n: (median(f["rps"]) / express, median(f["rps"]) >= 5 * express), "{:.1f}×"),
    ("≥ 1/3 of the floor's requests/s", lambda f, n: (median(f["rps"]) / floor, 3 * median(f["rps"]) >= floor), "{:.2f}"),
    ("p99 ≤ 10 ms, over every request of the run (at most 1 % slower)",
     lambda f, n: (100 * f["over_10ms"], f["over_10ms"] <= 0.01), "{:.2f} % slower"),
    ("p99 ≤ 10 ms in every round too (worst round)", lambda f, n: (max(f["p99"]), max(f["p99"]) <= 10), "{:.1f} ms"),
    ("peak RSS ≤ 64 MiB", lambda f, n: (rss[n], rss[n] <= 64), "{:.1f} MiB"),
    ("zero failed requests", lambda f, n: (f["failed"], f["failed"] == 0), "{}"),
    ("every answered report durable (counted after SIGKILL)",
     lambda f, n: (kept.get(n, 0) - f["answered"], kept.get(n, 0) >= f["answered"]), "{:+,} rows"),
]
for label, check, shape in checks:
    cells = []
    for name in (n for n in servers if n.startswith("onfail")):
        value, ok = check(figures[name], name)
        cells.append(f"{shape.format(value)} {mark(ok)}")
    print(f"| {label} | " + " | ".join(cells) + " |")
