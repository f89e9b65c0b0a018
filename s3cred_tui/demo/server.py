"""An in-process moto server on 127.0.0.1, used by `--demo`, the tests and the benchmark."""

from __future__ import annotations

import json
import logging
import urllib.request
from dataclasses import dataclass

import boto3

ADMIN_USER = "demo-admin"
ADMIN_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "DemoAdministrator", "Effect": "Allow", "Action": "*", "Resource": "*"}],
}


@dataclass(frozen=True)
class AdminKey:
    access_key_id: str
    secret_access_key: str

    def __repr__(self) -> str:
        return f"AdminKey(access_key_id={self.access_key_id!r}, secret_access_key='****')"


class MotoServer:
    """A threaded moto server bound to a free loopback port.

    moto keeps its state in module globals, so there is one emulated AWS per process:
    `reset()` wipes it, `enforce_auth()` switches IAM authorization on or off.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        from moto.server import ThreadedMotoServer

        # werkzeug logs every request at INFO; keep the terminal clean for the TUI.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
        self._started = False

    def start(self) -> "MotoServer":
        self._server.start()
        self._started = True
        return self

    def stop(self) -> None:
        if self._started:
            self._started = False
            self._server.stop()

    def __enter__(self) -> "MotoServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def endpoint_url(self) -> str:
        host, port = self._server.get_host_and_port()
        return f"http://{host}:{port}"

    @property
    def port(self) -> int:
        return int(self._server.get_host_and_port()[1])

    def _post(self, path: str, body: bytes = b"", content_type: str = "text/plain") -> bytes:
        request = urllib.request.Request(
            self.endpoint_url + path, data=body, method="POST", headers={"Content-Type": content_type}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.read()

    def reset(self) -> None:
        """Forget every bucket, user and key, and switch enforcement off."""
        self.enforce_auth(False)
        self._post("/moto-api/reset")

    def enforce_auth(self, on: bool = True) -> None:
        """From now on, every request is checked against IAM (moto's subset of it)."""
        self._post("/moto-api/reset-auth", b"0" if on else b"inf")

    def client(self, service: str, key: AdminKey | None = None, region: str = "us-east-1"):
        kwargs = {}
        if key is not None:
            kwargs = {"aws_access_key_id": key.access_key_id, "aws_secret_access_key": key.secret_access_key}
        else:
            kwargs = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        return boto3.client(service, endpoint_url=self.endpoint_url, region_name=region, **kwargs)

    def create_admin(self, user_name: str = ADMIN_USER) -> AdminKey:
        """An IAM user allowed everything, whose key keeps working once enforcement is on."""
        iam = self.client("iam")
        iam.create_user(UserName=user_name, Tags=[{"Key": "purpose", "Value": "s3cred-tui demo administrator"}])
        iam.put_user_policy(UserName=user_name, PolicyName="administrator", PolicyDocument=json.dumps(ADMIN_POLICY))
        created = iam.create_access_key(UserName=user_name)["AccessKey"]
        return AdminKey(created["AccessKeyId"], created["SecretAccessKey"])
