"""The blob store: file and video inputs, stored at creation, read by workers.

A blob is the bytes of one input file, named by the SHA-256 of those bytes (the same file
submitted twice is stored once). A job's ``input_data`` holds a reference
(``{blob, filename, size, contentType}``); a worker copies the blob to a private temporary
file and hands that path to the processor (:func:`local_copy`), so it never opens a path a
client named: a symlink swapped in after creation cannot change what is read, and a worker
on another machine reads what the client stored.

Two backends, chosen by ``EDUSCRIBE_BLOB_URL`` (``Settings.blob_url``):

* a folder (a path or ``file://`` URL; default ``EDUSCRIBE_HOME/blobs``): ``<root>/ab/abcd…``,
  written to ``<root>/.staging`` first and renamed into place, so a blob is either whole or
  absent; shared between machines only through a shared filesystem;
* S3 or any S3-compatible store (``s3://bucket/prefix?endpoint_url=…&region=…``) through
  boto3, imported only when such a URL is used; credentials come from the standard AWS
  environment (``AWS_ACCESS_KEY_ID``, profiles, instance roles). An object appears only once
  its upload completed.

Who still needs a blob is tracked in Redis (``lua/blobs.lua``); :mod:`._inputs` stores and
collects blobs on the client's side.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from ._config import Settings
from .errors import ConfigError, PermanentError, StorageError, TransientError

__all__ = [
    "BlobMissing",
    "BlobStore",
    "FolderBlobStore",
    "S3BlobStore",
    "blob_store",
    "is_digest",
    "local_copy",
    "safe_filename",
]

log = logging.getLogger("eduscribe.blobs")

_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 1024 * 1024


def is_digest(value: object) -> bool:
    return isinstance(value, str) and bool(_DIGEST.fullmatch(value))


def safe_filename(name: str) -> str:
    """The original file name, fit for a temporary copy in a folder of its own: its base name
    without separators or NUL, at most 200 characters with the extension kept (errors name
    the file as the user knows it; extractors and media decoders look at the extension)."""
    base = os.path.basename(name.replace("\\", "/")).replace("\0", "")
    if base in ("", ".", ".."):
        return "input"
    stem, dot, suffix = base.rpartition(".")
    if len(base) > 200:
        return f"{stem[:180]}.{suffix[:10]}" if dot and stem else base[:200]
    return base


class BlobMissing(StorageError):
    """The store has no blob with that digest."""


class BlobStore(Protocol):
    #: Where the blobs are, for messages (no credentials).
    location: str

    def staging_dir(self) -> Path | None:
        """A folder on the store's filesystem for staged files (so storing is a rename), or
        None: stage anywhere."""
        ...

    def has(self, digest: str) -> bool: ...

    def put(self, digest: str, staged: Path) -> None:
        """Store the file at ``staged`` (whose SHA-256 is ``digest``) atomically; the caller
        removes ``staged`` afterwards if it still exists."""
        ...

    def fetch(self, digest: str, dest: Path) -> None:
        """Write the blob to ``dest``; raises :class:`BlobMissing` if there is none."""
        ...

    def delete(self, digest: str) -> None: ...


class FolderBlobStore:
    """Blobs as files under one folder (see the module docstring)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.location = str(root)

    def _path(self, digest: str) -> Path:
        if not is_digest(digest):
            raise StorageError(f"not a blob digest: {digest!r}")
        return self.root / digest[:2] / digest

    def staging_dir(self) -> Path:
        staging = self.root / ".staging"
        try:
            staging.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create the blob folder {staging}: {exc.strerror or exc}") from exc
        return staging

    def has(self, digest: str) -> bool:
        return self._path(digest).is_file()

    def put(self, digest: str, staged: Path) -> None:
        target = self._path(digest)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            # Workers may run as another user of the same group.
            os.chmod(staged, 0o640)
            os.replace(staged, target)
        except OSError as exc:
            raise StorageError(f"cannot store a blob in {self.root}: {exc.strerror or exc}") from exc

    def fetch(self, digest: str, dest: Path) -> None:
        try:
            with self._path(digest).open("rb") as source, dest.open("wb") as out:
                shutil.copyfileobj(source, out, _CHUNK)
        except FileNotFoundError:
            raise BlobMissing(f"blob {digest} is not in {self.root}") from None
        except OSError as exc:
            raise StorageError(f"cannot read blob {digest} from {self.root}: {exc.strerror or exc}") from exc

    def delete(self, digest: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(digest).unlink()


class S3BlobStore:
    """Blobs as objects ``<prefix>/<digest>`` in one bucket of an S3-compatible store."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if not parts.hostname:
            raise ConfigError(f"no bucket in {url!r} (s3://bucket/prefix)", setting="EDUSCRIBE_BLOB_URL")
        self.bucket = parts.hostname
        self.prefix = unquote(parts.path).strip("/")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        unknown = set(query) - {"endpoint_url", "region"}
        if unknown:
            raise ConfigError(
                f"unknown option(s) {', '.join(sorted(unknown))} (endpoint_url, region)",
                setting="EDUSCRIBE_BLOB_URL",
            )
        self.location = f"s3://{self.bucket}/{self.prefix}"
        # boto3 costs ~0.3 s to import: only deployments that store blobs in S3 pay it.
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError

        config = Config(connect_timeout=10, read_timeout=60, retries={"max_attempts": 5, "mode": "standard"})
        try:
            self._client: Any = boto3.client(
                "s3", endpoint_url=query.get("endpoint_url"), region_name=query.get("region"), config=config
            )
        except (ValueError, BotoCoreError) as exc:  # a malformed endpoint_url or region
            raise ConfigError(f"cannot use {self.location}: {exc}", setting="EDUSCRIBE_BLOB_URL") from None

    def _key(self, digest: str) -> str:
        if not is_digest(digest):
            raise StorageError(f"not a blob digest: {digest!r}")
        return f"{self.prefix}/{digest}" if self.prefix else digest

    def staging_dir(self) -> None:
        return None

    def _error(self, action: str, digest: str, exc: Exception) -> StorageError:
        return StorageError(f"cannot {action} blob {digest} in {self.location}: {exc}")

    def has(self, digest: str) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._client.head_object(Bucket=self.bucket, Key=self._key(digest))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise self._error("look up", digest, exc) from exc
        except BotoCoreError as exc:
            raise self._error("look up", digest, exc) from exc
        return True

    def put(self, digest: str, staged: Path) -> None:
        from boto3.exceptions import Boto3Error
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            # The transfer manager aborts a multipart upload that fails: no partial object.
            self._client.upload_file(str(staged), self.bucket, self._key(digest))
        except (Boto3Error, BotoCoreError, ClientError) as exc:
            raise self._error("store", digest, exc) from exc

    def fetch(self, digest: str, dest: Path) -> None:
        from boto3.exceptions import Boto3Error
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._client.download_file(self.bucket, self._key(digest), str(dest))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise BlobMissing(f"blob {digest} is not in {self.location}") from None
            raise self._error("read", digest, exc) from exc
        except (Boto3Error, BotoCoreError) as exc:
            raise self._error("read", digest, exc) from exc

    def delete(self, digest: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._client.delete_object(Bucket=self.bucket, Key=self._key(digest))
        except (BotoCoreError, ClientError) as exc:
            raise self._error("delete", digest, exc) from exc


def blob_store(settings: Settings) -> BlobStore:
    """The store ``settings`` name (one object per location and process)."""
    return _open(settings.blob_location)


@functools.lru_cache(maxsize=8)
def _open(location: str) -> BlobStore:
    scheme = urlsplit(location).scheme.lower()
    if scheme == "s3":
        return S3BlobStore(location)
    if scheme == "file":
        return FolderBlobStore(Path(unquote(urlsplit(location).path)))
    if scheme and len(scheme) > 1:  # "C:" is a Windows drive, not a scheme
        raise ConfigError(
            f"unsupported blob store {scheme!r}: use a folder path, file:// or s3://",
            setting="EDUSCRIBE_BLOB_URL",
        )
    root = Path(location).expanduser()
    if not root.is_absolute():
        # Relative to what? Each process's working directory would give another folder.
        raise ConfigError(f"{location!r} is not an absolute path", setting="EDUSCRIBE_BLOB_URL")
    return FolderBlobStore(root)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def local_copy(
    input_data: Mapping[str, Any], settings: Settings, *, allow_path: bool = False
) -> Iterator[tuple[Path, str]]:
    """A private copy of a job's stored input: yields (path, original file name).

    The copy lives in a fresh temporary folder only this process's user can read, and is
    removed afterwards. Raises :class:`PermanentError` when the input names no blob (a record
    from an older version, which held a client path the worker will not open) or the blob
    is gone or damaged, and :class:`TransientError` when the store cannot be reached.
    ``allow_path``: a processor called directly (``LocalContext``: tests, notebooks,
    benchmarks) reads a normalised ``path`` itself, as its caller; a worker never does.
    """
    digest = input_data.get("blob")
    if not is_digest(digest):
        path = input_data.get("path")
        if allow_path and isinstance(path, str) and path:
            yield Path(path), Path(path).name
            return
        if path:
            raise PermanentError(
                "this job names a local path, which workers do not open (a record from before "
                "inputs were stored with the job): create it again"
            )
        if allow_path:
            raise PermanentError("input_data.path (or a stored blob) is missing: the job names no file")
        raise PermanentError("input_data.blob is missing: the job has no stored input")
    assert isinstance(digest, str)
    filename = str(input_data.get("filename") or "input")
    store = blob_store(settings)
    with tempfile.TemporaryDirectory(prefix="eduscribe-input-") as folder:
        dest = Path(folder) / safe_filename(filename)
        try:
            store.fetch(digest, dest)
        except BlobMissing as exc:
            raise PermanentError(f"{filename}: the stored input is gone from {store.location}") from exc
        except StorageError as exc:
            raise TransientError(f"{filename}: {exc}") from exc
        if sha256_file(dest) != digest:
            raise PermanentError(f"{filename}: the stored input in {store.location} is damaged")
        yield dest, filename
