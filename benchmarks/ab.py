"""What the benchmarks share: A/B rounds interleaved in one run, their medians and ranges,
CPU accounted per process (this one, its workers, git, the loopback site), machine load.

Every figure a benchmark compares with its floor comes from rounds run A, B, A, B … in the
same process on the same machine minutes apart, so that a busy spell on this shared machine
lands on both sides; the ratio is taken per round, then its median and range reported.
"""

from __future__ import annotations

import os
import resource
import statistics
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")
TICK = os.sysconf("SC_CLK_TCK")
# Reading every process's /proc/<pid>/stat takes ~1 ms here: sampling every 0.1 s costs the
# measured run about 1 % of a core.
CPU_SAMPLE_SECONDS = 0.1
ROLES = ("main", "workers", "git", "site", "other")


# Medians and ranges -----------------------------------------------------------------------


@dataclass(frozen=True)
class Spread:
    """Median and range of a few measurements."""

    values: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def show(self, unit: str = " s", digits: int = 2) -> str:
        """'12.34 s (11.90–13.02)', or just the value when there is one."""
        low, high = min(self.values), max(self.values)
        text = f"{self.median:,.{digits}f}{unit}"
        if len(self.values) > 1:
            text += f" ({low:,.{digits}f}–{high:,.{digits}f})"
        return text


def spread(values: Sequence[float]) -> Spread:
    return Spread(tuple(values))


def ratios(numerators: Sequence[float], denominators: Sequence[float]) -> Spread:
    """Per-round ratio: round i of one side against round i of the other."""
    return spread([n / d for n, d in zip(numerators, denominators, strict=True)])


def interleaved(rounds: int, sides: Sequence[Callable[[], T]]) -> list[list[T]]:
    """Each side run once per round, in turn (A, B, A, B …); results by side, then round."""
    results: list[list[T]] = [[] for _ in sides]
    for _ in range(rounds):
        for side, out in zip(sides, results, strict=True):
            out.append(side())
    return results


# Machine load -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    before: tuple[float, float, float]
    after: tuple[float, float, float]

    def show(self) -> str:
        def three(values: tuple[float, float, float]) -> str:
            return " / ".join(f"{v:.2f}" for v in values)

        return f"load average (1/5/15 min) {three(self.before)} before, {three(self.after)} after"


@contextmanager
def machine_load() -> Iterator[list[Load]]:
    """Yields a list that holds the Load once the block ends."""
    out: list[Load] = []
    before = os.getloadavg()
    try:
        yield out
    finally:
        out.append(Load(before, os.getloadavg()))


# CPU per process --------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcInfo:
    pid: int
    ppid: int
    name: str
    cpu: float  # user + system seconds of the process itself (not its children)


def read_proc(pid: int) -> ProcInfo | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            raw = stat.read()
    except OSError:
        return None
    # The command name may hold spaces and brackets; the fields after the last ")" do not.
    head, _, tail = raw.rpartition(b")")
    fields = tail.split()
    name = head.partition(b"(")[2].decode("utf-8", "replace")
    return ProcInfo(pid, int(fields[1]), name, (int(fields[11]) + int(fields[12])) / TICK)


def all_procs() -> dict[int, ProcInfo]:
    procs = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and (info := read_proc(int(entry.name))) is not None:
            procs[info.pid] = info
    return procs


def descendants(root: int, procs: dict[int, ProcInfo]) -> set[int]:
    children: dict[int, list[int]] = {}
    for info in procs.values():
        children.setdefault(info.ppid, []).append(info.pid)
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        found.add(pid)
        todo.extend(children.get(pid, ()))
    return found


@dataclass(frozen=True)
class CpuUse:
    """CPU seconds by role over one measured block, and the block's wall time."""

    wall: float
    roles: dict[str, float] = field(default_factory=dict)
    # Children's CPU that getrusage counted but no sample saw (processes shorter than a
    # sample interval, and the last interval of each child).
    unattributed: float = 0.0

    @property
    def total(self) -> float:
        return sum(self.roles.values()) + self.unattributed

    def get(self, role: str) -> float:
        return self.roles.get(role, 0.0)


def _self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class CpuMeter:
    """CPU of this process, of its descendants by role, and of the site's process tree,
    over one block. This process is measured exactly (getrusage); descendants are sampled
    from /proc every CPU_SAMPLE_SECONDS, each one's last value kept, and named by role:
    a git process is "git", any other descendant "workers"; `site` is a pid whose tree is
    counted as "site" (it runs the whole time, so its start and end values are exact)."""

    def __init__(self, site: int | None = None) -> None:
        self.site = site
        self._me = os.getpid()
        self._start: dict[int, float] = {}
        self._last: dict[int, ProcInfo] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample_loop, daemon=True)
        self.result: CpuUse | None = None

    def _tree(self) -> dict[int, ProcInfo]:
        procs = all_procs()
        mine = descendants(self._me, procs) - {self._me}
        return {pid: procs[pid] for pid in mine if pid in procs}

    def _sample_loop(self) -> None:
        while not self._stop.wait(CPU_SAMPLE_SECONDS):
            self._last.update(self._tree())

    def _role(self, info: ProcInfo, site_tree: set[int]) -> str:
        if info.pid in site_tree:
            return "site"
        if info.name.startswith("git"):
            return "git"
        return "workers" if info.name.startswith("python") else "other"

    def __enter__(self) -> CpuMeter:
        before = self._tree()
        self._start = {pid: info.cpu for pid, info in before.items()}
        self._last = dict(before)
        self._self, self._children = _self_cpu(), _children_cpu()
        self._began = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        wall = time.perf_counter() - self._began
        self._stop.set()
        self._thread.join()
        self._last.update(self._tree())
        self.result = self._account(wall)

    def _account(self, wall: float) -> CpuUse:
        site_tree = descendants(self.site, self._last) if self.site else set()
        roles = dict.fromkeys(ROLES, 0.0)
        roles["main"] = _self_cpu() - self._self
        sampled_ended = 0.0  # of descendants that are gone now (getrusage has them)
        alive = set(all_procs())
        for pid, info in self._last.items():
            used = info.cpu - self._start.get(pid, 0.0)
            roles[self._role(info, site_tree)] += used
            if pid not in alive and pid not in site_tree:
                sampled_ended += used
        finished = _children_cpu() - self._children
        return CpuUse(wall, roles, max(0.0, finished - sampled_ended))


def cpu_table_cells(use: Sequence[CpuUse]) -> dict[str, str]:
    """Each role's CPU seconds over rounds, median (range)."""
    cells = {role: spread([u.get(role) for u in use]).show() for role in ROLES}
    cells["unattributed"] = spread([u.unattributed for u in use]).show()
    cells["total"] = spread([u.total for u in use]).show()
    return cells
