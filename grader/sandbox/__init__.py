"""Run student code in a child process and exchange only plain numeric data with it.

Student code never runs in the grader's process.  See ``isolation`` for what each mode
(strong: Linux namespaces; fallback: rlimits and a process group) does and does not stop,
``wire`` for the data format (never pickle), and ``model`` for the limits and results.

    with Sandbox(load_submission(path), Limits(call_seconds=2)) as box:
        loaded = box.start()
        outcome = box.call("sigmoid", (np.zeros(3),))
        outcomes = box.call_many("sigmoid", [(z,) for z in instances])
"""

from .isolation import IsolationInfo, IsolationWarning, describe_isolation
from .model import CallError, CallOutcome, ChunkError, Limits, LoadResult
from .sandbox import Sandbox
from .wire import Opaque, RngSeed, WireError

__all__ = [
    "CallError",
    "CallOutcome",
    "ChunkError",
    "IsolationInfo",
    "IsolationWarning",
    "Limits",
    "LoadResult",
    "Opaque",
    "RngSeed",
    "Sandbox",
    "WireError",
    "describe_isolation",
]
