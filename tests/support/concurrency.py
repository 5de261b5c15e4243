"""Racing calls the way concurrent Lambda containers or job runs race, for the tests of what must happen
once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def run_at_once(tasks: Sequence[Callable[[], T]]) -> list[T]:
    """Runs every task in a thread of its own, all released together by a barrier; answers their results
    in task order. A task's exception is raised here, so a failure in a thread fails the test."""
    start = threading.Barrier(len(tasks))

    def released(task: Callable[[], T]) -> T:
        start.wait()
        return task()

    with ThreadPoolExecutor(max_workers=len(tasks)) as pool:
        futures = [pool.submit(released, task) for task in tasks]
        return [future.result() for future in futures]
