"""Run student code in a child process and exchange only plain numeric data with it.

Student code never runs in the grader's process, and nothing the child sends is unpickled
or trusted.  Usage::

    with Sandbox(load_submission(path), Limits(call_seconds=2)) as box:
        loaded = box.start()                      # LoadResult: names, chunk_errors, output
        one = box.call("sigmoid", (z,))           # CallOutcome: value, args_after, error
        many = box.call_many("sigmoid", [(z,) for z in instances])   # one round trip

* Values crossing the boundary: None, bool, int, float, str, ndarrays of bool/int/uint/float
  dtypes (any shape), tuples, lists, dicts with str keys, nested; ``RngSeed`` as an argument
  (the child makes ``numpy.random.default_rng(seed)``); ``Opaque(type_name)`` in results for
  anything else (custom objects, object arrays...).  See ``wire``.
* A failed call has ``error.kind`` in ``model.ERROR_KINDS``; timeouts, crashes and memory
  kills restart the child transparently for the next call.  See ``sandbox.Sandbox``.
* ``describe_isolation()`` says which mode this machine gives (strong: Linux namespaces;
  fallback: rlimits and a process group) and what each does not stop.  See ``isolation``.
* Each child is a fresh process forked from a per-process fork server that has imported
  numpy once (``zygote``), isolated exactly as a fresh start; ``prewarm()`` starts that
  server ahead of the first submission (e.g. in a batch worker's initializer).
"""

from .isolation import (
    ISOLATION_CHOICES,
    IsolationInfo,
    IsolationUnavailable,
    IsolationWarning,
    describe_isolation,
    prewarm,
)
from .model import ERROR_KINDS, CallError, CallOutcome, ChunkError, Limits, LoadResult
from .sandbox import Sandbox
from .wire import Opaque, RngSeed, WireError

__all__ = [
    "ERROR_KINDS",
    "ISOLATION_CHOICES",
    "CallError",
    "CallOutcome",
    "ChunkError",
    "IsolationInfo",
    "IsolationUnavailable",
    "IsolationWarning",
    "Limits",
    "LoadResult",
    "Opaque",
    "RngSeed",
    "Sandbox",
    "WireError",
    "describe_isolation",
    "prewarm",
]
