"""The contract students code against, rendered from the exercise declarations.

One renderer for everything a student reads about the exercises: `docs/exercises.md`
(generated, committed, and checked by a test: regenerate it with
`python -m grader.contract --out docs/exercises.md`), the markdown of every starter notebook
and kit (`grader.starter`, `grader.kit`) and `grader show EXERCISE`.

What is rendered, and from where:

- The conventions (one example per column, the MSE and BCE formulas, scalars in any size-1
  form, inputs never modified...) are data of the pack that declares the exercise, as
  markdown list items: the built-in pack's are `exercises.CONVENTIONS`. An exercise is
  stated under its own `conventions` attribute if its declaration has one, else its pack's
  (`Pack.conventions`, when the catalogue records one), else the built-in pack's; a page
  holding exercises of several packs lists each distinct convention once.
- Per exercise: its title, its statement (self-contained: the statement of one exercise
  never relies on another's), each function's signature, what it returns and its points,
  tolerances where they are not the default, the functions graded by one instance only
  (`Instance.functions`), and the exercise's total.
- The grading rule (the default tolerance, all-or-nothing points per function) comes from
  `grader.spec`, not from the conventions: it is the grader's, whatever the pack.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from grader.spec import DEFAULT_ATOL, DEFAULT_RTOL, Exercise, FunctionSpec, Instance

DOC_PATH = Path("docs") / "exercises.md"
REGENERATE = "python -m grader.contract --out docs/exercises.md"
TITLE = "The exercises"
# Instances are generated from a seed; the labels of restricted instances are read from
# this one (they name what is probed, not the random sizes).
LISTING_SEED = 0


def points(value: float) -> str:
    return f"{value:g} point" + ("" if value == 1 else "s")


def exercises_of(catalogue: Any) -> tuple[Exercise, ...]:
    """The exercises of a `grader.catalogue.Catalogue`, or of a plain sequence of them."""
    return tuple(getattr(catalogue, "exercises", catalogue))


# ------------------------------------------------------------------------ conventions


def conventions_for(exercise: Exercise, catalogue: Any = None) -> tuple[str, ...]:
    """The conventions `exercise` is stated under: those of its pack in `catalogue` (default:
    this process's), else the built-in pack's."""
    if catalogue is None:
        from grader.catalogue import current

        catalogue = current()
    if exercise.name in catalogue:
        own = catalogue.pack_of(exercise.name).conventions
        if own is not None:
            return own
    from exercises import CONVENTIONS

    return CONVENTIONS


def conventions(exercises: Iterable[Exercise], catalogue: Any = None) -> tuple[str, ...]:
    """Every convention of `exercises`, once each, in order."""
    return tuple(dict.fromkeys(item for e in exercises for item in conventions_for(e, catalogue)))


def number(value: float) -> str:
    return f"{value:g}".replace("e-0", "e-").replace("e+0", "e+")


def grading_rule() -> str:
    return (
        "Grading: every output array passes when "
        f"`max|answer - expected| <= {number(DEFAULT_ATOL)} + {number(DEFAULT_RTOL)} * "
        "max|expected|` "
        "(unless a function states other tolerances); a function earns its points only when "
        "it passes on every instance, and backward functions are also checked against finite "
        "differences of the loss."
    )


def conventions_markdown(
    exercises: Iterable[Exercise], level: int = 2, catalogue: Any = None
) -> str:
    items = [*conventions(exercises, catalogue), grading_rule()]
    return "\n".join(
        [
            f"{'#' * level} Conventions",
            "",
            "These hold for every exercise unless its statement says otherwise.",
            "",
            *(f"- {item}" for item in items),
        ]
    )


# ------------------------------------------------------------------------ exercises


def function_line(spec: FunctionSpec, note: str | None = None) -> str:
    details = [points(spec.points)]
    if (spec.rtol, spec.atol) != (DEFAULT_RTOL, DEFAULT_ATOL):
        details.append(f"tolerances rtol = {number(spec.rtol)}, atol = {number(spec.atol)}")
    if spec.must_not_warn:
        details.append("must not emit any warning")
    if spec.check != "values":
        details.append("its answer is not unique: graded on the properties stated above")
    line = f"- `{spec.signature}` ({'; '.join(details)})"
    return f"{line}: {note}" if note else line


def restricted_instances(exercise: Exercise, seed: int = LISTING_SEED) -> list[Instance]:
    """The instances that grade some functions of the exercise only."""
    return [i for i in exercise.instances(seed) if i.functions is not None]


def restriction_lines(exercise: Exercise) -> list[str]:
    lines = []
    for instance in restricted_instances(exercise):
        graded = [name for name in exercise.function_names if instance.grades(name)]
        others = [name for name in exercise.function_names if not instance.grades(name)]
        lines.append(
            f'- The instance "{instance.label}" grades only '
            f"{', '.join(f'`{name}`' for name in graded)}; "
            f"{', '.join(f'`{name}`' for name in others)} "
            f"{'is' if len(others) == 1 else 'are'} not graded on it."
        )
    return lines


def exercise_markdown(
    exercise: Exercise, level: int = 2, notes: Mapping[str, str] | None = None
) -> str:
    """The section of one exercise; `notes` adds a remark after a function's line."""
    notes = notes or {}
    count = len(exercise.functions)
    lines = [
        f"{'#' * level} {exercise.number}. {exercise.title}",
        "",
        f"Exercise `{exercise.name}`: {count} function{'s' if count != 1 else ''}, "
        f"{points(exercise.max_score)} in total.",
        "",
        exercise.statement,
        "",
        "Write:",
        "",
        *(function_line(spec, notes.get(spec.name)) for spec in exercise.functions),
    ]
    restrictions = restriction_lines(exercise)
    if restrictions:
        lines += ["", "Instances that grade some functions only:", "", *restrictions]
    return "\n".join(lines)


def contract_markdown(catalogue: Any, generated_by: str | None = REGENERATE) -> str:
    """The whole contract of `catalogue` (a Catalogue or a sequence of exercises)."""
    exercises = exercises_of(catalogue)
    total = sum(exercise.max_score for exercise in exercises)
    functions = len({name for exercise in exercises for name in exercise.function_names})
    lines = [f"# {TITLE}", ""]
    if generated_by:
        lines += [
            "<!-- Generated from the exercise declarations (exercises/exNN_*.py); do not edit."
            f" Regenerate with: {generated_by} -->",
            "",
        ]
    lines += [
        f"{len(exercises)} exercises, {functions} functions, {points(total)}. Each function "
        "must be defined with exactly the name and parameters given. "
        "`grader show EXERCISE` prints an exercise's statement with a small public instance "
        "(inputs and expected outputs); `grader starter EXERCISE` writes a notebook to fill in.",
        "",
        "| # | exercise | functions | points |",
        "|---:|---|---|---:|",
    ]
    for exercise in exercises:
        names = ", ".join(f"`{name}`" for name in exercise.function_names)
        lines.append(
            f"| {exercise.number} | {exercise.title} (`{exercise.name}`) | {names} "
            f"| {exercise.max_score:g} |"
        )
    catalogue = catalogue if hasattr(catalogue, "exercises") else None
    lines += [f"| | **total** | | **{total:g}** |", ""]
    lines.append(conventions_markdown(exercises, catalogue=catalogue))
    for exercise in exercises:
        lines += ["", exercise_markdown(exercise)]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------- grader show


def value_size(value: Any) -> int:
    if isinstance(value, dict):
        return sum(value_size(item) for item in value.values())
    if isinstance(value, list | tuple):
        return sum(value_size(item) for item in value)
    size = getattr(value, "size", None)
    return int(size) if isinstance(size, int) else 1


def smallest_instance(instances: Sequence[Instance]) -> Instance:
    """The instance with the fewest numbers, preferring those that grade every function."""
    every = [i for i in instances if i.functions is None] or list(instances)
    return min(every, key=lambda i: value_size(i.args))


def value_text(value: Any, indent: str) -> str:
    """`value` on lines indented by `indent`: arrays under numpy's print options."""
    import numpy as np

    from grader.spec import RngSeed

    if isinstance(value, dict):
        return "".join(
            f"\n{indent}{key}:{value_text(item, indent + '  ')}" for key, item in value.items()
        )
    if isinstance(value, list | tuple):
        kind = "tuple" if isinstance(value, tuple) else "list"
        body = "".join(
            f"\n{indent}[{i}]:{value_text(item, indent + '  ')}" for i, item in enumerate(value)
        )
        return f" {kind} of {len(value)}{body}"
    if isinstance(value, RngSeed):
        return f" numpy.random.default_rng({value.seed})"
    if isinstance(value, np.ndarray) and value.ndim:
        text = np.array2string(value, separator=", ")
        if "\n" not in text:
            return f" {value.shape} array {text}"
        pad = "\n" + indent + "  "
        return f" {value.shape} array{pad}{text.replace(chr(10), pad)}"
    if isinstance(value, bool | str) or value is None:
        return f" {value!r}"
    if isinstance(value, int | np.integer):
        return f" {int(value)}"
    text = f"{float(value):.7g}"
    return f" {text}" if any(c in text for c in ".en") else f" {text}.0"


def named_outputs(spec: FunctionSpec, output: Any) -> Any:
    if spec.outputs and isinstance(output, tuple) and len(output) == len(spec.outputs):
        return dict(zip(spec.outputs, output, strict=True))
    return output


def instance_text(exercise: Exercise, seed: int) -> str:
    """The smallest public instance of `exercise` for `seed`: its inputs and the expected
    output of every function, as `grader kit` publishes them."""
    import numpy as np

    from grader.public_instances import published_outputs

    instance = smallest_instance(exercise.instances(seed))
    lines = [f'Public instance "{instance.label}" (seed {seed}, as `grader kit` publishes it)']
    with np.printoptions(precision=6, linewidth=88, threshold=60, edgeitems=3):
        lines.append("Inputs:")
        lines += [f"  {key}:{value_text(v, '    ')}" for key, v in instance.args.items()]
        try:
            outputs = published_outputs(exercise, instance)
        except ImportError:
            lines.append("Expected outputs: not available (the answer key is not installed).")
            return "\n".join(lines)
        lines.append("Expected outputs:")
        for spec in exercise.functions:
            if not instance.grades(spec.name):
                continue
            if spec.name not in outputs:
                lines.append(f"  {spec.name}: no single expected output (graded on properties)")
                continue
            output = named_outputs(spec, outputs[spec.name])
            lines.append(f"  {spec.name}:{value_text(output, '    ')}")
    return "\n".join(lines)


def show_text(exercise: Exercise, seed: int | None = None) -> str:
    """What `grader show` prints: the conventions, the exercise's section of the contract
    and its smallest public instance."""
    if seed is None:
        from grader.kit import PUBLIC_SEED

        seed = PUBLIC_SEED
    return "\n\n".join(
        [
            exercise_markdown(exercise),
            conventions_markdown([exercise]),
            instance_text(exercise, seed),
        ]
    )


# --------------------------------------------------------------- python -m grader.contract


def builtin_catalogue() -> Any:
    """The built-in exercises alone: docs/exercises.md documents the repository's pack,
    whatever packs GRADER_PACKS or installed course packages add to this process."""
    from grader.catalogue import load

    return load((), installed=False)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m grader.contract",
        description="Render the exercise contract (docs/exercises.md) from the declarations.",
    )
    parser.add_argument("--out", type=Path, help="write it to this file (default: stdout)")
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1 if --out is not up to date with the declarations, without writing",
    )
    options = parser.parse_args(argv)
    text = contract_markdown(builtin_catalogue())
    if options.out is None:
        sys.stdout.write(text)
        return 0
    if options.check:
        existing = options.out.read_text(encoding="utf-8") if options.out.exists() else None
        if existing != text:
            print(f"{options.out} is out of date; regenerate it with: {REGENERATE}")
            return 1
        return 0
    options.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
