"""Reading data files with bounded memory: streamed, size-capped, checksummed.

The loaders know how large each file's content may be (from the published size of the
original, or from the header of an IDX file) before they read it. :func:`read_capped`
stops as soon as the content goes past that size, so a small gzip that inflates to
gigabytes (a "decompression bomb") costs at most the expected size in memory, and every
error names the file.
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from contextlib import nullcontext
from pathlib import Path

__all__ = ["read_capped", "read_head", "sha256_file", "verify_digests"]

_CHUNK = 1 << 20  # bytes decompressed per step
# Deflate never expands data by more than about 0.03 %, plus headers (a gzip header may
# carry a file name and a comment): a .gz file larger than this cannot hold `limit` bytes.
_GZIP_SLACK = 1 << 16


def _is_gzip(path: Path) -> bool:
    return path.name.endswith(".gz")


def _open(raw, path: Path):
    return gzip.GzipFile(fileobj=raw, mode="rb") if _is_gzip(path) else nullcontext(raw)


def _decompress_error(path: Path, exc: BaseException) -> ValueError:
    return ValueError(f"{path}: cannot decompress (corrupt or truncated gzip file): {exc}")


def _read_at_most(stream, n: int) -> bytearray:
    """Up to ``n`` bytes of ``stream``, read in chunks (no chunk is larger than needed)."""
    buffer = bytearray()
    while len(buffer) < n:
        chunk = stream.read(min(_CHUNK, n - len(buffer)))
        if not chunk:
            break
        buffer += chunk
    return buffer


def read_head(path: Path, n: int) -> bytes:
    """The first ``n`` bytes of the content of ``path`` (decompressed if ``.gz``).

    Fewer bytes if the content is shorter. A corrupt or truncated gzip stream is a
    ValueError that names the file.
    """
    try:
        with open(path, "rb") as raw, _open(raw, path) as stream:
            return bytes(_read_at_most(stream, n))
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise _decompress_error(path, exc) from exc


def read_capped(path: Path, limit: int, what: str) -> bytearray:
    """The content of ``path`` (decompressed if its name ends in ``.gz``), refused past ``limit``.

    The size on disk is checked first: a plain file larger than ``limit``, or a gzip
    file too large to hold only ``limit`` bytes, is refused without reading it. A gzip
    stream is inflated chunk by chunk and reading stops one byte past ``limit``, so
    memory stays below about ``limit`` bytes whatever the file inflates to.

    Parameters
    ----------
    path : pathlib.Path
        The file.
    limit : int
        The largest content accepted, in bytes.
    what : str
        Where ``limit`` comes from, for the message (e.g. ``"the size of the original"``).

    Returns
    -------
    bytearray
        The content, at most ``limit`` bytes.

    Raises
    ------
    ValueError
        If the content is longer than ``limit`` ("too long", naming the file), or the
        gzip stream is corrupt or truncated ("cannot decompress", naming the file).

    Examples
    --------
    >>> import gzip, tempfile
    >>> from pathlib import Path
    >>> from skconvex.datasets._files import read_capped
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = Path(tmp.name) / "zeros.gz"
    >>> _ = path.write_bytes(gzip.compress(bytes(10_000_000)))  # 10 MB in 10 kB
    >>> len(read_capped(path, 10_000_000, "the expected size"))
    10000000
    >>> read_capped(path, 1000, "the expected size")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: .../zeros.gz: too long: the content goes past 1000 bytes (the expected size); ...
    >>> tmp.cleanup()
    """
    size = path.stat().st_size
    stored_limit = limit + (limit >> 10) + _GZIP_SLACK if _is_gzip(path) else limit
    if size > stored_limit:
        raise ValueError(
            f"{path}: too long: {size} bytes on disk, but the content may have at most "
            f"{limit} bytes ({what}); refused without reading it."
        )
    try:
        with open(path, "rb") as raw, _open(raw, path) as stream:
            content = _read_at_most(stream, limit + 1)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise _decompress_error(path, exc) from exc
    if len(content) > limit:
        raise ValueError(
            f"{path}: too long: the content goes past {limit} bytes ({what}); reading "
            "stopped there (a corrupt file, or a gzip that inflates far beyond its data)."
        )
    return content


def sha256_file(path: Path) -> str:
    """The SHA-256 of the bytes of ``path`` as stored, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_digests(path: Path, content, stored_digest: str | None, content_digest: str) -> None:
    """Check the SHA-256 of a file against that of the original; a ValueError names it.

    A ``.gz`` file passes if its own bytes have ``stored_digest`` (the published digest
    of the distributed file) or if its decompressed ``content`` has ``content_digest``
    (a re-compressed copy). A plain file must have ``content_digest``.
    """
    if _is_gzip(path):
        actual = sha256_file(path)
        if actual == stored_digest:
            return
        actual_content = hashlib.sha256(content).hexdigest()
        if actual_content != content_digest:
            raise ValueError(
                f"{path}: SHA-256 mismatch: expected {stored_digest} (the published "
                f"digest of the original file), got {actual}; the decompressed "
                f"content has {actual_content}, expected {content_digest}. The file "
                "is not the original; pass verify_checksum=False to read it anyway."
            )
        return
    actual = hashlib.sha256(content).hexdigest()
    if actual != content_digest:
        raise ValueError(
            f"{path}: SHA-256 mismatch: expected {content_digest} (the digest of the "
            f"original uncompressed file), got {actual}. The file is not the original; "
            "pass verify_checksum=False to read it anyway."
        )
