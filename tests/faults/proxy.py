"""A fault-injecting HTTP proxy on 127.0.0.1, in front of the threaded moto server.

Every request is named by its service (from the SigV4 credential scope) and its action
(`Action=` of an IAM/STS form body; the REST operation for S3, e.g. `PUT /bucket` is
`CreateBucket`). A `Fault` picks the Nth request with that name and does one of:

- `access-denied`, `throttling`, `server-error`, `limit-exceeded`: answer with the AWS
  error document of that service (IAM/STS `ErrorResponse/Error/Type,Code,Message`, S3
  `Error/Code,Message`), never forwarding, so nothing changes upstream;
- `reset`: reset the connection before forwarding (nothing changes upstream);
- `lost-response`: forward, let the change happen, then reset without answering;
- `hang`: forward (the change happens), then never answer; the client's read timeout ends
  it. The held connection is released after `hang_seconds` or when the proxy stops;
- `delay`: hold the request `hang_seconds` (set `arrived` first), then forward normally —
  a slow step that subprocess tests signal in the middle of.

Everything is bounded: handler threads are daemons, holds end at `hang_seconds` or `stop()`,
and the server listens on 127.0.0.1 only.
"""

from __future__ import annotations

import http.client
import http.server
import re
import socket
import struct
import threading
import urllib.parse
from dataclasses import dataclass, field

KINDS = (
    "access-denied",
    "throttling",
    "server-error",
    "limit-exceeded",
    "reset",
    "lost-response",
    "hang",
)
"""The seven faults of the issue's matrix (`delay` is a helper for signal tests, not a fault)."""

_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
}
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")
_NAMESPACES = {
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
}
# status, code, message per service: what AWS itself answers for these faults.
_ERRORS = {
    "access-denied": {
        "iam": (403, "AccessDenied", "User is not authorized to perform this action (injected)"),
        "sts": (403, "AccessDenied", "User is not authorized to perform this action (injected)"),
        "s3": (403, "AccessDenied", "Access Denied (injected)"),
    },
    "throttling": {
        "iam": (400, "Throttling", "Rate exceeded (injected)"),
        "sts": (400, "Throttling", "Rate exceeded (injected)"),
        "s3": (503, "SlowDown", "Please reduce your request rate. (injected)"),
    },
    "server-error": {
        "iam": (500, "ServiceFailure", "The request processing has failed because of an unknown error (injected)"),
        "sts": (500, "InternalFailure", "The request processing has failed because of an unknown error (injected)"),
        "s3": (500, "InternalError", "We encountered an internal error. Please try again. (injected)"),
    },
    "limit-exceeded": {
        "iam": (409, "LimitExceeded", "Cannot exceed quota (injected)"),
        # STS and S3 have no LimitExceeded; their nearest quota errors.
        "sts": (400, "PackedPolicyTooLarge", "Packed policy consumes 110% of allotted space (injected)"),
        "s3": (400, "TooManyBuckets", "You have attempted to create more buckets than allowed (injected)"),
    },
}
# Named S3 operations by (method, target, sub-resource); `x-id` wins when botocore sends it.
_S3_OPERATIONS = {
    ("GET", "service", ""): "ListBuckets",
    ("PUT", "bucket", ""): "CreateBucket",
    ("HEAD", "bucket", ""): "HeadBucket",
    ("DELETE", "bucket", ""): "DeleteBucket",
    ("GET", "bucket", ""): "ListObjects",
    ("GET", "bucket", "list-type"): "ListObjectsV2",
    ("PUT", "bucket", "tagging"): "PutBucketTagging",
    ("GET", "bucket", "tagging"): "GetBucketTagging",
    ("DELETE", "bucket", "tagging"): "DeleteBucketTagging",
    ("GET", "bucket", "location"): "GetBucketLocation",
    ("PUT", "object", ""): "PutObject",
    ("GET", "object", ""): "GetObject",
    ("HEAD", "object", ""): "HeadObject",
    ("DELETE", "object", ""): "DeleteObject",
}


@dataclass
class Fault:
    service: str  # "iam", "sts", "s3"
    action: str  # "CreateUser", "CreateBucket", ...
    kind: str  # one of KINDS, or "delay"
    occurrence: int = 1  # the Nth matching request (counted from when the fault is added)
    hang_seconds: float = 20.0
    arrived: threading.Event = field(default_factory=threading.Event, repr=False)
    fired: bool = False
    seen: int = 0

    @property
    def name(self) -> str:
        return f"{self.service}:{self.action}"


@dataclass(frozen=True)
class Call:
    service: str
    action: str
    status: int | None  # what the client got; None when the connection was reset or held
    fault: str | None


def describe(method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[str, str]:
    """(service, action) of one request."""
    match = _SCOPE.search(headers.get("authorization", ""))
    service = match.group(1) if match else "unknown"
    parsed = urllib.parse.urlsplit(path)
    query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
    if service == "s3":
        if "x-id" in query:
            return service, query["x-id"][0]
        parts = [p for p in parsed.path.split("/") if p]
        target = "service" if not parts else "bucket" if len(parts) == 1 else "object"
        sub = next((k for k in query if k in {"tagging", "location", "list-type", "policy", "acl"}), "")
        return service, _S3_OPERATIONS.get((method, target, sub), f"{method}-{target}{'?' + sub if sub else ''}")
    form = urllib.parse.parse_qs(body.decode("utf-8", "replace")) if body else {}
    action = (form.get("Action") or query.get("Action") or ["unknown"])[0]
    return service, action


def error_document(service: str, code: str, message: str) -> bytes:
    if service == "s3":
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{message}</Message>"
            "<RequestId>FAULTINJECTED</RequestId><HostId>fault-proxy</HostId></Error>"
        ).encode()
    namespace = _NAMESPACES.get(service, _NAMESPACES["iam"])
    kind = "Receiver" if code in {"ServiceFailure", "InternalFailure"} else "Sender"
    return (
        f'<ErrorResponse xmlns="{namespace}"><Error><Type>{kind}</Type><Code>{code}</Code>'
        f"<Message>{message}</Message></Error><RequestId>fault-injected</RequestId></ErrorResponse>"
    ).encode()


class FaultProxy:
    """`with FaultProxy(upstream) as proxy:` then point clients at `proxy.endpoint_url`."""

    def __init__(self, upstream_url: str, upstream_timeout: float = 30.0):
        upstream = urllib.parse.urlsplit(upstream_url)
        self._upstream = (upstream.hostname or "127.0.0.1", upstream.port or 80)
        self._upstream_timeout = upstream_timeout
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._released = threading.Event()
        self.calls: list[Call] = []
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True)

    # -- lifecycle

    def start(self) -> "FaultProxy":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> "FaultProxy":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def endpoint_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- faults

    def add(self, fault: Fault) -> Fault:
        if fault.kind not in KINDS and fault.kind != "delay":
            raise ValueError(f"unknown fault kind {fault.kind!r}")
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self.calls.clear()

    @property
    def fired(self) -> list[Fault]:
        with self._lock:
            return [f for f in self._faults if f.fired]

    def _match(self, service: str, action: str) -> Fault | None:
        """Count this request for every fault waiting for it; the first whose turn it is fires."""
        chosen = None
        with self._lock:
            for fault in self._faults:
                if fault.fired or fault.service != service or fault.action != action:
                    continue
                fault.seen += 1
                if fault.seen == fault.occurrence and chosen is None:
                    fault.fired = True
                    chosen = fault
        return chosen

    def _record(self, service: str, action: str, status: int | None, fault: Fault | None) -> None:
        with self._lock:
            self.calls.append(Call(service, action, status, fault.kind if fault else None))

    # -- forwarding

    def _forward(self, method: str, path: str, headers: list[tuple[str, str]], body: bytes):
        connection = http.client.HTTPConnection(*self._upstream, timeout=self._upstream_timeout)
        try:
            connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                if name.lower() not in _HOP_BY_HOP:
                    connection.putheader(name, value)
            connection.endheaders(body or None)
            response = connection.getresponse()
            payload = response.read()
            return response.status, response.reason, response.getheaders(), payload
        finally:
            connection.close()

    def _handler_class(self):
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

            def _reset(self) -> None:
                """Abort the connection with a TCP RST, as a dropped link or crashed peer would."""
                self.close_connection = True
                try:
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()
                except OSError:
                    pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                lowered = {k.lower(): v for k, v in self.headers.items()}
                service, action = describe(self.command, self.path, lowered, body)
                fault = proxy._match(service, action)
                kind = fault.kind if fault else None
                if fault is not None:
                    fault.arrived.set()
                if kind in _ERRORS:
                    status, code, message = _ERRORS[kind][service if service in ("iam", "sts", "s3") else "iam"]
                    payload = error_document(service, code, message)
                    proxy._record(service, action, status, fault)
                    self.send_response(status)
                    self.send_header("Content-Type", "text/xml")
                    self.send_header("Content-Length", str(len(payload)))
                    self.send_header("x-amzn-RequestId", "fault-injected")
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(payload)
                    return
                if kind == "reset":
                    proxy._record(service, action, None, fault)
                    self._reset()
                    return
                if kind == "delay":
                    proxy._released.wait(fault.hang_seconds)
                status, reason, headers, payload = proxy._forward(self.command, self.path, list(self.headers.items()), body)
                if kind == "lost-response":
                    proxy._record(service, action, None, fault)
                    self._reset()
                    return
                if kind == "hang":
                    proxy._record(service, action, None, fault)
                    proxy._released.wait(fault.hang_seconds)
                    self._reset()
                    return
                proxy._record(service, action, status, fault)
                self.send_response(status, reason)
                for name, value in headers:
                    if name.lower() not in _HOP_BY_HOP and name.lower() not in {"content-length", "server", "date"}:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD" and payload:
                    self.wfile.write(payload)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _handle

        return Handler
