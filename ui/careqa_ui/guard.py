"""The app's door: limits per client (by address) that Gradio does not keep itself.

Uploads. Gradio writes every POST to /gradio_api/upload into its cache before any handler runs,
and keeps it until its `delete_cache` schedule removes it. So an upload must say its size, and
is refused (429) when the client's uploads not yet added would pass Settings.upload_pending_mb
with it, or (507) when everyone's would pass Settings.upload_cache_mb. An upload that fails
half-way still counts against its client until the sweep. A file handed to an event as a web
address (Gradio would fetch it into its cache) and Gradio's recording route, which careqa never
uses, are refused too.

Logins. After FREE_LOGIN_FAILURES wrong passwords in a row from one address, each further try
waits before it is answered, doubling up to MAX_LOGIN_DELAY; the tries of one address are
answered one at a time, so sending them together does not skip the wait.

Behind a reverse proxy every client has the proxy's address, and shares these limits.
"""
from __future__ import annotations

import asyncio
import json
import os
import time
import uuid

from careqa.config import Settings

MB = 1 << 20
FILE_FLOOR = 4096  # a file costs at least a disk block, however small: many tiny files are no free ride
SWEEP_SECONDS = 60  # how often files gone from the cache are forgotten (and, in careqa's own folder, old ones deleted)
FREE_LOGIN_FAILURES = 5  # typing mistakes happen; a sixth wrong password in a row is someone guessing
FIRST_LOGIN_DELAY = 1.0  # seconds the sixth try waits, doubling with each further one
MAX_LOGIN_DELAY = 30.0  # someone locked out by their own mistakes waits half a minute at most
FORGET_LOGIN_SECONDS = 900  # a quarter of an hour without a try: the count of failures starts again
EVENT_ROUTES = ("/gradio_api/queue/join", "/gradio_api/call/", "/gradio_api/run/", "/gradio_api/api/")


def client_of(scope: dict) -> str:
    return (scope.get("client") or ("unknown",))[0]


async def reply(send, status: int, text: str) -> None:
    """A plain-text answer of its own to a request the app never sees."""
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
    await send({"type": "http.response.body", "body": text.encode()})


def watching(send, seen: dict):
    """`send`, noting the response's status and (when seen["body"] is a bytearray) its body."""
    async def watched(message: dict) -> None:
        if message["type"] == "http.response.start":
            seen["status"] = message["status"]
        elif message["type"] == "http.response.body" and isinstance(seen.get("body"), bytearray):
            seen["body"] += message.get("body", b"")
        await send(message)
    return watched


class Uploads:
    """What each client has uploaded and not yet added (files Gradio reported writing, failed
    uploads counted by their size until the sweep) and what is being uploaded now."""

    def __init__(self, settings: Settings, folder: str, own_folder: bool):
        self.settings, self.folder, self.own_folder = settings, folder, own_folder
        self.held: dict[str, tuple[str, int, float]] = {}  # path (or a failed upload's key) -> client, bytes, when
        self.reserved: dict[str, int] = {}
        self.swept = time.monotonic()

    def waiting(self, client: str | None = None) -> int:
        """Bytes uploaded and not yet added, by one client or (None) by all."""
        return sum(size for who, size, _ in self.held.values() if client in (None, who)) + \
            sum(size for who, size in self.reserved.items() if client in (None, who))

    def sweep(self, client: str) -> None:
        """Forget files no longer in the cache (the client's at once, everyone's every
        SWEEP_SECONDS) and failed uploads past their time; in careqa's own folder, delete old files."""
        old = time.time() - 60 * self.settings.upload_minutes
        everyone = time.monotonic() - self.swept > SWEEP_SECONDS
        for key, (who, _, when) in list(self.held.items()):
            gone = when < old if key.startswith("failed:") else not os.path.exists(key)
            if (everyone or who == client) and gone:
                del self.held[key]
        if everyone:
            self.swept = time.monotonic()
            if self.own_folder:
                delete_older(self.folder, old)

    def refusal(self, client: str, size: int) -> tuple[int, str] | None:
        """(status, message) when an upload of `size` bytes from `client` is over a cap."""
        mine, everyone = self.waiting(client) + size, self.waiting() + size
        minutes = f"uploads not added are deleted after {self.settings.upload_minutes:g} minutes"
        if mine > self.settings.upload_pending_mb * MB:
            return 429, (f"Upload refused: with this one ({size / MB:.2f} MB) your uploads not yet added would "
                         f"come to {mine / MB:.2f} MB, over the {self.settings.upload_pending_mb:g} MB one user may "
                         f"have waiting (CAREQA_UPLOAD_PENDING_MB). Add them to the corpus first; {minutes}.")
        if everyone > self.settings.upload_cache_mb * MB:
            return 507, (f"Upload refused: the server's space for uploads is full "
                         f"({self.settings.upload_cache_mb:g} MB, CAREQA_UPLOAD_CACHE_MB); {minutes}.")
        return None

    async def __call__(self, app, scope, receive, send) -> None:
        client, length = client_of(scope), dict(scope["headers"]).get(b"content-length", b"")
        if not length.isdigit():
            return await reply(send, 411, "Upload refused: say its size (a Content-Length header).")
        size = int(length)
        self.sweep(client)
        problem = self.refusal(client, size)
        if problem:
            return await reply(send, *problem)
        self.reserved[client] = self.reserved.get(client, 0) + size
        seen: dict = {"body": bytearray()}
        try:
            await app(scope, receive, watching(send, seen))
        finally:
            self.reserved[client] -= size
            if not self.reserved[client]:
                del self.reserved[client]
            self.record(client, size, seen)

    def record(self, client: str, size: int, seen: dict) -> None:
        """Hold the files a successful upload wrote against its client; a failed one by its size."""
        try:
            paths = json.loads(bytes(seen["body"])) if seen.get("status") == 200 else None
        except ValueError:
            paths = None
        if not isinstance(paths, list):
            self.held[f"failed:{uuid.uuid4().hex}"] = (client, size, time.time())
            return
        for path in paths:
            if isinstance(path, str) and os.path.isfile(path):
                self.held[path] = (client, max(FILE_FLOOR, os.path.getsize(path)), time.time())


def delete_older(folder: str, before: float) -> None:
    """Delete files under `folder` last changed before `before` (epoch seconds), then empty folders."""
    for root, dirs, files in os.walk(folder, topdown=False):
        for name in files:
            path = os.path.join(root, name)
            try:
                if os.lstat(path).st_ctime < before:
                    os.unlink(path)
            except OSError:
                continue
        if root != folder and not os.listdir(root):
            os.rmdir(root)


class Logins:
    """Wrong passwords counted per address; tries past the free ones wait, one at a time."""

    def __init__(self):
        self.failures: dict[str, tuple[int, float]] = {}
        self.locks: dict[str, asyncio.Lock] = {}

    def count(self, client: str) -> int:
        """Wrong passwords in a row from this address (forgotten after a long pause)."""
        count, last = self.failures.get(client, (0, 0.0))
        return count if time.monotonic() - last <= FORGET_LOGIN_SECONDS else 0

    def delay(self, client: str) -> float:
        extra = self.count(client) - FREE_LOGIN_FAILURES
        return 0.0 if extra < 0 else min(MAX_LOGIN_DELAY, FIRST_LOGIN_DELAY * 2 ** extra)

    async def __call__(self, app, scope, receive, send) -> None:
        client = client_of(scope)
        lock = self.locks.setdefault(client, asyncio.Lock())
        async with lock:
            await asyncio.sleep(self.delay(client))
            seen: dict = {}
            await app(scope, receive, watching(send, seen))
            if seen.get("status") in (400, 401):
                self.failures[client] = (self.count(client) + 1, time.monotonic())
            elif seen.get("status") == 200:
                self.failures.pop(client, None)
        if client not in self.failures and not lock.locked():
            self.locks.pop(client, None)


async def fetches_a_url(receive) -> tuple[bool, list[dict]]:
    """Whether an event's JSON body hands over a file as a web address, and the body's messages
    to replay to the app."""
    messages, body = [], bytearray()
    while True:
        message = await receive()
        messages.append(message)
        body += message.get("body", b"")
        if message["type"] != "http.request" or not message.get("more_body"):
            break
    try:
        data = json.loads(bytes(body))
    except ValueError:
        return False, messages
    return any(isinstance(d.get("path"), str) and d["path"].lstrip().lower().startswith(("http:", "https:"))
               for d in dicts(data)), messages


def dicts(value):
    """Every dict inside a JSON value."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


class Guard:
    """ASGI middleware applying the limits above in front of the Gradio app."""

    def __init__(self, app, settings: Settings, upload_folder: str, own_folder: bool):
        self.app, self.uploads, self.logins = app, Uploads(settings, upload_folder, own_folder), Logins()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        path = scope["path"].rstrip("/")
        if path == "/login":
            return await self.logins(self.app, scope, receive, send)
        if path == "/gradio_api/upload":
            return await self.uploads(self.app, scope, receive, send)
        if path == "/gradio_api/process_recording":
            return await reply(send, 404, "Not found.")
        if path.startswith(EVENT_ROUTES):
            fetch, messages = await fetches_a_url(receive)
            if fetch:
                return await reply(send, 400, "careqa takes files uploaded to it, never a web address to fetch.")
            replay = iter(messages)

            async def replayed() -> dict:
                return next(replay, None) or await receive()

            return await self.app(scope, replayed, send)
        await self.app(scope, receive, send)
