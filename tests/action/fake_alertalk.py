#!/usr/bin/env python3
"""A fake Alertalk webhook for the action tests, which also stands in for Temperstack and
PagerDuty: listens on 127.0.0.1 (a free port), accepts a POST to any path, records every request
as one JSON line (method, path, lower-cased headers, body) and answers like Alertalk does when
calls are queued (a 200, which is all Temperstack's answer needs to be), or on /v2/enqueue like
PagerDuty's Events API does when it takes an event (a 202).

Usage: fake_alertalk.py PORT_FILE REQUESTS_FILE
Writes the chosen port to PORT_FILE once it listens; runs until killed.
"""

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ANSWER = b'{"message":"1 call(s) queued","status":"success"}'
PAGERDUTY_ANSWER = b'{"status":"success","message":"Event processed"}'


def main() -> None:
    port_file, requests_file = sys.argv[1], sys.argv[2]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8", "replace")
            record = {"method": "POST", "path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
            with open(requests_file, "a", encoding="utf-8") as out:
                out.write(json.dumps(record) + "\n")
            pagerduty = self.path == "/v2/enqueue"
            answer = PAGERDUTY_ANSWER if pagerduty else ANSWER
            self.send_response(202 if pagerduty else 200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass  # quiet: the requests file is the record

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(port_file + ".tmp", "w", encoding="utf-8") as out:
        out.write(str(server.server_address[1]))
    # Written whole, then renamed, so the reader never sees a half-written port.
    os.replace(port_file + ".tmp", port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
