"""``grader`` with the fork server launched before the command's own imports.

What ``python -m bench`` runs to show the effect of the proposed one-line CLI hook
(``grader.sandbox.prewarm(wait=False)`` before the heavy imports): the zygote imports numpy
on the other core while the command imports its own modules.

    python bench/check_prewarmed.py check NOTEBOOK
"""

from __future__ import annotations

import sys

from grader.sandbox import prewarm

prewarm(wait=False)

from grader.cli import main  # noqa: E402 - after the launch, on purpose

if __name__ == "__main__":
    sys.argv = ["grader", *sys.argv[1:]]
    main()
