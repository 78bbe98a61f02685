#!/usr/bin/env python3
"""Runs a command N times under GNU time and prints its largest peak RSS in KiB.

GNU time is a small C parent; measuring from Python itself would count the forked Python
interpreter's memory (about 13 MiB) against the command, before it execs."""
import subprocess
import sys
import tempfile

runs, command = int(sys.argv[1]), sys.argv[2:]
peak = 0
with tempfile.NamedTemporaryFile(mode="r") as report:
    for _ in range(runs):
        status = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", report.name, *command],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
        if status != 0:
            sys.exit(f"command failed: {command}")
        report.seek(0)
        peak = max(peak, int(report.read().split()[-1]))
print(peak)
