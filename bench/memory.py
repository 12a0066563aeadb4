"""Peak memory of the processes of a running batch, sampled from /proc.

Every ``interval`` seconds the sampler walks the process tree under the batch command and
records each process's VmHWM (its peak resident set, kept by the kernel, so a long-lived
process's peak is exact whatever the sampling rate; a short-lived sandbox child can be
missed between two samples).  Processes are classified by their place in the tree:

    main        the ``grader batch`` command
    helper      multiprocessing's forkserver / resource tracker
    worker      a grading process (a child of the forkserver, or of main for a pool)
    zygote      a worker's fork server (``child.py --zygote``)
    sandbox     a submission's process (a descendant of a zygote, or a fresh child)
"""

from __future__ import annotations

import os
import threading
from collections import defaultdict
from pathlib import Path


def _stat(pid: int) -> tuple[int, str] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
    return ppid, cmdline.replace(b"\0", b" ").decode("latin-1")


def _hwm_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


class Sampler(threading.Thread):
    def __init__(self, root_pid: int, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.root = root_pid
        self.interval = interval
        self.stop_event = threading.Event()
        self.peaks: dict[str, float] = defaultdict(float)
        self.per_process: dict[int, tuple[str, float]] = {}

    def classify(self, procs: dict[int, tuple[int, str]]) -> dict[int, str]:
        kinds = {self.root: "main"}
        children = defaultdict(list)
        for pid, (ppid, _) in procs.items():
            children[ppid].append(pid)
        frontier = [self.root]
        while frontier:
            parent = frontier.pop()
            for pid in children.get(parent, []):
                cmd = procs[pid][1]
                up = kinds[parent]
                if "--zygote" in cmd and up in ("zygote", "sandbox"):
                    kind = "sandbox"
                elif "--zygote" in cmd:
                    kind = "zygote"
                elif "_sbx_child.py" in cmd or up in ("sandbox", "zygote"):
                    kind = "sandbox"
                elif up == "main" and ("forkserver" in cmd or "resource_tracker" in cmd):
                    kind = "helper"
                elif up in ("main", "helper"):
                    kind = "worker"
                else:
                    kind = "sandbox" if up == "worker" else up
                kinds[pid] = kind
                frontier.append(pid)
        return kinds

    def sample(self) -> None:
        procs = {}
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                info = _stat(int(entry.name))
                if info is not None:
                    procs[int(entry.name)] = info
        for pid, kind in self.classify(procs).items():
            hwm = _hwm_mb(pid)
            self.peaks[kind] = max(self.peaks[kind], hwm)
            self.per_process[pid] = (kind, max(hwm, self.per_process.get(pid, ("", 0.0))[1]))

    def run(self) -> None:
        while not self.stop_event.is_set():
            self.sample()
            self.stop_event.wait(self.interval)

    def stop(self) -> dict[str, float]:
        self.stop_event.set()
        self.join()
        return dict(self.peaks)
