"""Stops an embedded server once the process that started it is gone, however it ended.

``EmbeddedServer`` runs this file as a script (``python _watchdog.py FD URL URL_FILE``, so that
it imports redis and nothing of EduScribe) right after starting the server. ``FD`` is the
read end of a pipe whose only write end the starter holds: the read returns when the
starter exits, also after ``kill -9``, and unlike polling a pid it cannot be fooled by the pid
being reused. The watchdog then does what :meth:`EmbeddedServer.stop` would have done: shut
the server down (saving its data) once no other process is connected; while others still
are (a ``dramatiq`` worker that joined, say), it checks again every second.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path

import redis

CHECK_EVERY_S = 1.0


def others_connected(client: redis.Redis) -> int:
    """Clients other than ``client``; those closing (flag A) do not count."""
    mine = int(client.client_id())
    return sum(1 for c in client.client_list() if int(c["id"]) != mine and "A" not in c["flags"])


def stop_when_alone(url: str, url_file: Path) -> None:
    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    try:
        while True:
            try:
                if others_connected(client) == 0:
                    with contextlib.suppress(redis.ConnectionError):
                        client.shutdown(save=True)
                    break
            except redis.RedisError:
                return  # the server is gone already (stopped by its starter, or by hand)
            time.sleep(CHECK_EVERY_S)
    finally:
        client.close()
    with contextlib.suppress(OSError):
        if url_file.read_text().strip() == url:
            url_file.unlink()


def main(argv: list[str]) -> int:
    fd, url, url_file = int(argv[1]), argv[2], Path(argv[3])
    while True:
        try:
            if not os.read(fd, 4096):
                break  # end of file: every write end is closed, the starter has exited
        except InterruptedError:
            continue
        except OSError:
            break
    stop_when_alone(url, url_file)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
