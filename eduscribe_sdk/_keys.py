"""Every Redis key EduScribe uses, in one place.

The Lua function library gets the same layout from :func:`lua_key_functions`, generated
from the table below, so a key name is never spelled twice. All keys share the prefix (default
``eduscribe``), so a test or an operator can find every one of them with ``SCAN prefix:*``.

=====================================  =======  ==================================================
key                                    type     holds
=====================================  =======  ==================================================
``{p}:job:{id}``                       hash     one job record (JSON for nested fields)
``{p}:job:{id}:dependents``            set      ids of jobs that depend on this one
``{p}:index:all``                      zset     every job id, scored by created_at
``{p}:index:status:{status}``          zset     job ids per status, scored by created_at
``{p}:index:user:{user}``              zset     job ids per user
``{p}:index:batch:{batch}``            zset     job ids per batch
``{p}:index:finished``                 zset     finished job ids, scored by completed_at (cleanup)
``{p}:queue:{priority}``               zset     queued job ids per tier, scored by enqueue time (ms)
``{p}:delayed``                        zset     retrying job ids, scored by due time (ms)
``{p}:inflight:{worker}``              zset     ids a worker fetched and has not acknowledged
``{p}:workers``                        zset     worker ids, scored by last heartbeat (ms)
``{p}:worker:{worker}``                hash     host, pid, threads, started_at of a worker
``{p}:users:tiers``                    hash     user id -> subscription tier
``{p}:stats:counts``                   hash     "priority|job_type|status" -> number of jobs
``{p}:stats:sums``                     hash     running sums for means (durations, waits)
``{p}:stats:samples:{kind}:{group}``   list     recent durations / waits, capped, for quantiles
``{p}:events``                         stream   one entry per job change (capped)
``{p}:wakeup``                         channel  pub/sub: "work is available" for idle consumers
``{p}:control``                        hash     "paused:{priority}" -> "1"; "worker:{id}" -> drain/restart
``{p}:reaper``                         string   short lock: one maintenance pass at a time
``{p}:sweep:cursor``                   string   where the waiting-job repair sweep goes on
``{p}:batch:{batch}``                  hash     batch metadata (source file, content hashes)
``{p}:batches``                        zset     batch ids by creation time
``{p}:blob:{sha}:refs``                set      who needs a stored input: job ids, "upload:{id}"
``{p}:blob:{sha}:leases``              zset     lease tokens of clients storing it, by expiry (ms)
``{p}:blob:{sha}:deleting``            string   cleanup is deleting it (short expiry)
``{p}:blobs``                          zset     blobs cleanup should look at, by when (s)
``{p}:upload:{id}``                    hash     an upload: blob, filename, size, contentType
``{p}:uploads``                        zset     upload ids by last use (s)
``{p}:apikey:{sha256}``                hash     an API key (by the digest of its text): id, user, admin
``{p}:apikeys``                        hash     API key id -> digest (to list and revoke keys)
``{p}:ratelimit:{key id}``             string   when the key's request allowance refills (ms)
=====================================  =======  ==================================================
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["DEFAULT_PREFIX", "Keys", "lua_key_functions"]

DEFAULT_PREFIX = "eduscribe"

# name -> suffix template; "{}" is the single variable part.
_TEMPLATES: dict[str, str] = {
    "job": "job:{}",
    "dependents": "job:{}:dependents",
    "index_all": "index:all",
    "index_status": "index:status:{}",
    "index_user": "index:user:{}",
    "index_batch": "index:batch:{}",
    "index_finished": "index:finished",
    "queue": "queue:{}",
    "delayed": "delayed",
    "inflight": "inflight:{}",
    "workers": "workers",
    "worker": "worker:{}",
    "tiers": "users:tiers",
    "counts": "stats:counts",
    "sums": "stats:sums",
    "samples": "stats:samples:{}",
    "events": "events",
    "wakeup": "wakeup",
    "control": "control",
    "reaper": "reaper",
    "sweep_cursor": "sweep:cursor",
    "batch": "batch:{}",
    "batches": "batches",
    "blob_refs": "blob:{}:refs",
    "blob_leases": "blob:{}:leases",
    "blob_deleting": "blob:{}:deleting",
    "blobs": "blobs",
    "upload": "upload:{}",
    "uploads": "uploads",
    "apikey": "apikey:{}",
    "apikeys": "apikeys",
    "ratelimit": "ratelimit:{}",
}


@dataclass(frozen=True, slots=True)
class Keys:
    prefix: str = DEFAULT_PREFIX

    def _key(self, name: str, part: str | None = None) -> str:
        template = _TEMPLATES[name]
        suffix = template.format(part) if "{}" in template else template
        return f"{self.prefix}:{suffix}"

    def job(self, job_id: str) -> str:
        return self._key("job", job_id)

    def dependents(self, job_id: str) -> str:
        return self._key("dependents", job_id)

    @property
    def index_all(self) -> str:
        return self._key("index_all")

    def index_status(self, status: str) -> str:
        return self._key("index_status", status)

    def index_user(self, user_id: str) -> str:
        return self._key("index_user", user_id)

    def index_batch(self, batch_id: str) -> str:
        return self._key("index_batch", batch_id)

    @property
    def index_finished(self) -> str:
        return self._key("index_finished")

    def queue(self, priority: str) -> str:
        return self._key("queue", priority)

    @property
    def delayed(self) -> str:
        return self._key("delayed")

    def inflight(self, worker_id: str) -> str:
        return self._key("inflight", worker_id)

    @property
    def workers(self) -> str:
        return self._key("workers")

    def worker(self, worker_id: str) -> str:
        return self._key("worker", worker_id)

    @property
    def tiers(self) -> str:
        return self._key("tiers")

    @property
    def counts(self) -> str:
        return self._key("counts")

    @property
    def sums(self) -> str:
        return self._key("sums")

    def samples(self, kind_and_group: str) -> str:
        return self._key("samples", kind_and_group)

    @property
    def events(self) -> str:
        return self._key("events")

    @property
    def wakeup(self) -> str:
        return self._key("wakeup")

    @property
    def control(self) -> str:
        """Operator controls: paused tiers and per-worker drain/restart requests (_control.py)."""
        return self._key("control")

    @property
    def reaper(self) -> str:
        return self._key("reaper")

    @property
    def sweep_cursor(self) -> str:
        return self._key("sweep_cursor")

    def batch(self, batch_id: str) -> str:
        return self._key("batch", batch_id)

    @property
    def batches(self) -> str:
        return self._key("batches")

    def blob_refs(self, digest: str) -> str:
        return self._key("blob_refs", digest)

    def blob_leases(self, digest: str) -> str:
        return self._key("blob_leases", digest)

    def blob_deleting(self, digest: str) -> str:
        return self._key("blob_deleting", digest)

    @property
    def blobs(self) -> str:
        return self._key("blobs")

    def upload(self, upload_id: str) -> str:
        return self._key("upload", upload_id)

    @property
    def uploads(self) -> str:
        return self._key("uploads")

    def apikey(self, digest: str) -> str:
        return self._key("apikey", digest)

    @property
    def apikeys(self) -> str:
        return self._key("apikeys")

    def ratelimit(self, key_id: str) -> str:
        return self._key("ratelimit", key_id)

    @property
    def pattern(self) -> str:
        """A SCAN/KEYS pattern matching every key of this prefix."""
        return f"{self.prefix}:*"


_PLAIN_LUA_TEXT = re.compile(r"[\w:.-]*")


def lua_key_functions() -> str:
    """Lua functions ``k_<name>(part)`` building the same keys. ``P`` is the prefix of the
    call being run (its ``KEYS[1]``), an upvalue the library sets per call."""
    lines = []
    for name, template in _TEMPLATES.items():
        head, hole, tail = template.partition("{}")
        if not _PLAIN_LUA_TEXT.fullmatch(head + tail):
            # A template is ours, not a user's: this guards the table above against an edit.
            raise AssertionError(f"key template {template!r} would need escaping in a Lua string")
        if hole:
            body = f"P .. ':{head}' .. x" + (f" .. '{tail}'" if tail else "")
            lines.append(f"local function k_{name}(x) return {body} end")
        else:
            lines.append(f"local function k_{name}() return P .. ':{head}' end")
    return "\n".join(lines) + "\n"
