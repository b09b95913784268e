"""Group commit: callers that arrive while a batch is written wait for the next one, which holds them all."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[T, R]):
    """`await submit(item)` returns the item's result once the batch that holds it is written.

    One batch is written at a time; the first caller starts writing at once (no waiting for company), and
    whoever arrives meanwhile goes in the next batch. A caller that gave up (cancelled) is left out of the
    batches not yet started.
    """

    def __init__(self, write: Callable[[list[T]], Awaitable[list[R]]], *, max_batch: int = 500):
        self._write = write
        self._max_batch = max_batch
        self._pending: list[tuple[T, asyncio.Future]] = []
        self._task: asyncio.Task | None = None

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def submit(self, item: T) -> R:
        future = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._task is None:
            self._task = asyncio.create_task(self._drain(), name="group-commit")
        return await future

    async def _drain(self) -> None:
        try:
            while self._pending:
                self._pending = [(item, f) for item, f in self._pending if not f.done()]
                batch, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch :]
                if not batch:
                    break
                try:
                    results = await self._write([item for item, _ in batch])
                except Exception as exc:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(result)
        finally:
            self._task = None
