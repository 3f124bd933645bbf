"""A real HTTP server on 127.0.0.1 speaking the chat-completions API with scripted replies.

It is not a model: every reply is written by the test (or, run as a script for
benchmarks/llm.py, copied from the prompt's first passage) so that careqa's client, prompt and
check are exercised over real sockets, streaming (server-sent events over chunked HTTP/1.1)
included. Run `python tests/chat_server.py --port 8099` to serve the copying script.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable


@dataclass
class Reply:
    """What the server sends: `text` streamed in pieces (or whole when the request does not
    stream), after `delay` seconds, `pause` seconds between pieces; or `status` with an error;
    or `raw` bytes with `content_type`, sent as they are (garbage)."""

    text: str = ""
    status: int = 200
    delay: float = 0.0
    pause: float = 0.0
    raw: bytes | None = None
    content_type: str = "text/plain"
    piece: int = 4


class _Quiet(ThreadingHTTPServer):
    """Handler threads that die with the process, and no traceback when a client hangs up early."""

    daemon_threads = True

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class ChatServer:
    """A ThreadingHTTPServer on a free port of 127.0.0.1; `requests` holds every request body."""

    def __init__(self, script: Callable[[dict], Reply], port: int = 0):
        self.script = script
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        self.server = _Quiet(("127.0.0.1", port), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> "ChatServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                owner.requests.append(body)
                owner.headers.append(dict(self.headers))
                if not self.path.endswith("/chat/completions"):
                    return self._send(404, "application/json", b'{"error": {"message": "no such route"}}')
                reply = owner.script(body)
                time.sleep(reply.delay)
                if reply.raw is not None:
                    return self._send(reply.status, reply.content_type, reply.raw)
                if reply.status != 200:
                    error = json.dumps({"error": {"message": reply.text or "scripted failure"}}).encode()
                    return self._send(reply.status, "application/json", error)
                if not body.get("stream"):
                    whole = {"object": "chat.completion", "model": body.get("model"),
                             "choices": [{"index": 0, "message": {"role": "assistant", "content": reply.text},
                                          "finish_reason": "stop"}]}
                    return self._send(200, "application/json", json.dumps(whole).encode())
                self._stream(body, reply)

            def _send(self, status: int, kind: str, data: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _chunk(self, data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

            def _stream(self, body: dict, reply: Reply) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    for i in range(0, len(reply.text), reply.piece):
                        delta = {"object": "chat.completion.chunk", "model": body.get("model"),
                                 "choices": [{"index": 0, "delta": {"content": reply.text[i:i + reply.piece]},
                                              "finish_reason": None}]}
                        self._chunk(f"data: {json.dumps(delta)}\n\n".encode())
                        time.sleep(reply.pause)
                    self._chunk(b"data: [DONE]\n\n")
                    self._chunk(b"")
                except OSError:
                    pass  # the client hung up (a timeout test)

        return Handler


def passages_of(request: dict) -> dict[int, str]:
    """The passages careqa put in a request's prompt: number -> text."""
    user = request["messages"][-1]["content"]
    found = re.findall(r"<<<passage (\d+) (\w+)>>>\nSource: [^\n]*\n(.*?)\n<<<end \2>>>", user, re.S)
    return {int(n): text for n, _, text in found}


def copy_first_passage(request: dict) -> Reply:
    """The benchmark's script: the first two sentences of passage 1, cited [1]. Not a model's answer."""
    text = passages_of(request).get(1, "")
    sentences = re.split(r"(?<=[.!?])\s+", " ".join(text.split()))[:2]
    return Reply(" ".join(f"{s.rstrip('.')} [1]." for s in sentences if s) or "The passages do not cover this.")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=8099)
    args = ap.parse_args()
    with ChatServer(copy_first_passage, args.port) as server:
        print(f"scripted chat server (copies passage 1; not a model) on {server.url}", flush=True)
        try:
            server.thread.join()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
