#!/usr/bin/env python3
"""Reads `cargo metadata --format-version 1` on stdin and fails when a locked dependency (any
platform, dev and build dependencies included) declares a rust-version newer than onfail's own
`rust-version` in Cargo.toml. Half of the MSRV check in .ci/run; clippy's incompatible_msrv lint
is the other half."""

import json
import sys


def version(text: str) -> tuple[int, ...]:
    # "1.89" and "1.89.0" are the same version.
    return (tuple(int(n) for n in text.split(".")) + (0, 0, 0))[:3]


def main() -> None:
    meta = json.load(sys.stdin)
    ours = next(p for p in meta["packages"] if p["id"] in meta["workspace_members"])
    msrv = version(ours["rust_version"])
    used = {node["id"] for node in meta["resolve"]["nodes"]}
    newer = [
        "%s %s needs Rust %s" % (p["name"], p["version"], p["rust_version"])
        for p in meta["packages"]
        if p["id"] in used and p.get("rust_version") and version(p["rust_version"]) > msrv
    ]
    if newer:
        sys.exit("locked dependencies newer than rust-version %s:\n  %s" % (ours["rust_version"], "\n  ".join(newer)))
    print("ok: rust-version %s covers all %d locked packages" % (ours["rust_version"], len(used)))


if __name__ == "__main__":
    main()
