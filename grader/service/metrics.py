"""`/metrics`: the service's state in Prometheus' text format, for a scraper and the TA
dashboard alike. Counts only: no student, no token, no file name."""

from __future__ import annotations

from datetime import timedelta

from grader.service.core import Service
from grader.service.store import utc_now


def service_metrics(service: Service) -> dict[str, int | None]:
    """Submissions per status, the broker's queue depth, workers alive, graded per minute."""
    counts = service.store.status_counts()
    pool = service.pool
    return {
        **{f"submissions_{status}": count for status, count in counts.items()},
        "queue_depth": pool.queue_depth if pool is not None else None,
        "workers_alive": pool.alive if pool is not None else 0,
        "graded_last_minute": service.store.graded_since(utc_now() - timedelta(minutes=1)),
    }


def prometheus_text(metrics: dict[str, int | None]) -> str:
    lines = [
        "# HELP grader_submissions Submissions by status (late: accepted after the deadline).",
        "# TYPE grader_submissions gauge",
    ]
    for key, value in metrics.items():
        if key.startswith("submissions_"):
            status = key.removeprefix("submissions_")
            lines.append(f'grader_submissions{{status="{status}"}} {value}')
    described = {
        "queue_depth": "Tasks waiting in the broker's queue (grading through Celery only).",
        "workers_alive": "Grading worker processes alive.",
        "graded_last_minute": "Submissions graded in the last minute.",
    }
    for key, help_text in described.items():
        if metrics.get(key) is None:
            continue
        lines += [
            f"# HELP grader_{key} {help_text}",
            f"# TYPE grader_{key} gauge",
            f"grader_{key} {metrics[key]}",
        ]
    return "\n".join(lines) + "\n"
