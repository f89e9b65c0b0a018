"""A latency proxy on 127.0.0.1: every request waits a fixed delay, then goes to the upstream.

`python -m bench.proxy --upstream http://127.0.0.1:PORT --delay-ms 0,30,100` listens on one
loopback port per delay, prints one JSON line `{"0": "http://127.0.0.1:P0", ...}` on stdout
and serves until its stdin closes. Its own process, so its work never shares a GIL with the
client being timed or with the server.

What it models: AWS's round trip. Each request is held `delay` before it is forwarded, once
per request, as a far endpoint would add. Connections are kept alive on both sides, as
AWS's endpoints do, so a client that reuses its connections pays no extra; connection set-up
(TCP and TLS handshakes to a real endpoint) is not modelled. Requests on one connection are
answered in order (HTTP/1.1); different connections are independent, so a client's
concurrency overlaps delays just as it would against AWS.

It speaks just enough HTTP/1.1 for botocore and werkzeug: bodies by Content-Length or chunked
transfer coding, responses without a body for HEAD, 1xx, 204 and 304.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
import urllib.parse
from dataclasses import dataclass

_NO_BODY_STATUS = {204, 304}


@dataclass
class Message:
    head: bytes  # start line and headers, through the blank line
    body: bytes
    close: bool  # the sender will close, or asked to close, after this message
    framed: bool = True  # its end is known without the connection closing


def _headers(head: bytes) -> dict[str, str]:
    lines = head.decode("latin-1").split("\r\n")[1:]
    out: dict[str, str] = {}
    for line in lines:
        if ":" in line:
            name, _, value = line.partition(":")
            out[name.strip().lower()] = value.strip()
    return out


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str], until_eof: bool) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        parts = []
        while True:
            size_line = await reader.readuntil(b"\r\n")
            parts.append(size_line)
            size = int(size_line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                # Trailers (if any), then the final blank line.
                while True:
                    line = await reader.readuntil(b"\r\n")
                    parts.append(line)
                    if line == b"\r\n":
                        return b"".join(parts)
            parts.append(await reader.readexactly(size + 2))
    if "content-length" in headers:
        return await reader.readexactly(int(headers["content-length"]))
    return await reader.read() if until_eof else b""


async def read_request(reader: asyncio.StreamReader) -> Message | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    headers = _headers(head)
    body = await _read_body(reader, headers, until_eof=False)
    version = head.split(b"\r\n", 1)[0].rsplit(b" ", 1)[-1]
    connection = headers.get("connection", "").lower()
    close = connection == "close" or (version == b"HTTP/1.0" and connection != "keep-alive")
    return Message(head, body, close)


async def read_response(reader: asyncio.StreamReader, method: bytes) -> Message:
    while True:
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        if not 100 <= status < 200:
            break
    headers = _headers(head)
    version = head.split(b" ", 1)[0]
    connection = headers.get("connection", "").lower()
    framed = "content-length" in headers or "chunked" in headers.get("transfer-encoding", "").lower()
    if method == b"HEAD" or status in _NO_BODY_STATUS:
        body = b""
    else:
        body = await _read_body(reader, headers, until_eof=not framed)
    framed = framed or method == b"HEAD" or status in _NO_BODY_STATUS
    close = connection == "close" or (version == b"HTTP/1.0" and connection != "keep-alive") or not framed
    return Message(head, body, close, framed)


class LatencyProxy:
    """One listening port in front of `upstream`, adding `delay` seconds per request."""

    def __init__(self, upstream: str, delay: float) -> None:
        parsed = urllib.parse.urlsplit(upstream)
        self.upstream_host = parsed.hostname or "127.0.0.1"
        self.upstream_port = parsed.port or 80
        self.delay = delay
        self.requests = 0
        self.connections = 0  # accepted from clients
        self._server: asyncio.base_events.Server | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._server = await asyncio.start_server(self._serve, host, port)
        bound = self._server.sockets[0].getsockname()
        return f"http://{bound[0]}:{bound[1]}"

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self.connections += 1
        try:
            while True:
                request = await read_request(client_reader)
                if request is None:
                    return
                self.requests += 1
                if self.delay:
                    await asyncio.sleep(self.delay)
                method = request.head.split(b" ", 1)[0]
                for attempt in (1, 2):
                    if upstream is None:
                        upstream = await asyncio.open_connection(self.upstream_host, self.upstream_port)
                    try:
                        upstream[1].write(request.head + request.body)
                        await upstream[1].drain()
                        response = await read_response(upstream[0], method)
                        break
                    except (asyncio.IncompleteReadError, ConnectionError):
                        # The upstream closed a kept-alive connection between requests: once more, fresh.
                        _close(upstream[1])
                        upstream = None
                        if attempt == 2:
                            raise
                framed = response.framed
                # werkzeug closes after every answer: the next request gets a fresh upstream
                # connection, while the client's connection stays open, as AWS's would.
                client_writer.write(_keep_alive(response.head) if framed else response.head)
                client_writer.write(response.body)
                await client_writer.drain()
                if response.close:
                    _close(upstream[1])
                    upstream = None
                if request.close or not framed:
                    return
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            return  # the client or the upstream went away, or the proxy is stopping
        finally:
            if upstream is not None:
                _close(upstream[1])
            _close(client_writer)


def _keep_alive(head: bytes) -> bytes:
    """The response head without `Connection: close` (an HTTP/1.1 answer is kept alive by default)."""
    lines = head[:-4].split(b"\r\n")
    start = lines[0]
    if start.startswith(b"HTTP/1.0"):
        start = b"HTTP/1.1" + start[len(b"HTTP/1.0") :]
    kept = [line for line in lines[1:] if line.split(b":", 1)[0].strip().lower() not in (b"connection", b"keep-alive")]
    return b"\r\n".join([start, *kept]) + b"\r\n\r\n"


def _close(writer: asyncio.StreamWriter) -> None:
    try:
        writer.close()
    except Exception:  # already gone
        pass


async def serve(upstream: str, delays_ms: list[int], stop: asyncio.Event) -> None:
    proxies = {delay: LatencyProxy(upstream, delay / 1000) for delay in delays_ms}
    urls = {str(delay): await proxy.start() for delay, proxy in proxies.items()}
    sys.stdout.write(json.dumps(urls) + "\n")
    sys.stdout.flush()
    await stop.wait()
    for proxy in proxies.values():
        await proxy.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.proxy")
    parser.add_argument("--upstream", required=True, help="the server to forward to, e.g. http://127.0.0.1:5000")
    parser.add_argument("--delay-ms", default="0", help="comma-separated delays; one port each")
    args = parser.parse_args(argv)
    delays = [int(value) for value in args.delay_ms.split(",") if value.strip()]

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def wait_for_stdin() -> None:
            sys.stdin.read()  # the parent closes our stdin to stop us
            loop.call_soon_threadsafe(stop.set)

        threading.Thread(target=wait_for_stdin, daemon=True).start()
        await serve(args.upstream, delays, stop)

    asyncio.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
