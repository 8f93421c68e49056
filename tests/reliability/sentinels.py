"""A primary, a replica and three Sentinels on loopback, for the failover tests.

Every process is the ``valkey-server`` the embedded mode runs (``--sentinel`` makes it a
Sentinel), on free ports, with its files in the test's folder. The timings are short so a
failover takes a second or two: a primary silent for ``DOWN_AFTER_MS`` is down once two
Sentinels agree.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import redis

from eduscribe_sdk.testing import free_port, redis_server_binary
from tests.conftest import RedisServer

SERVICE = "eduscribe-test"
DOWN_AFTER_MS = 1000
FAILOVER_TIMEOUT_MS = 3000


class SentinelSetup:
    """A primary, its replica, and three Sentinels watching them."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.primary = RedisServer(workdir / "primary").start()
        self.replica = RedisServer(
            workdir / "replica", "--replicaof", "127.0.0.1", str(self.primary.port)
        ).start()
        self.sentinel_ports = [free_port() for _ in range(3)]
        self.sentinels: list[subprocess.Popen[bytes]] = []
        for port in self.sentinel_ports:
            conf = workdir / f"sentinel-{port}.conf"  # a Sentinel rewrites its own file
            conf.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {workdir}\n"
                f"sentinel monitor {SERVICE} 127.0.0.1 {self.primary.port} 2\n"
                f"sentinel down-after-milliseconds {SERVICE} {DOWN_AFTER_MS}\n"
                f"sentinel failover-timeout {SERVICE} {FAILOVER_TIMEOUT_MS}\n"
            )
            log = (workdir / f"sentinel-{port}.log").open("ab")
            self.sentinels.append(
                subprocess.Popen([redis_server_binary(), str(conf), "--sentinel"], stdout=log, stderr=log)
            )
        self._wait_until_ready()

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)
        return f"redis+sentinel://{hosts}/{SERVICE}/0"

    def primary_port(self) -> int:
        """The primary's port as the first Sentinel that answers names it."""
        for port in self.sentinel_ports:
            client = redis.Redis(port=port, socket_timeout=1)
            try:
                address = client.sentinel_get_master_addr_by_name(SERVICE)
                if address:
                    return int(address[1])
            except redis.RedisError:
                continue
            finally:
                client.close()
        raise AssertionError("no Sentinel answered")

    def _wait_until_ready(self) -> None:
        """Until the replica is in sync and every Sentinel knows it and its two peers."""
        deadline = time.monotonic() + 30
        while True:
            if self._ready():
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"the Sentinels did not settle; see {self.workdir}")
            time.sleep(0.1)

    def _ready(self) -> bool:
        replica = redis.Redis(port=self.replica.port, socket_timeout=1, decode_responses=True)
        try:
            if replica.info("replication").get("master_link_status") != "up":
                return False
            for port in self.sentinel_ports:
                sentinel = redis.Redis(port=port, socket_timeout=1, decode_responses=True)
                try:
                    state = sentinel.sentinel_master(SERVICE)
                    if int(state["num-slaves"]) < 1 or int(state["num-other-sentinels"]) < 2:
                        return False
                finally:
                    sentinel.close()
            return True
        except redis.RedisError:
            return False
        finally:
            replica.close()

    def stop(self) -> None:
        for process in self.sentinels:
            process.terminate()
        for process in self.sentinels:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        self.replica.stop()
        self.primary.stop()
