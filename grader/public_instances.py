"""Public instance files: problem instances with their expected outputs, as plain JSON.

A student kit ships one instead of the answer key: `grader check --instances FILE` grades
against the outputs it publishes. The format holds only numbers, strings and lists (arrays
as dtype, shape and nested lists; floats round-trip exactly through JSON).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from grader.checks import expected_output
from grader.spec import Exercise, Instance, RngSeed

FORMAT = "grader-public-instances"
VERSION = 1


class InstanceFileError(ValueError):
    """The file is not a public instance file this grader can read."""


def encode(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return {
            "ndarray": {
                "dtype": value.dtype.str,
                "shape": list(value.shape),
                "data": value.tolist(),
            }
        }
    if isinstance(value, RngSeed):
        return {"rng_seed": value.seed}
    if isinstance(value, dict):
        return {"dict": {key: encode(item) for key, item in value.items()}}
    if isinstance(value, tuple):
        return {"tuple": [encode(item) for item in value]}
    if isinstance(value, list):
        return {"list": [encode(item) for item in value]}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    raise TypeError(f"cannot publish a {type(value).__name__}")


def decode(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    if len(value) != 1:
        raise InstanceFileError(f"unexpected object with keys {sorted(value)}")
    ((tag, body),) = value.items()
    if tag == "ndarray":
        dtype = np.dtype(body["dtype"])
        if dtype.kind not in "biuf":
            raise InstanceFileError(f"unsupported dtype {body['dtype']}")
        return np.array(body["data"], dtype=dtype).reshape(body["shape"])
    if tag == "rng_seed":
        return RngSeed(int(body))
    if tag == "dict":
        return {key: decode(item) for key, item in body.items()}
    if tag == "tuple":
        return tuple(decode(item) for item in body)
    if tag == "list":
        return [decode(item) for item in body]
    raise InstanceFileError(f"unknown tag {tag!r}")


def published_outputs(exercise: Exercise, instance: Instance) -> dict[str, Any]:
    """Expected output of every value-checked function (minibatches is checked by property)."""
    return {
        spec.name: expected_output(spec, instance)
        for spec in exercise.functions
        if spec.check == "values"
    }


def write_instances(path: Path, exercises: Sequence[Exercise], seed: int) -> None:
    body = {
        "format": FORMAT,
        "version": VERSION,
        "seed": seed,
        "exercises": {
            exercise.name: [
                {
                    "label": instance.label,
                    "gradient_check": instance.gradient_check,
                    "functions": instance.functions,
                    "args": encode(instance.args),
                    "expected": encode(published_outputs(exercise, instance)),
                }
                for instance in exercise.instances(seed)
            ]
            for exercise in exercises
        },
    }
    path.write_text(json.dumps(body, separators=(",", ":")) + "\n")


def graded_functions(value: object) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise ValueError("'functions' must be a list of function names")
    return tuple(value)


def read_instances(path: Path) -> dict[str, list[Instance]]:
    try:
        body = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise InstanceFileError(f"cannot read {path}: {error}") from None
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise InstanceFileError(f"{path} is not a public instance file")
    if body.get("version") != VERSION:
        raise InstanceFileError(f"{path} has version {body.get('version')}; expected {VERSION}")
    try:
        return {
            name: [
                Instance(
                    label=str(item["label"]),
                    args=decode(item["args"]),
                    gradient_check=bool(item["gradient_check"]),
                    expected=decode(item["expected"]),
                    functions=graded_functions(item.get("functions")),
                )
                for item in items
            ]
            for name, items in body["exercises"].items()
        }
    except (KeyError, TypeError, ValueError) as error:
        raise InstanceFileError(f"{path} is malformed: {error}") from None
