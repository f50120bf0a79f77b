"""Politeness across a whole cluster: every process of a run (the syncing one and each
worker) asks the scheduler before it sends a request to a host.

- At most `per_host` requests at once to a host: a distributed.Semaphore per host.
- `min_delay` between the start of one request and the next: a second semaphore per host
  with one lease (the host's turn), taken before a request and given back `delay` seconds
  after it started. No clock is compared between machines: the wait is timed by whoever
  held the turn.
- A 429/503's pause: its end, in wall-clock time, kept in the scheduler's metadata, read
  before every request (so one worker's Retry-After holds for all).
- robots.txt: read once per host for the whole run, by the first process that needs it
  (the others wait on a per-host lease), and kept in the scheduler's metadata.

A worker that dies holding a lease gives it back when the lease times out (the
scheduler's distributed.scheduler.locks.lease-timeout, 30 s by default).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from distributed import Semaphore

from archiver.fetch.client import Fetcher, HostGate
from archiver.fetch.robots import Robots, _Policy

NAMESPACE = "archiver"


class Shared:
    """One run's names on the scheduler, reached through `scheduler` (an rpc to it) on
    `loop` (the event loop the calls are made on)."""

    def __init__(self, run: str, scheduler: Any, loop: Any) -> None:
        self.run = run
        self.scheduler = scheduler
        self.loop = loop
        self._semaphores: dict[str, Semaphore] = {}
        self._background: set[asyncio.Task[Any]] = set()

    def semaphore(self, role: str, host: str, leases: int) -> Semaphore:
        name = f"{NAMESPACE}-{self.run}-{role}-{host}"
        semaphore = self._semaphores.get(name)
        if semaphore is None:
            semaphore = Semaphore(leases, name, scheduler_rpc=self.scheduler, loop=self.loop)
            self._semaphores[name] = semaphore
            self.spawn(self.set(True, "semaphores", name))  # for forget() to close
        return semaphore

    async def get(self, *keys: str) -> Any:
        return await self.scheduler.get_metadata(keys=[NAMESPACE, self.run, *keys], default=None)

    async def set(self, value: Any, *keys: str) -> None:
        await self.scheduler.set_metadata(keys=[NAMESPACE, self.run, *keys], value=value)

    def later(self, seconds: float, semaphore: Semaphore) -> None:
        """Give back a lease of `semaphore` in `seconds`, the caller going on meanwhile."""

        async def release() -> None:
            await asyncio.sleep(seconds)
            await semaphore.release()

        self.spawn(release())

    def spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._background.add(task)  # kept until done: the loop holds tasks weakly
        task.add_done_callback(self._background.discard)

    async def close(self) -> None:
        """This process is done with the run: leases held for a delay are given back, and
        its semaphores stop renewing leases (they stay on the scheduler for the others)."""
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        for semaphore in self._semaphores.values():
            semaphore.refresh_callback.stop()
        self._semaphores.clear()

    async def forget(self) -> None:
        """The run is over everywhere: its semaphores closed on the scheduler and what it
        kept in the scheduler's metadata dropped (done by the syncing process)."""
        await self.close()
        for name in await self.get("semaphores") or {}:
            await self.scheduler.semaphore_close(name=name)
        await self.scheduler.set_metadata(keys=[NAMESPACE, self.run], value=None)


class ClusterGate(HostGate):
    """HostGate's limits held for every process of the run at once (see the module)."""

    def __init__(self, shared: Shared, per_host: int, min_delay: float) -> None:
        super().__init__(per_host, min_delay)
        self.shared = shared
        self._sharing: dict[str, asyncio.Future[None]] = {}  # a host's pause being shared

    async def enter(self, host: str, min_delay: float | None = None) -> None:
        delay = self.min_delay if min_delay is None else min_delay
        slots = self.shared.semaphore("slots", host, self.per_host)
        await slots.acquire()
        try:
            turn = self.shared.semaphore("turn", host, 1) if delay > 0 else None
            if turn is not None:
                await turn.acquire()
            try:
                # Looked at again after each wait: a pause may begin while this one waits.
                await self.refresh(host)
                while (wait := self.paused_for(host)) > 0:
                    await asyncio.sleep(wait)
                    await self.refresh(host)
            except BaseException:
                if turn is not None:
                    await turn.release()
                raise
            if turn is not None:
                self.shared.later(delay, turn)  # the next request, anywhere, `delay` after this
        except BaseException:
            await slots.release()
            raise

    def leave(self, host: str) -> None:
        self.shared.spawn(self._leave(host))

    async def _leave(self, host: str) -> None:
        # A 429 is left before its pause is set (Fetcher.fetch): the slot is given back only
        # once the pause is on the scheduler, so whoever takes it next sees the pause.
        await asyncio.sleep(0)
        if (sharing := self._sharing.get(host)) is not None:
            await asyncio.shield(sharing)
        await self.shared.semaphore("slots", host, self.per_host).release()

    def pause(self, host: str, seconds: float) -> None:
        super().pause(host, seconds)
        sharing = asyncio.ensure_future(self._share_pause(host, time.time() + seconds))
        self._sharing[host] = sharing
        self.shared.spawn(sharing)

    async def refresh(self, host: str) -> None:
        until = await self.shared.get("pause", host)
        if until is not None and (left := until - time.time()) > 0:
            super().pause(host, left)

    async def _share_pause(self, host: str, until: float) -> None:
        current = await self.shared.get("pause", host)
        if current is None or current < until:  # a longer pause already set stays
            await self.shared.set(until, "pause", host)


class SharedRobots(Robots):
    """robots.txt of each host read once for the whole run, whichever process asks first."""

    def __init__(self, fetcher: Fetcher, shared: Shared) -> None:
        super().__init__(fetcher)
        self.shared = shared

    async def _load(self, origin: str) -> _Policy:
        if (known := await self.shared.get("robots", origin)) is not None:
            return _Policy.from_dict(known)
        reading = self.shared.semaphore("robots", origin, 1)
        await reading.acquire()
        try:
            if (known := await self.shared.get("robots", origin)) is not None:
                return _Policy.from_dict(known)  # read by another while this one waited
            policy = await super()._load(origin)
            await self.shared.set(policy.to_dict(), "robots", origin)
            return policy
        finally:
            await reading.release()


def share(fetcher: Fetcher, shared: Shared) -> SharedRobots:
    """Make `fetcher` ask the cluster's gate; robots.txt read through it, once a run."""
    settings = fetcher.settings
    fetcher.gate = ClusterGate(shared, settings.per_host, settings.min_delay)
    return SharedRobots(fetcher, shared)
