"""The client's side of stored inputs: read a local file once, store it, hand out references.

``Client.create_job`` / ``create_jobs`` pass their specs through :meth:`Inputs.stored`: every
file or video input that names a local ``path`` (or an ``uploadId``) is replaced by a blob
reference ``{blob, filename, size, contentType, options}`` before the job is written, so the
worker never needs the client's path. Reading a file:

1. the path was checked at validation (:func:`check_local_file`: real path, roots, ``os.stat``
   says regular file, size); it is checked again here, then opened with ``O_NOFOLLOW`` and
   ``O_NONBLOCK`` and the open file must be the very file that was checked (same device and
   inode, still regular), so a swap between check and open is refused;
2. the bytes are copied to a private staging file while hashed (the size limit holds for the
   bytes read, not only for what stat said);
3. a *lease* on the digest is taken in Redis (``lua/blobs.lua``): cleanup leaves a leased
   blob alone, and a lease waits while a cleanup is deleting that blob;
4. the blob is stored unless the store has it already (same bytes, stored once), atomically;
5. the jobs are created, each holding its blob (``create.lua``); then the leases go.

A failure at any step removes the staging file and releases the leases (errors of that
clean-up are logged, never raised over the original error). A blob stored for a creation that
then failed is unreferenced and goes with the next cleanup.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import mimetypes
import os
import re
import stat
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from ._blobs import BlobStore, blob_store, is_digest
from ._config import Settings
from ._models import JobType
from ._validation import check_local_file
from .errors import InvalidInputError, StorageError

if TYPE_CHECKING:
    from ._creation import JobSpec
    from ._store import Store

__all__ = ["DELETING_MS", "LEASE_MS", "Inputs", "Staged"]

log = logging.getLogger("eduscribe.inputs")

#: How long a client may take between storing a blob and creating its job.
LEASE_MS = 3_600_000
#: How long a cleanup may take to delete one chunk of blobs (a crashed cleanup's mark expires).
DELETING_MS = 60_000
_GC_CHUNK = 100
_CHUNK = 1024 * 1024
_FILE_TYPES = (JobType.FILE_NOTES, JobType.VIDEO_NOTES)
_CONTENT_TYPE = re.compile(r"^[A-Za-z0-9][\w.+-]{0,63}/[A-Za-z0-9][\w.+-]{0,63}$")


@dataclass(frozen=True, slots=True)
class Staged:
    """An input's bytes in a private staging file, with their digest."""

    path: Path
    digest: str
    size: int
    filename: str

    @property
    def content_type(self) -> str:
        return mimetypes.guess_type(self.filename)[0] or "application/octet-stream"

    def reference(self) -> dict[str, Any]:
        return {
            "blob": self.digest,
            "filename": self.filename,
            "size": self.size,
            "contentType": self.content_type,
        }


class Inputs:
    """Stores inputs for one client (its job store and settings)."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self._store = store
        self.settings = settings

    @cached_property
    def blobs(self) -> BlobStore:
        return blob_store(self.settings)

    # --- staging -------------------------------------------------------------------------
    def stage_path(self, value: object, *, field: str = "path") -> Staged:
        """Copy a checked local file to a staging file (see the module docstring)."""
        limit = self.settings.max_file_bytes
        real = check_local_file(value, max_bytes=limit, roots=self.settings.file_roots, field=field)
        before = os.stat(real)
        flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(real, flags | getattr(os, "O_NOCTTY", 0))
        except OSError as exc:
            raise InvalidInputError(f"cannot open {value}: {exc.strerror or exc}", field=field) from None
        with open(fd, "rb", closefd=True) as source:
            now = os.fstat(fd)
            if not stat.S_ISREG(now.st_mode) or (now.st_dev, now.st_ino) != (before.st_dev, before.st_ino):
                raise InvalidInputError(f"{value} changed while it was being read", field=field)
            return self._stage(source, real.name, field=field, what=str(value))

    def stage_bytes(self, data: bytes, filename: str) -> Staged:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise InvalidInputError("must be a path or bytes", field="source")
        if not data:
            raise InvalidInputError("the upload is empty", field="source")
        return self._stage(io.BytesIO(bytes(data)), filename, field="source", what=filename)

    def _stage(self, source: Any, filename: str, *, field: str, what: str) -> Staged:
        limit = self.settings.max_file_bytes
        digest = hashlib.sha256()
        size = 0
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - kept past this function on success
            prefix="stage-", dir=self.blobs.staging_dir(), delete=False
        )
        staged = Path(handle.name)
        try:
            with handle:
                while chunk := source.read(_CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise InvalidInputError(
                            f"{what} is over the limit of {limit / 1048576:.0f} MB", field=field
                        )
                    digest.update(chunk)
                    handle.write(chunk)
            if size == 0:
                raise InvalidInputError(f"{what} is empty", field=field)
        except BaseException:
            staged.unlink(missing_ok=True)
            raise
        return Staged(staged, digest.hexdigest(), size, _text(filename))

    # --- storing -------------------------------------------------------------------------
    def lease(self, token: str, digests: Sequence[str]) -> None:
        """Hold ``digests`` against cleanup; waits while a cleanup is deleting one of them."""
        deadline = time.monotonic() + DELETING_MS / 1000 + 5
        while busy := self._store.blobs("lease", token, LEASE_MS, *digests):
            # A cleanup is deleting this blob right now: once it is done, store it again.
            if time.monotonic() > deadline:
                raise StorageError(f"blob {busy} stayed marked for deletion; is a cleanup stuck?")
            time.sleep(0.05)

    def release(self, token: str, digests: Sequence[str]) -> None:
        """Give leases back, and delete blobs that nothing needs now (stored for a creation
        that failed). Failures are logged, never raised over the caller's own error: a lease
        expires on its own, and a blob left over goes with the next cleanup."""
        if not digests:
            return
        try:
            self._delete(self._store.blobs("release", token, DELETING_MS, *digests))
        except Exception:
            log.warning(
                "could not release %d blob lease(s); they expire on their own", len(digests), exc_info=True
            )

    def _delete(self, doomed: Sequence[str]) -> int:
        """Delete blobs marked for deletion, then drop their bookkeeping; returns how many."""
        gone = []
        for digest in doomed:
            try:
                self.blobs.delete(digest)
                gone.append(digest)
            except StorageError:
                # Its mark expires and a later cleanup tries again.
                log.warning("could not delete blob %s", digest, exc_info=True)
        if gone:
            self._store.blobs("forget", *gone)
        return len(gone)

    def put(self, staged: Staged, token: str) -> None:
        """Store a staged file under a lease the caller holds (and releases)."""
        try:
            self.lease(token, [staged.digest])
            if not self.blobs.has(staged.digest):
                self.blobs.put(staged.digest, staged.path)
        except StorageError as exc:
            raise StorageError(f"{staged.filename}: {exc}") from exc
        finally:
            staged.path.unlink(missing_ok=True)

    @contextlib.contextmanager
    def stored(self, specs: Sequence[JobSpec]) -> Iterator[list[JobSpec]]:
        """``specs`` with every local path or upload id replaced by a stored blob's reference,
        leased until the block ends (create the jobs inside it)."""
        token = uuid.uuid4().hex
        leased: list[str] = []
        by_path: dict[str, dict[str, Any]] = {}  # a course may name one file in many rows
        try:
            result = []
            for spec in specs:
                data = spec.input_data
                if spec.job_type not in _FILE_TYPES or not ("path" in data or "uploadId" in data):
                    result.append(spec)
                    continue
                if "uploadId" in data:
                    ref = self._resolve(str(data["uploadId"]), token, spec.user_id)
                else:
                    path = str(data["path"])
                    if path not in by_path:
                        staged = self.stage_path(path)
                        leased.append(staged.digest)
                        self.put(staged, token)
                        by_path[path] = staged.reference()
                    ref = by_path[path]
                leased.append(ref["blob"])
                result.append(replace(spec, input_data={**ref, "options": dict(data.get("options") or {})}))
            yield result
        finally:
            self.release(token, sorted(set(leased)))

    def _resolve(self, upload_id: str, token: str, user_id: str) -> dict[str, Any]:
        flat = self._store.blobs("resolve", token, LEASE_MS, upload_id, user_id)
        fields = dict(zip(flat[::2], flat[1::2], strict=True))
        if not is_digest(fields.get("blob")):
            raise StorageError(f"upload {upload_id} has no valid blob")
        return {
            "blob": fields["blob"],
            "filename": fields.get("filename") or "upload",
            "size": int(fields.get("size") or 0),
            "contentType": fields.get("contentType") or "application/octet-stream",
        }

    def upload(
        self,
        source: str | os.PathLike[str] | bytes | BinaryIO,
        *,
        filename: str | None,
        user_id: str,
        content_type: str | None = None,
    ) -> str:
        """Store ``source`` (a local path, bytes, or a binary file open for reading) as an
        upload; returns its id."""
        if content_type is not None and not (
            isinstance(content_type, str) and _CONTENT_TYPE.fullmatch(content_type)
        ):
            raise InvalidInputError("must be a media type like 'application/pdf'", field="content_type")
        if isinstance(source, bytes | bytearray | memoryview):
            name = _upload_name(filename or "upload")
            staged = self.stage_bytes(bytes(source), name)
        elif isinstance(source, str | os.PathLike):
            staged = self.stage_path(os.fspath(source), field="source")
            if filename is not None:
                staged = replace(staged, filename=_text(_upload_name(filename)))
        elif callable(getattr(source, "read", None)):
            # A file a web service spooled: read in chunks, the size limit holds while reading.
            if isinstance(source, io.TextIOBase):
                raise InvalidInputError("must be a binary file (opened with 'rb')", field="source")
            name = _upload_name(filename or "upload")
            staged = self._stage(source, name, field="source", what=name)
        else:
            raise InvalidInputError(f"must be a path or bytes, got {type(source).__name__}", field="source")
        token, upload_id = uuid.uuid4().hex, uuid.uuid4().hex
        try:
            self.put(staged, token)
            ref = staged.reference()
            if content_type is not None:
                ref["contentType"] = content_type
            self._store.blobs(
                "upload", upload_id, ref["blob"], ref["filename"], ref["size"], ref["contentType"], user_id
            )
        finally:
            self.release(token, [staged.digest])
        return upload_id

    def upload_info(self, upload_id: str) -> Mapping[str, str]:
        """An upload's fields ({} when there is none)."""
        return self._store.upload(upload_id)

    # --- cleanup -------------------------------------------------------------------------
    def collect(self) -> int:
        """Remove uploads unused for ``upload_ttl_hours`` and delete every blob nothing needs
        (no job, no upload, no live lease). Returns how many blobs were deleted."""
        cutoff = f"{time.time() - self.settings.upload_ttl_hours * 3600:.6f}"
        while int(self._store.blobs("expire_uploads", cutoff, 1000)) == 1000:
            pass
        deleted = 0
        candidates = self._store.blob_candidates()
        for start in range(0, len(candidates), _GC_CHUNK):
            deleted += self._delete(
                self._store.blobs("mark", DELETING_MS, *candidates[start : start + _GC_CHUNK])
            )
        if deleted:
            log.info("cleanup deleted %d stored input(s) no job needs", deleted)
        return deleted


def _text(name: str) -> str:
    """A file name as valid UTF-8 text: bytes a name held that are not UTF-8 (os gives them
    as lone surrogates, which neither Redis nor JSON can carry) become U+FFFD."""
    try:
        data = name.encode("utf-8", "surrogateescape")  # the bytes the name had on disk
    except UnicodeEncodeError:
        data = name.encode("utf-8", "surrogatepass")  # a surrogate typed in, not from disk
    return data.decode("utf-8", "replace")


def _upload_name(filename: object) -> str:
    if not isinstance(filename, str) or not filename.strip() or "\0" in filename or len(filename) > 255:
        raise InvalidInputError("must be a file name (1 to 255 characters)", field="filename")
    return os.path.basename(filename.replace("\\", "/")).strip() or "upload"
