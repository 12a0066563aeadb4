"""Starter material derived from the exercise declarations: notebooks and .py scripts.

Everything a student sees (titles, statements, signatures, what each function returns,
points, the conventions) comes from the declarations, rendered by `grader.contract` (the
renderer of docs/exercises.md too); nothing here knows any exercise in particular.

A starter has a title cell (the table of its exercises and the conventions they are stated
under), then per exercise a markdown cell (its section of the contract: title, statement, the
functions to write) and a code cell (`import numpy as np` and one stub per function with
the contract's parameter names, a docstring and `raise NotImplementedError`), and ends with
a cell that grades the notebook from inside it (`grader.check`).

Decisions a reader needs to know:

- A function required by two exercises of the same starter (`mse_loss`) is stubbed once,
  at its first exercise; a second stub would overwrite the student's first answer when the
  cells run in order.
- The self-check cell imports `grader` inside `try`: the grader's sandbox cannot import
  `grader`, so when the finished notebook is graded that cell must do nothing rather than
  fail (a failing cell makes the engine grade every exercise).
- The .py form is a "percent" script (`# %%` cells, as Jupytext, VS Code and Spyder read
  them): markdown cells become comment blocks, so the file is plain Python the grader loads.
- Cell ids are derived from the exercise names, so the same command writes the same file.
"""

from __future__ import annotations

import json
import keyword
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.contract import conventions_markdown, points
from grader.contract import exercise_markdown as contract_section
from grader.spec import Exercise, FunctionSpec

FORMATS = {".ipynb": "ipynb", ".py": "py"}

TITLE = "Gradient descent and backpropagation"

INSTRUCTIONS = (
    "Fill in every function below where it says `raise NotImplementedError`. Keep each "
    "function's name and parameters exactly as they are: the grader calls them by name. "
    "Write plain numpy, return new values instead of modifying the inputs, and add helper "
    "functions wherever you like. The last cell checks your work; run it as often as you want."
)


@dataclass(frozen=True)
class Cell:
    """One cell of a starter, independent of the file format it is written in."""

    kind: str  # "markdown" or "code"
    source: str
    id: str


# ------------------------------------------------------------------------------ cells


def starter_cells(
    exercises: Sequence[Exercise], filename: str = "starter.ipynb", instances: str | None = None
) -> list[Cell]:
    """The cells of a starter for `exercises` (in the order given), `filename` being the
    name the student's file will have (it appears in the self-check instructions).

    With `instances` (the name of a public instance file shipped beside the notebook, in a
    student kit), the self-check grades against that file instead of the answer key."""
    if not exercises:
        raise ValueError("a starter needs at least one exercise")
    cells = [Cell("markdown", title_markdown(exercises), "title")]
    stubbed: dict[str, Exercise] = {}
    for exercise in exercises:
        cells.append(Cell("markdown", exercise_markdown(exercise, stubbed), f"{exercise.name}-md"))
        cells.append(Cell("code", exercise_code(exercise, stubbed), f"{exercise.name}-code"))
        for spec in exercise.functions:
            stubbed.setdefault(spec.name, exercise)
    cells.append(Cell("markdown", check_markdown(filename, instances), "self-check-md"))
    cells.append(Cell("code", check_code(exercises, filename, instances), "self-check"))
    return cells


def title_markdown(exercises: Sequence[Exercise]) -> str:
    title = exercises[0].title if len(exercises) == 1 else TITLE
    lines = [f"# {title}", "", INSTRUCTIONS, "", "| # | exercise | functions | points |"]
    lines.append("|---:|---|---|---:|")
    for exercise in exercises:
        functions = ", ".join(f"`{name}`" for name in exercise.function_names)
        lines.append(
            f"| {exercise.number} | {exercise.title} (`{exercise.name}`) | {functions} "
            f"| {exercise.max_score:g} |"
        )
    total = sum(exercise.max_score for exercise in exercises)
    lines.append(f"| | **total** | | **{total:g}** |")
    lines += ["", conventions_markdown(exercises)]
    return "\n".join(lines)


def exercise_markdown(exercise: Exercise, stubbed: dict[str, Exercise]) -> str:
    """The exercise's section of the contract, noting functions already stubbed above."""
    notes = {
        spec.name: f"the same function as in exercise {stubbed[spec.name].number}, "
        "already written above"
        for spec in exercise.functions
        if spec.name in stubbed
    }
    return contract_section(exercise, notes=notes)


def exercise_code(exercise: Exercise, stubbed: dict[str, Exercise]) -> str:
    parts = ["import numpy as np"]
    for spec in exercise.functions:
        earlier = stubbed.get(spec.name)
        if earlier is None:
            parts.append(stub_source(exercise, spec))
        else:
            parts.append(
                f"# {spec.name}: written above for exercise {earlier.number} "
                f"({earlier.name}); it is graded here too."
            )
    return "\n\n\n".join(parts) + "\n"


def stub_source(exercise: Exercise, spec: FunctionSpec) -> str:
    """`def name(params):` with a docstring and `raise NotImplementedError`."""
    for name in (spec.name, *spec.params):
        if not name.isidentifier() or keyword.iskeyword(name):
            raise ValueError(f"{exercise.name}: {name!r} is not a valid Python name")
    doc = (
        f"Returns: {spec.returns}.\n\n"
        f"Exercise {exercise.number} ({exercise.name}), {points(spec.points)}: "
        "the shapes and the maths are in the statement above."
    )
    return (
        f"def {spec.name}({', '.join(spec.params)}):\n"
        f'    """{docstring_text(doc)}\n    """\n'
        "    raise NotImplementedError  # replace this line with your code"
    )


def docstring_text(text: str) -> str:
    """`text` as the body of a triple-quoted docstring, indented for a function body."""
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    wrapped = [
        textwrap.fill(paragraph, width=88, subsequent_indent="    ") if paragraph else ""
        for paragraph in text.split("\n")
    ]
    return "\n".join(f"    {line}" if i and line else line for i, line in enumerate(wrapped))


def check_markdown(filename: str, instances: str | None = None) -> str:
    return (
        "## Check your work\n\n"
        "The next cell grades the functions you wrote, the way your submission will be "
        "graded. They run in a separate, isolated process: nothing in this notebook is "
        "changed, and a function that crashes or loops forever cannot hang it. Run it after "
        "every change.\n\n"
        f"From a terminal, after saving the file: `{terminal_command(filename, instances)}`."
    )


def terminal_command(filename: str, instances: str | None) -> str:
    option = f" --instances {instances}" if instances else ""
    return f"grader check{option} {filename}"


def check_code(exercises: Sequence[Exercise], filename: str, instances: str | None = None) -> str:
    arguments = [f'"{exercise.name}"' for exercise in exercises]
    if instances:
        arguments.append(f"instances={json.dumps(instances)}")
    call = f"    check({', '.join(arguments)})"
    if len(call) > 88:
        inner = "".join(f"        {argument},\n" for argument in arguments)
        call = f"    check(\n{inner}    )"
    return (
        f"# From a terminal instead: {terminal_command(filename, instances)}\n"
        "try:\n"
        "    from grader import check\n"
        "except ImportError:  # the grader is not installed here, or this file is being graded\n"
        "    pass\n"
        "else:\n"
        f"{call}\n"
    )


# ---------------------------------------------------------------------------- formats


def notebook_text(cells: Sequence[Cell]) -> str:
    """The cells as a Jupyter notebook (nbformat 4), validated."""
    import nbformat  # deferred: only the notebook form needs it

    notebook = nbformat.v4.new_notebook()
    notebook.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for cell in cells:
        make = (
            nbformat.v4.new_markdown_cell if cell.kind == "markdown" else nbformat.v4.new_code_cell
        )
        notebook.cells.append(make(cell.source.rstrip("\n"), id=cell.id))
    nbformat.validate(notebook)
    return nbformat.writes(notebook)


def python_text(cells: Sequence[Cell]) -> str:
    """The cells as a percent-format script: markdown as `# %% [markdown]` comment blocks."""
    blocks = []
    for cell in cells:
        if cell.kind == "markdown":
            lines = cell.source.rstrip("\n").split("\n")
            body = "\n".join(f"# {line}".rstrip() for line in wrap_markdown(lines))
            blocks.append(f"# %% [markdown]\n{body}\n")
        else:
            blocks.append(f"# %%\n{cell.source.rstrip()}\n")
    return "\n\n".join(blocks)


def wrap_markdown(lines: list[str], width: int = 86) -> list[str]:
    """Long prose lines wrapped for a comment block; tables, lists and headings kept whole."""
    out: list[str] = []
    for line in lines:
        if len(line) <= width or line.lstrip().startswith(("|", "#", "- ", "* ", "```")):
            out.append(line)
        else:
            out.extend(textwrap.wrap(line, width, break_long_words=False, break_on_hyphens=False))
    return out


def starter_format(path: Path | str) -> str:
    """ "ipynb" or "py", from the file's extension; ValueError for anything else."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"{Path(path).name}: a starter is a .ipynb notebook or a .py script")
    return FORMATS[suffix]


def starter_text(
    exercises: Sequence[Exercise], path: Path | str, instances: str | None = None
) -> str:
    """The text of the starter file `path` for `exercises` (the format follows the extension)."""
    kind = starter_format(path)
    cells = starter_cells(exercises, Path(path).name, instances)
    return notebook_text(cells) if kind == "ipynb" else python_text(cells)


def write_starter(
    path: Path | str,
    exercises: Sequence[Exercise] | None = None,
    overwrite: bool = False,
    instances: str | None = None,
) -> Path:
    """Write the starter for `exercises` (default: every exercise of the catalogue) to `path`.

    Refuses to replace an existing file unless `overwrite`: it may hold a student's work.
    """
    if exercises is None:
        from grader.catalogue import current

        exercises = current().exercises
    path = Path(path)
    text = starter_text(exercises, path, instances)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
