#!/usr/bin/env python3
"""Runs a command N times and prints its largest peak RSS in KiB (Linux ru_maxrss)."""
import os
import subprocess
import sys

runs, command = int(sys.argv[1]), sys.argv[2:]
peak = 0
for _ in range(runs):
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"command failed: {command}")
    peak = max(peak, usage.ru_maxrss)
print(peak)
