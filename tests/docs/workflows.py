#!/usr/bin/env python3
"""actionlint on every GitHub Actions example of README.md and docs/*.md.

Each fenced `yaml` block is linted as a workflow: a whole workflow as it stands (with `on: push`
added when the example leaves its trigger out), a list of steps inside one job, a step's `with:`
block or bare inputs inside a step that uses the action. A GitLab CI example (`stage:`,
`script:`) is not a workflow and is left to tests/it/docs.rs, which parses every block.

Usage: tests/docs/workflows.py   (needs actionlint on PATH; .ci/run installs it)
"""

import glob
import os
import re
import subprocess
import sys
import tempfile
import textwrap

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def blocks(path):
    """(line, text) of each fenced yaml block."""
    found, body, start = [], None, 0
    with open(path, encoding="utf-8") as page:
        for n, line in enumerate(page, 1):
            if body is None and line.strip() == "```yaml":
                body, start = [], n + 1
            elif body is not None and line.strip() == "```":
                found.append((start, "".join(body)))
                body = None
            elif body is not None:
                body.append(line)
    return found


def as_workflow(text):
    """The example as a whole workflow, or None when it is not a GitHub Actions one."""
    text = textwrap.dedent(text)
    lines = [l for l in text.splitlines() if l.strip() and not l.lstrip().startswith("#")]
    first = lines[0].lstrip() if lines else ""
    if re.search(r"^(stage|script|when):", text, re.M) or re.search(r"^\S+:\n  stage:", text, re.M):
        return None
    if re.search(r"^jobs:", text, re.M):
        return text if re.search(r"^on:", text, re.M) else "on: push\n" + text
    job = "on: push\njobs:\n  example:\n    runs-on: ubuntu-latest\n    strategy:\n      matrix:\n        os: [ubuntu-latest]\n    steps:\n"
    if first.startswith("- "):
        return job + textwrap.indent(text, " " * 6)
    if first.startswith("with:"):
        return job + "      - uses: OWNER/onfail@v1\n" + textwrap.indent(text, " " * 8)
    return job + "      - uses: OWNER/onfail@v1\n        with:\n" + textwrap.indent(text, " " * 10)


def main():
    pages = [os.path.join(REPO, "README.md")] + sorted(glob.glob(os.path.join(REPO, "docs", "*.md")))
    failures, linted = 0, 0
    with tempfile.TemporaryDirectory() as scratch:
        for page in pages:
            for line, text in blocks(page):
                workflow = as_workflow(text)
                where = f"{os.path.relpath(page, REPO)}:{line}"
                if workflow is None:
                    continue
                path = os.path.join(scratch, f"example-{linted}.yml")
                with open(path, "w", encoding="utf-8") as out:
                    out.write(workflow)
                linted += 1
                result = subprocess.run(["actionlint", "-no-color", path], capture_output=True, text=True)
                if result.returncode == 0:
                    print(f"  ok: {where}")
                else:
                    failures += 1
                    print(f"  FAILED: {where}:\n{result.stdout}{result.stderr}\n--- as linted:\n{workflow}", file=sys.stderr)
    print(f"workflow examples: {linted - failures} passed, {failures} failed")
    if linted < 10:
        print(f"only {linted} workflow examples were found", file=sys.stderr)
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
