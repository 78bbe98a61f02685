#!/usr/bin/env python3
"""A fake provider for benchmarks: answers every POST on 127.0.0.1:PORT with a canned reply for
its path, optionally after a delay. Prints the port it bound, then serves until killed.

Usage: fake_provider.py [DELAY] [CERT.pem KEY.pem]   (with a certificate it speaks HTTPS)"""
import json
import socket
import ssl
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DELAY = float(sys.argv[1]) if len(sys.argv) > 1 else 0.0
TLS = sys.argv[2:4] if len(sys.argv) > 3 else None

REPLIES = {
    "send-sms": {"response": {"status": {"code": 200, "message": "ok"}, "order": {"id": "4711"}}},
    "webhook/receive": {"message": "1 call(s) queued", "status": "success"},
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if DELAY:
            time.sleep(DELAY)
        reply = next((r for p, r in REPLIES.items() if p in self.path), {"ok": True})
        body = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    def get_request(self):
        conn, addr = super().get_request()
        # Without this, Nagle's algorithm holds the small answer back and dominates the timing.
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn, addr


server = Server(("127.0.0.1", 0), Handler)
if TLS:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*TLS)
    server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
