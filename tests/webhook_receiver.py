"""A webhook receiver, as a partner would run one: it checks each request's Standard Webhooks
signature with the endpoint's secret and writes what it got, one JSON line per request.

Runs in a thread of the tests (`Receiver`) or as its own process, to be killed and restarted:
    python tests/webhook_receiver.py PORT SECRET FILE
"""

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        try:
            payload = Webhook(self.server.secret).verify(body, dict(self.headers))
            verified = True
        except WebhookVerificationError:
            payload, verified = json.loads(body), False
        status = self.server.answers.pop(0) if self.server.answers else 204
        got = {
            "id": self.headers["webhook-id"],
            "type": payload["type"],
            "data": payload["data"],
            "verified": verified,
            "status": status,
        }
        with self.server.lock, Path(self.server.record).open("a") as record:
            record.write(json.dumps(got) + "\n")
        self.send_response(status)
        if status in (301, 302, 307):
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        if self.server.dribble:  # an answer that never quite ends
            for _ in range(20):
                self.wfile.write(b".")
                self.wfile.flush()
                time.sleep(0.5)
            return
        body = self.server.body or (b"thanks" if status < 300 else b"not now: try later")
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def serve(port, secret, record):
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.secret, server.record, server.lock, server.answers = secret, record, threading.Lock(), []
    server.body, server.dribble = None, False  # what a test may make it answer
    return server


class Receiver:
    """A receiver in a thread of the test: `answers`, the status codes to give next (then 204);
    `got()`, what it received so far."""

    def __init__(self, secret, record):
        self.server = serve(0, secret, record)
        self.record = Path(record)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def answers(self):
        return self.server.answers

    def got(self):
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text().splitlines()]

    def stop(self):
        self.server.dribble = False
        self.server.shutdown()
        self.server.server_close()


if __name__ == "__main__":
    port, secret, record = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    serve(port, secret, record).serve_forever()
