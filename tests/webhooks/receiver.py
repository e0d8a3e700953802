"""A real webhook receiver on 127.0.0.1: an HTTP server in a thread that verifies each message
with the Standard Webhooks library against the secrets it is given, and answers with the
statuses it is told to (then 200)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    headers: dict[str, str]
    body: str
    # Which of the receiver's secrets verified this message (indexes into `secrets`).
    verified_by: list[int]

    @property
    def payload(self) -> Any:
        return json.loads(self.body)

    @property
    def message_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Receiver:
    url: str = ""
    secrets: list[str] = field(default_factory=list)
    # Statuses to answer with, in order; when they run out, 200.
    script: list[int] = field(default_factory=list)
    always: int | None = None  # answer this to everything (a receiver that is down)
    location: str | None = None  # sent with a 3xx answer
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def types(self) -> list[str]:
        return [item.payload["type"] for item in self.received]

    def next_status(self) -> int:
        with self.lock:
            if self.always is not None:
                return self.always
            return self.script.pop(0) if self.script else 200

    def verify(self, body: str, headers: dict[str, str]) -> list[int]:
        verified = []
        for index, secret in enumerate(self.secrets):
            try:
                Webhook(secret).verify(body, headers)
            except WebhookVerificationError:
                continue
            verified.append(index)
        return verified


@contextmanager
def receiving() -> Iterator[Receiver]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length).decode()
            headers = {key.lower(): value for key, value in self.headers.items()}
            item = Received(headers, body, receiver.verify(body, headers))
            with receiver.lock:
                receiver.received.append(item)
            status = receiver.next_status()
            answer = b'{"ok":true}' if status < 300 else b"receiver is broken " * 100
            self.send_response(status)
            self.send_header("content-length", str(len(answer)))
            if 300 <= status < 400 and receiver.location:
                self.send_header("location", receiver.location)
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            del format, args

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/digilocker"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
