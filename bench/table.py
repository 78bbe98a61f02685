#!/usr/bin/env python3
"""Turns the raw measurements in bench/out into one Markdown table, with the targets."""
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

out = Path(sys.argv[1])


def timing(file, name=None):
    results = json.loads((out / file).read_text())["results"]
    result = next(r for r in results if name is None or r["command"] == name)
    return result["mean"] * 1000, result["stddev"] * 1000, result["min"] * 1000


def number(file):
    return float((out / file).read_text().split()[0])


one = {name: timing("one.json", name) for name in ["onfail", "curl", "apprise", "node"]}
rss = {name: number(f"rss-{name}.txt") / 1024 for name in ["onfail", "curl", "apprise", "node", "four"]}
four = timing("four.json")
size, size_gz = number("size.txt") / 1e6, number("size-gz.txt") / 1e6
install = number("install.txt")
onfail_ms = one["onfail"][0]


def mark(ok):
    return "met" if ok else "**missed**"


cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")), platform.processor())
cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
print(f"Measured {time.strftime('%Y-%m-%d')} on {cpu}, {cores} cores, {platform.system()} "
      f"{platform.release()}; fake providers on 127.0.0.1.\n")
print("| measurement | onfail | curl | apprise | node + @actions/core | target | |")
print("|---|---:|---:|---:|---:|---|---|")
cells = " | ".join(f"{m:.1f} ± {s:.1f} ms" for m, s, _ in one.values())
target_ok = onfail_ms <= 0.5 * one["curl"][0] and all(one[p][0] >= 50 * onfail_ms for p in ["apprise", "node"])
print(f"| one voice alert POST (mean ± σ) | {cells} | ≤ 0.5× curl, ≥ 50× faster than apprise and node | "
      f"{mark(target_ok)} |")
ratios = " | ".join(f"{one[p][0] / onfail_ms:.1f}×" for p in ["onfail", "curl", "apprise", "node"])
print(f"| time relative to onfail | {ratios} | | |")
https = {f"{tool}-{setup}": timing(f"https-{setup}.json", f"{tool}-{setup}")
         for tool in ["onfail", "curl"] for setup in "ab"}
for setup, label in [("a", "private CA alone in `SSL_CERT_FILE`"),
                     ("b", "system bundle + private CA in `SSL_CERT_FILE`, `SSL_CERT_DIR=/etc/ssl/certs`")]:
    ours, curl = https[f"onfail-{setup}"], https[f"curl-{setup}"]
    ok = ours[0] <= 0.5 * curl[0]
    target = "≤ 0.5× curl"
    if setup == "b":
        ok = ok and ours[0] - https["onfail-a"][0] <= 2
        target += ", ≤ 2 ms over (a)"
    print(f"| one voice alert over HTTPS, {label} | {ours[0]:.1f} ± {ours[1]:.1f} ms | "
          f"{curl[0]:.1f} ± {curl[1]:.1f} ms | | | {target} | {mark(ok)} |")
print(f"| peak RSS, one alert | {rss['onfail']:.1f} MiB | {rss['curl']:.1f} MiB | {rss['apprise']:.1f} MiB | "
      f"{rss['node']:.1f} MiB | ≤ 8 MiB | {mark(rss['onfail'] <= 8)} |")
print(f"| four channels, each provider answering after 500 ms | {four[0]:.0f} ± {four[1]:.0f} ms | | | | "
      f"< 800 ms | {mark(four[0] < 800)} |")
print(f"| peak RSS, four channels | {rss['four']:.1f} MiB | | | | ≤ 8 MiB | {mark(rss['four'] <= 8)} |")
print(f"| static binary (stripped / gzip -9) | {size:.2f} MB / {size_gz:.2f} MB | | | | ≤ 6 MB (with the server) | {mark(size <= 6)} |")
print(f"| action install step from a local release asset (download, SHA-256 check, unpack) | "
      f"{install:.0f} ms | | | | | |")
