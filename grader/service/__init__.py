"""The foundation of `grader serve` (not there yet): the course file, the durable submission
store, tokens and a local grading loop. No HTTP here; see docs/service.md."""
