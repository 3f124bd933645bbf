"""A client for OpenAI-compatible chat-completions servers (Ollama, llama.cpp, vLLM, ...), on the
standard library alone.

One promise above all: the caller never waits past the timeout, whatever the server or the
network does. The request runs in a worker thread that hands the reply's text over a queue; the
caller waits on the queue with the time left and, at the deadline, shuts the connection and
raises LLMError. Every failure is one line naming the server, never the API key.
"""
from __future__ import annotations

import http.client
import json
import os
import queue
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Iterator
from urllib.parse import urlsplit, urlunsplit

from .errors import CareqaError, SettingsError

MAX_REPLY_CHARS = 40_000  # far beyond any answer max_tokens allows: past this the server is babbling
MAX_ERROR_BODY = 2_000  # bytes of an error reply read for its message
_DONE = object()


def shown_address(url: str) -> str:
    """A model server's address as messages and pages may show it: scheme, host, port and path
    only (a query string could carry a key)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


class LLMError(CareqaError):
    """The model server could not give an answer: down, slow, refused or sent something unusable."""


@dataclass(frozen=True)
class Endpoint:
    """Where and how to ask: the chat-completions URL, the model, the time allowed, the key."""

    url: str
    model: str
    timeout: float
    max_tokens: int = 600
    api_key: str = field(default="", repr=False)

    @classmethod
    def from_settings(cls, settings) -> "Endpoint | None":
        """The configured endpoint, or None when no model server is set (extractive answers)."""
        if not settings.llm_url:
            return None
        key = os.environ.get(settings.llm_key_env, "")
        if any(c.isspace() or ord(c) < 32 for c in key.strip()):
            raise SettingsError(f"the API key in {settings.llm_key_env} holds a space or control character")
        return cls(settings.llm_url, settings.llm_model, settings.llm_timeout, settings.llm_max_tokens, key.strip())

    @property
    def address(self) -> str:
        return shown_address(self.url)

    @property
    def completions(self) -> str:
        """The chat-completions address under the base URL (a full address is kept as it is)."""
        base = self.url.rstrip("/")
        return base if base.endswith("/chat/completions") else base + "/chat/completions"


def chat_stream(endpoint: Endpoint, messages: list[dict]) -> Iterator[str]:
    """The reply's text in pieces as the server writes them; LLMError on any failure, at the
    latest when endpoint.timeout seconds have passed since the call."""
    deadline = time.monotonic() + endpoint.timeout
    body = json.dumps({"model": endpoint.model, "messages": messages, "stream": True, "temperature": 0,
                       "max_tokens": endpoint.max_tokens}).encode()
    out: queue.Queue = queue.Queue()
    held: list[http.client.HTTPConnection] = []
    stop = threading.Event()
    worker = threading.Thread(target=_pump, args=(endpoint, body, out, held, deadline, stop), daemon=True)
    worker.start()
    finished = False
    try:
        while True:
            try:
                item = out.get(timeout=max(deadline - time.monotonic(), 0.0))
            except queue.Empty:
                raise LLMError(f"the model server at {endpoint.address} did not finish within "
                               f"{endpoint.timeout:g} s") from None
            finished = item is _DONE or isinstance(item, LLMError)
            if item is _DONE:
                return
            if finished:
                raise item
            yield item
    finally:
        if not finished:  # given up (deadline, or the caller stopped reading): free the worker now
            stop.set()
            _shut(held)


def chat(endpoint: Endpoint, messages: list[dict]) -> str:
    """The whole reply's text (the stream, joined)."""
    return "".join(chat_stream(endpoint, messages))


def _shut(held: list) -> None:
    """Stop a worker still reading: shutting the socket wakes a blocked recv at once."""
    for conn in held:
        sock = getattr(conn, "sock", None)
        try:
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _pump(endpoint: Endpoint, body: bytes, out: queue.Queue, held: list, deadline: float,
          stop: threading.Event) -> None:
    """The worker: send the request, put each piece of text on the queue, then _DONE or an LLMError."""
    parts = urlsplit(endpoint.completions)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = kind(parts.hostname, parts.port, timeout=max(deadline - time.monotonic(), 0.01))
    held.append(conn)
    headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
    if endpoint.api_key:
        headers["Authorization"] = f"Bearer {endpoint.api_key}"
    try:
        conn.request("POST", parts.path + (f"?{parts.query}" if parts.query else ""), body, headers)
        response = conn.getresponse()
        if response.status != 200:
            raise LLMError(_status_line(endpoint, response))
        size = 0
        for piece in _pieces(endpoint, response):
            if stop.is_set():
                return
            size += len(piece)
            if size > MAX_REPLY_CHARS:
                raise LLMError(f"the model server at {endpoint.address} sent more than {MAX_REPLY_CHARS} characters")
            out.put(piece)
        out.put(_DONE)
        response.read(MAX_ERROR_BODY)  # the stream's closing bytes, so the connection closes cleanly
    except LLMError as exc:
        out.put(LLMError(_redact(str(exc), endpoint)))
    except Exception as exc:  # noqa: BLE001 - every failure becomes one line for the user
        out.put(LLMError(_redact(_failure(endpoint, exc), endpoint)))
    finally:
        conn.close()


def _pieces(endpoint: Endpoint, response) -> Iterator[str]:
    """Text deltas of a streamed reply (server-sent events), or the whole text of a JSON reply
    from a server that does not stream."""
    kind = (response.getheader("Content-Type") or "").lower()
    if "text/event-stream" not in kind:
        yield _content(endpoint, _json(endpoint, response.read(MAX_REPLY_CHARS * 4)), "message")
        return
    while True:
        line = response.readline()
        if not line:
            raise LLMError(f"the model server at {endpoint.address} closed the stream before it ended")
        text = line.decode("utf-8", "replace").strip()
        if not text.startswith("data:"):
            continue  # blank separators, comments, event names
        data = text[5:].strip()
        if data == "[DONE]":
            return
        piece = _content(endpoint, _json(endpoint, data.encode()), "delta")
        if piece:
            yield piece


def _json(endpoint: Endpoint, raw: bytes) -> dict:
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        value = None
    if not isinstance(value, dict):
        raise LLMError(f"the model server at {endpoint.address} sent something that is not a chat-completions reply")
    if value.get("error"):
        raise LLMError(f"the model server at {endpoint.address} reported an error: {_message(value)}")
    return value


def _content(endpoint: Endpoint, value: dict, part: str) -> str:
    """The text of choices[0].delta (streamed) or choices[0].message (whole)."""
    try:
        choice = value["choices"][0] if value["choices"] else {}
        text = (choice.get(part) or {}).get("content") or ""
    except (KeyError, TypeError, AttributeError, IndexError):
        raise LLMError(f"the model server at {endpoint.address} sent a reply without choices") from None
    if not isinstance(text, str):
        raise LLMError(f"the model server at {endpoint.address} sent a reply whose content is not text")
    return text


def _message(value: dict) -> str:
    error = value.get("error")
    text = error.get("message") if isinstance(error, dict) else error
    return " ".join(str(text or "unknown error").split())[:300]


def _status_line(endpoint: Endpoint, response) -> str:
    raw = response.read(MAX_ERROR_BODY)
    try:
        detail = _message(json.loads(raw))
    except (ValueError, UnicodeDecodeError, AttributeError):
        detail = " ".join(raw.decode("utf-8", "replace").split())[:200] or response.reason
    hint = " (check the API key)" if response.status in (401, 403) else ""
    return f"the model server at {endpoint.address} answered HTTP {response.status}: {detail}{hint}"


def _failure(endpoint: Endpoint, exc: Exception) -> str:
    """One line for a network or protocol failure."""
    where = f"the model server at {endpoint.address}"
    if isinstance(exc, ConnectionRefusedError):
        return f"cannot reach {where} (connection refused): is it running?"
    if isinstance(exc, socket.gaierror):
        return f"cannot find the host of {where} ({exc.strerror or exc})"
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return f"{where} did not answer within {endpoint.timeout:g} s"
    if isinstance(exc, ssl.SSLError):
        return f"cannot talk TLS to {where} ({exc.reason or exc})"
    if isinstance(exc, http.client.HTTPException):
        return f"{where} did not answer in HTTP ({type(exc).__name__})"
    if isinstance(exc, OSError):
        return f"lost the connection to {where} ({exc.strerror or type(exc).__name__})"
    return f"{where} failed ({type(exc).__name__})"


def _redact(text: str, endpoint: Endpoint) -> str:
    """The message with the API key blanked, in case a server echoes it."""
    return text.replace(endpoint.api_key, "***") if endpoint.api_key else text
