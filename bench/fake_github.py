#!/usr/bin/env python3
"""A fake GitHub REST API for benchmarks: the three Actions endpoints onfail reads for
--notify-when changes, with a page of 30 realistic runs (the previous one succeeded) and a jobs
list. Prints the port it bound, then serves until killed."""
import json
import re
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def run(number, conclusion):
    run_id = 1000 + number
    repo = {"id": 1, "name": "api", "full_name": "acme/api", "private": False,
            "owner": {"login": "acme", "id": 2, "type": "Organization"},
            "html_url": "https://github.com/acme/api", "description": "x" * 200}
    return {"id": run_id, "name": "Deploy", "run_number": number, "run_attempt": 1, "event": "push",
            "status": "completed", "conclusion": conclusion, "head_branch": "main",
            "head_sha": "0123456789abcdef0123456789abcdef01234567", "workflow_id": 161335,
            "path": ".github/workflows/deploy.yml@refs/heads/main",
            "html_url": f"https://github.com/acme/api/actions/runs/{run_id}",
            "created_at": "2026-11-01T00:00:00Z", "updated_at": "2026-11-01T00:05:00Z",
            "head_commit": {"id": "0123456789abcdef", "message": "fix: things\n\n" + "y" * 300},
            "repository": repo, "head_repository": repo}


RUNS = {"total_count": 30, "workflow_runs": [run(n, "success" if n % 3 else "failure") for n in range(46, 16, -1)]}
JOBS = {"total_count": 6, "jobs": [
    {"id": 100 + i, "run_id": 1046, "name": name, "status": "completed", "conclusion": "success",
     "steps": [{"name": f"step {s}", "status": "completed", "conclusion": "success", "number": s} for s in range(8)]}
    for i, name in enumerate(["lint", "test (ubuntu-latest)", "test (macos-latest)", "deploy", "docs", "notify"])]}
JOB = {"id": 777, "run_id": 4242, "name": "deploy", "status": "in_progress"}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        path = self.path.split("?")[0]
        if re.fullmatch(r"/repos/acme/api/actions/workflows/[^/]+/runs", path):
            reply = RUNS
        elif re.fullmatch(r"/repos/acme/api/actions/runs/\d+/jobs", path):
            reply = JOBS
        elif re.fullmatch(r"/repos/acme/api/actions/jobs/\d+", path):
            reply = JOB
        else:
            reply = {"message": "Not Found"}
        body = json.dumps(reply).encode()
        status = "200 OK" if "message" not in reply else "404 Not Found"
        head = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        # One write: head and body in separate segments would meet the client's delayed ACK on a
        # kept-alive connection and add 40 ms per request that no real server adds.
        self.wfile.write(head.encode() + body)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
