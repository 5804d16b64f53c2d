"""The S3 server `make run` and `make test` start: only its S3 gateway is reachable, and its
keys are this install's own.

Each test starts a server of its own (scripts/services.sh with a private var folder and a
free port), so the one the rest of the suite uses is never touched.
"""

from __future__ import annotations

import io
import os
import socket
import stat
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from minio import Minio
from minio.error import S3Error

from storage.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
# The old fixed keys, published in this repository's history.
PUBLISHED_SECRET = "footprints-secret"
FILER_PORT = 8888


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def script_env(var: Path, port: int) -> dict[str, str]:
    """The environment of a fresh install in `var`: no S3 keys given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("S3_")}
    env.update(FOOTPRINTS_VAR_DIR=str(var), S3_ENDPOINT=f"127.0.0.1:{port}")
    return env


@dataclass
class LocalS3:
    var: Path
    port: int

    def services(self, *args: str) -> None:
        done = subprocess.run(
            ["bash", str(ROOT / "scripts" / "services.sh"), *args],
            env=script_env(self.var, self.port),
            capture_output=True,
            text=True,
            timeout=180,
        )
        log = self.var / "s3.log"
        detail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
        assert done.returncode == 0, f"{done.stdout}\n{done.stderr}\n{detail}"

    @property
    def keys(self) -> dict[str, str]:
        lines = (self.var / "s3-keys").read_text().splitlines()
        return dict(line.split("=", 1) for line in lines if "=" in line)

    def client(self, access_key: str | None = None, secret_key: str | None = None) -> Minio:
        keys = self.keys
        return Minio(
            f"127.0.0.1:{self.port}",
            access_key or keys["S3_ACCESS_KEY"],
            secret_key or keys["S3_SECRET_KEY"],
            secure=False,
            region="us-east-1",
        )

    @property
    def weed_pid(self) -> int:
        return int((self.var / "pids" / "s3.pid").read_text())


@pytest.fixture()
def local_s3(tmp_path: Path) -> Iterator[LocalS3]:
    server = LocalS3(tmp_path / "var", free_port())
    server.var.mkdir()
    yield server
    server.services("stop", "s3")


def listening_ports(pid: int) -> set[int]:
    """The TCP ports listened on in the network namespace of process `pid`."""
    ports = set()
    for table in ("tcp", "tcp6"):
        path = Path(f"/proc/{pid}/net/{table}")
        for line in path.read_text().splitlines()[1:] if path.exists() else []:
            fields = line.split()
            if fields[3] == "0A":  # LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def http_get(port: int, path: str) -> bytes:
    """What 127.0.0.1:`port` answers to a plain GET from here (empty when nothing does)."""
    answer = b""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=3) as conn:
            conn.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
            while chunk := conn.recv(65536):
                answer += chunk
    except OSError:
        pass
    return answer


def shell_keys(var: Path, **env: str) -> tuple[str, str]:
    """The S3 keys scripts/lib.sh gives the scripts of an install in `var`."""
    show = 'source scripts/lib.sh && printf "%s\\n%s" "$S3_ACCESS_KEY" "$S3_SECRET_KEY"'
    done = subprocess.run(
        ["bash", "-c", show],
        cwd=ROOT,
        env={**script_env(var, free_port()), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    access, secret = done.stdout.splitlines()
    return access, secret


def test_keys_are_made_once_per_install_and_kept_private(tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    keys = shell_keys(first)
    assert shell_keys(first) == keys, "the keys must be reused, not made again"
    assert shell_keys(second) != keys, "every install has keys of its own"
    access, secret = keys
    assert secret != PUBLISHED_SECRET and len(secret) >= 32 and len(access) >= 16
    keys_file = first / "s3-keys"
    assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
    assert keys_file.read_text() == f"S3_ACCESS_KEY={access}\nS3_SECRET_KEY={secret}\n"


def test_keys_in_the_environment_win(tmp_path: Path) -> None:
    made = shell_keys(tmp_path)
    assert shell_keys(tmp_path, S3_SECRET_KEY="from-env") == (made[0], "from-env")
    assert shell_keys(tmp_path, S3_ACCESS_KEY="ak", S3_SECRET_KEY="sk") == ("ak", "sk")


def test_the_app_reads_the_keys_file_unless_the_environment_sets_them(tmp_path: Path) -> None:
    keys_file = tmp_path / "s3-keys"
    keys_file.write_text("S3_ACCESS_KEY=fpaccess\nS3_SECRET_KEY=fpsecret\n")
    read = Settings.from_env({"S3_KEYS_FILE": str(keys_file)})
    assert (read.s3_access_key, read.s3_secret_key) == ("fpaccess", "fpsecret")
    mixed = Settings.from_env({"S3_KEYS_FILE": str(keys_file), "S3_SECRET_KEY": "env"})
    assert (mixed.s3_access_key, mixed.s3_secret_key) == ("fpaccess", "env")
    missing = Settings.from_env({"S3_KEYS_FILE": str(tmp_path / "none")})
    assert missing.s3_secret_key == ""


def test_only_the_s3_gateway_answers_outside(local_s3: LocalS3) -> None:
    local_s3.services("start", "s3")
    client = local_s3.client()
    bucket, key, token = "fp-private-check", "original.mp4", uuid.uuid4().hex
    client.make_bucket(bucket)
    client.put_object(bucket, key, io.BytesIO(token.encode()), len(token))
    assert client.get_object(bucket, key).read() == token.encode()
    with pytest.raises(S3Error):
        local_s3.client(secret_key="wrong-" + local_s3.keys["S3_SECRET_KEY"]).list_buckets()

    # weed runs in a network namespace of its own: its master, volume, filer and admin ports
    # exist only in there, and not one of them gives anything of this server away out here.
    pid = local_s3.weed_pid
    assert os.stat(f"/proc/{pid}/ns/net").st_ino != os.stat("/proc/self/ns/net").st_ino
    inside = listening_ports(pid)
    assert FILER_PORT in inside, f"weed's ports were not seen: {sorted(inside)}"
    secret = local_s3.keys["S3_SECRET_KEY"].encode()
    for port in sorted(inside):
        for path in ("/", f"/buckets/{bucket}/{key}", f"/{bucket}/{key}", "/etc/iam/identity.json"):
            answer = http_get(port, path)
            assert token.encode() not in answer, f"port {port} serves the object at {path}"
            assert secret not in answer, f"port {port} gives the S3 secret away at {path}"
    # Nor do its Unix sockets: /tmp is its own, and its data folder is the owner's only.
    assert os.stat(f"/proc/{pid}/root/tmp").st_dev != os.stat("/tmp").st_dev
    assert stat.S_IMODE((local_s3.var / "s3").stat().st_mode) == 0o700


def test_a_restart_keeps_keys_and_data(local_s3: LocalS3) -> None:
    local_s3.services("start", "s3")
    keys = local_s3.keys
    local_s3.client().make_bucket("fp-kept")
    local_s3.services("stop", "s3")
    local_s3.services("start", "s3")
    assert local_s3.keys == keys
    assert local_s3.client().bucket_exists("fp-kept")


def test_the_published_secret_is_replaced_when_the_server_starts(local_s3: LocalS3) -> None:
    # An install from before the keys were made per install still holds the published pair.
    (local_s3.var / "s3-keys").write_text(
        f"S3_ACCESS_KEY=footprints\nS3_SECRET_KEY={PUBLISHED_SECRET}\n"
    )
    local_s3.services("start", "s3")
    assert local_s3.keys["S3_SECRET_KEY"] != PUBLISHED_SECRET
    local_s3.client().list_buckets()
    with pytest.raises(S3Error):
        local_s3.client("footprints", PUBLISHED_SECRET).list_buckets()
