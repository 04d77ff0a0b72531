"""A real HTTP server on 127.0.0.1 for outbound-HTTP tests: routes are plain functions
that write the response by hand (so they can lie about lengths, drip, or never end), and
every request received is recorded for the test to check."""

from __future__ import annotations

import http.server
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

Route = Callable[[http.server.BaseHTTPRequestHandler], None]
# However a client misbehaves, a streaming route stops after this much, so a broken test
# fails instead of hanging.
STREAM_LIMIT_BYTES = 64 * 1024 * 1024
STREAM_LIMIT_SECONDS = 30.0


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class LocalServer:
    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.routes: dict[str, Route] = {}
        self.received: list[Received] = []
        self.bytes_sent = 0
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                server.received.append(
                    Received(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                route = server.routes.get(self.path.split("?")[0])
                if route is None:
                    send(self, 404, b"no such route", "text/plain")
                else:
                    route(self)
                self.close_connection = True

            do_GET = do_POST = do_HEAD = do_PUT = _serve  # noqa: N815

            def log_message(self, format, *args):  # noqa: A002
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.scheme = "https" if tls else "http"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> LocalServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"


def send(handler, status: int, body: bytes, content_type: str, **headers: str) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.send_header("Connection", "close")
    for name, value in headers.items():
        handler.send_header(name.replace("_", "-"), value)
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(body)


def redirect(location: str, status: int = 302) -> Route:
    def route(handler) -> None:
        send(handler, status, b"", "text/plain", Location=location)

    return route


def endless(handler, server: LocalServer, *, content_length: str | None, chunked: bool) -> None:
    """An image/png body that never ends (until the client hangs up or the safety limit)."""
    handler.send_response(200)
    handler.send_header("Content-Type", "image/png")
    if content_length is not None:
        handler.send_header("Content-Length", content_length)
    if chunked:
        handler.send_header("Transfer-Encoding", "chunked")
    handler.send_header("Connection", "close")
    handler.end_headers()
    block = b"\x89PNG" + bytes(64 * 1024 - 4)
    try:
        while server.bytes_sent < STREAM_LIMIT_BYTES:
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(block), block) if chunked else block)
            server.bytes_sent += len(block)
    except OSError:
        return  # the client hung up: what a safe client does


def drip(handler, server: LocalServer, *, in_headers: bool, every: float = 0.05) -> None:
    """A response sent one byte at a time, each well within any per-read timeout."""
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n"
    )
    started = time.monotonic()
    try:
        if not in_headers:
            handler.wfile.write(head)
        stream = (head if in_headers else b"") + bytes(100000)
        for i in range(len(stream)):
            if time.monotonic() - started > STREAM_LIMIT_SECONDS:
                return
            handler.wfile.write(stream[i : i + 1])
            server.bytes_sent += 1
            time.sleep(every)
    except OSError:
        return
