"""The benchmark's latency proxy (`bench.proxy`): every request waits its delay, connections stay alive."""

from __future__ import annotations

import asyncio
import http.client
import http.server
import threading
import time

import pytest

from bench.proxy import LatencyProxy

DELAY = 0.05


class Upstream(http.server.ThreadingHTTPServer):
    """Answers every request with its method and path, closing each connection as werkzeug does."""

    daemon_threads = True

    def __init__(self) -> None:
        self.connections = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                outer.connections += 1

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = f"{self.command} {self.path} {self.rfile.read(length).decode()}".encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)
                self.close_connection = True

            do_GET = do_POST = do_HEAD = _answer

            def log_message(self, *args) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)


@pytest.fixture
def proxied():
    upstream = Upstream()
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    proxy = LatencyProxy(f"http://127.0.0.1:{upstream.server_address[1]}", DELAY)
    url = asyncio.run_coroutine_threadsafe(proxy.start(), loop).result(10)
    yield url, proxy, upstream
    asyncio.run_coroutine_threadsafe(proxy.close(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    upstream.shutdown()


def test_each_request_waits_the_delay_on_one_kept_alive_connection(proxied):
    url, proxy, upstream = proxied
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    answers = []
    started = time.perf_counter()
    for index, method in enumerate(("GET", "POST", "HEAD", "GET")):
        body = f"body-{index}" if method == "POST" else None
        connection.request(method, f"/item/{index}", body=body)
        response = connection.getresponse()
        answers.append((response.status, response.read().decode(), response.getheader("Connection")))
    elapsed = time.perf_counter() - started
    connection.close()
    assert answers == [
        (200, "GET /item/0 ", None),
        (200, "POST /item/1 body-1", None),
        (200, "", None),
        (200, "GET /item/3 ", None),
    ], "the upstream's `Connection: close` is not passed on: the client keeps its connection"
    assert elapsed >= 4 * DELAY
    assert proxy.requests == 4
    assert proxy.connections == 1, "one client connection served every request"
    assert upstream.connections == 4, "the proxy reconnects upstream behind the client's one connection"
