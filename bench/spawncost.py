"""What isolation itself costs per submission: start a sandbox, load a submission, close it.

Prints one JSON line per mode with median milliseconds, forked from the zygote or (with
``GRADER_SANDBOX_ZYGOTE=0`` in the environment) started fresh.

    python -m bench.spawncost [--runs N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    from grader.loading import load_submission
    from grader.sandbox import Limits, Sandbox, describe_isolation

    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args(argv)
    source = load_submission(ROOT / "submissions" / "correct.py")
    modes = ["fallback"] + (["strong"] if describe_isolation().mode == "strong" else [])
    out = {}
    for mode in modes:
        with Sandbox(source, Limits(), isolation=mode) as box:  # warm: zygote, caches
            box.start()
        starts, closes = [], []
        for _ in range(args.runs):
            box = Sandbox(source, Limits(), isolation=mode)
            t0 = time.perf_counter()
            assert box.start().ok
            t1 = time.perf_counter()
            box.close()
            starts.append(t1 - t0)
            closes.append(time.perf_counter() - t1)
        out[mode] = {
            "start_and_load_ms": statistics.median(starts) * 1000,
            "close_ms": statistics.median(closes) * 1000,
        }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
