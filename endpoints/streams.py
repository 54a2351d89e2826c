"""Reading response bodies up to a cap, so a huge answer never has to fit in memory."""

from __future__ import annotations

import time

import aiohttp
import httpx


class DeadlineExceeded(TimeoutError):
    """The whole call took longer than the endpoint's timeout."""


def read_capped_sync(
    response: httpx.Response, cap: int, deadline: float | None = None
) -> tuple[bytes, bool]:
    """Up to ``cap`` bytes of the (decoded) body and whether that is all of it.

    Stops reading at the cap (the caller closes the response, dropping the connection) and
    raises DeadlineExceeded when ``deadline`` (a ``time.monotonic()`` value) passes while a slow
    sender drips the body: httpx timeouts are per operation, not per call.
    """
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > cap:
            return b"".join(chunks)[:cap], False
        if deadline is not None and time.monotonic() > deadline:
            raise DeadlineExceeded("timed out while reading the response")
    return b"".join(chunks), True


async def read_capped_async(response: aiohttp.ClientResponse, cap: int) -> tuple[bytes, bool]:
    """Up to ``cap`` bytes of the body and whether that is all of it (aiohttp)."""
    length = response.content_length
    if length is not None and length <= cap:
        return await response.read(), True
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        chunks.append(chunk)
        size += len(chunk)
        if size > cap:
            return b"".join(chunks)[:cap], False
    return b"".join(chunks), True
