"""The notebook fast path: it never vouches for a notebook nbformat refuses, and it is used.

The oracle is nbformat itself, called as `grader.loading` calls it. Every notebook below,
and hundreds of mutations of them, are shown to `certainly_valid_v4`; whenever it says
"valid", nbformat must accept the notebook.
"""

from __future__ import annotations

import copy
import json
import random
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

from grader import loading
from grader.loading import load_submission
from grader.notebook_format import certainly_valid_v4

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_NOTEBOOKS = sorted(
    [*(ROOT / "submissions").glob("*.ipynb"), *(ROOT / "tests").rglob("*.ipynb")]
)

Notebook = dict[str, Any]


def nbformat_accepts(notebook: Notebook) -> bool:
    """The verdict of the nbformat path of `grader.loading`: read, convert, validate."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            node = nbformat.convert(nbformat.reader.reads(json.dumps(notebook)), 4)
            nbformat.validate(node)
        except Exception:
            return False
    return True


# ------------------------------------------------------------------ notebooks


PYTHON_METADATA: Notebook = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {
        "codemirror_mode": {"name": "ipython", "version": 3},
        "file_extension": ".py",
        "mimetype": "text/x-python",
        "name": "python",
        "nbconvert_exporter": "python",
        "pygments_lexer": "ipython3",
        "version": "3.11.7",
    },
}


def v44_notebook() -> Notebook:
    """Every cell type and documented cell metadata field, as Jupyter wrote them before ids."""
    return {
        "nbformat": 4,
        "nbformat_minor": 4,
        "metadata": copy.deepcopy(PYTHON_METADATA),
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Title\n", "Some text."]},
            {
                "cell_type": "markdown",
                "metadata": {"jupyter": {"source_hidden": True}, "tags": ["intro"]},
                "source": "![plot](attachment:plot.png)",
                "attachments": {"plot.png": {"image/png": "iVBORw0KGgo=", "text/plain": ["p"]}},
            },
            {
                "cell_type": "code",
                "execution_count": None,
                "metadata": {},
                "outputs": [],
                "source": ["import numpy as np\n", "\n", "x = np.ones(3)"],
            },
            {
                "cell_type": "code",
                "execution_count": 0,
                "metadata": {
                    "name": "setup",
                    "tags": ["solution", "graded"],
                    "collapsed": False,
                    "scrolled": "auto",
                    "jupyter": {"outputs_hidden": False},
                    "execution": {
                        "iopub.execute_input": "2024-01-01T10:00:00.000Z",
                        "shell.execute_reply": "2024-01-01T10:00:00.100Z",
                    },
                    "deletable": False,
                },
                "outputs": [],
                "source": "def f(x):\r\n    return 2 * x\r\n",
            },
            {"cell_type": "raw", "metadata": {"format": "text/latex"}, "source": "\\LaTeX"},
            {
                "cell_type": "code",
                "execution_count": 7,
                "metadata": {},
                "outputs": [],
                "source": "",
            },
            {
                "cell_type": "code",
                "execution_count": None,
                "metadata": {"scrolled": True},
                "outputs": [],
                "source": ["%%bash\n", "ls"],
            },
        ],
    }


def with_cell_ids(notebook: Notebook) -> Notebook:
    notebook = copy.deepcopy(notebook)
    notebook["nbformat_minor"] = 5
    notebook["cells"] = [
        {"id": f"cell-{n:02d}", **cell} for n, cell in enumerate(notebook["cells"])
    ]
    return notebook


def v45_notebook() -> Notebook:
    return with_cell_ids(v44_notebook())


ONE_PIXEL_PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAHnOcQAAAAABJRU5E"
    "rkJggg==\n"
)


def outputs_notebook() -> Notebook:
    """A v4.5 notebook with outputs of all four types."""
    cell = {
        "cell_type": "code",
        "execution_count": 3,
        "id": "a1B2-c3_d4",
        "metadata": {},
        "source": "y = f(3)\nprint(y)\ny",
        "outputs": [
            {"name": "stdout", "output_type": "stream", "text": ["6\n", "done\n"]},
            {"name": "stderr", "output_type": "stream", "text": "warning\n"},
            {
                "output_type": "execute_result",
                "execution_count": 3,
                "metadata": {},
                "data": {
                    "text/plain": ["6"],
                    "text/html": "<b>6</b>",
                    "application/json": {"value": 6, "list": [1, None, True]},
                },
            },
            {
                "output_type": "display_data",
                "metadata": {"image/png": {"width": 400, "height": 300}},
                "data": {
                    "image/png": ONE_PIXEL_PNG,
                    "text/plain": ["<Figure size 640x480 with 1 Axes>"],
                    "application/vnd.plotly.v1+json": [1, 2, {"x": 3}],
                },
            },
            {
                "output_type": "error",
                "ename": "ZeroDivisionError",
                "evalue": "division by zero",
                "traceback": ["\x1b[0;31mZeroDivisionError\x1b[0m", "Traceback ..."],
            },
        ],
    }
    notebook = v45_notebook()
    notebook["cells"].append(cell)
    return notebook


def colab_notebook() -> Notebook:
    """Shaped like a Colab download: minor version 0, ids inside the metadata, extras."""
    return {
        "nbformat": 4,
        "nbformat_minor": 0,
        "metadata": {
            "colab": {"provenance": [], "collapsed_sections": [], "toc_visible": True},
            "kernelspec": {"name": "python3", "display_name": "Python 3"},
            "language_info": {"name": "python"},
            "accelerator": "GPU",
            "gpuClass": "standard",
            "widgets": {"application/vnd.jupyter.widget-state+json": {"abc": {"model": 1}}},
        },
        "cells": [
            {"cell_type": "markdown", "metadata": {"id": "Xy1"}, "source": ["# Homework"]},
            {
                "cell_type": "code",
                "execution_count": 1,
                "metadata": {
                    "id": "Qw2",
                    "colab": {"base_uri": "https://localhost:8080/", "height": 35},
                    "outputId": "1c2d-4f",
                    "executionInfo": {
                        "status": "ok",
                        "timestamp": 1700000000000,
                        "user_tz": -60,
                        "elapsed": 12,
                        "user": {"displayName": "Student", "userId": "0123"},
                    },
                },
                "outputs": [
                    {
                        "output_type": "execute_result",
                        "data": {"text/plain": ["'2.0'"], "text/html": ["<p>2.0</p>"]},
                        "metadata": {"tags": []},
                        "execution_count": 1,
                    }
                ],
                "source": ["!pip install numpy\n", "import numpy as np\n", "str(np.sqrt(4))"],
            },
        ],
    }


def r_notebook() -> Notebook:
    notebook = v45_notebook()
    notebook["metadata"] = {
        "kernelspec": {"display_name": "R", "language": "R", "name": "ir"},
        "language_info": {"name": "R", "file_extension": ".r", "mimetype": "text/x-r-source"},
    }
    return notebook


def nbformat_written_notebook() -> Notebook:
    """As nbformat itself writes one: v4.5 with random cell ids."""
    cells = [new_markdown_cell("# Hi"), new_code_cell("a = 1\nb = a + 1"), new_raw_cell("raw")]
    return json.loads(nbformat.writes(new_notebook(cells=cells, metadata=PYTHON_METADATA)))


HAND_BUILT: dict[str, Callable[[], Notebook]] = {
    "v4.4": v44_notebook,
    "v4.5": v45_notebook,
    "outputs": outputs_notebook,
    "colab": colab_notebook,
    "r_kernel": r_notebook,
    "nbformat_written": nbformat_written_notebook,
}


def corpus() -> dict[str, Notebook]:
    notebooks = {path.name: json.loads(path.read_text("utf-8")) for path in SAMPLE_NOTEBOOKS}
    notebooks.update({name: build() for name, build in HAND_BUILT.items()})
    return notebooks


# ------------------------------------------------------------------ mutations


Mutation = Callable[[Notebook], None]


def cells_of(notebook: Notebook, cell_type: str) -> list[Notebook]:
    return [cell for cell in notebook["cells"] if cell["cell_type"] == cell_type]


def first_output(notebook: Notebook, output_type: str) -> Notebook:
    outputs = (output for cell in cells_of(notebook, "code") for output in cell["outputs"])
    return next(output for output in outputs if output["output_type"] == output_type)


Target = Callable[[Notebook], Any]

TARGETS: dict[str, Target] = {
    "notebook": lambda nb: nb,
    "notebook metadata": lambda nb: nb["metadata"],
    "code cell": lambda nb: cells_of(nb, "code")[-1],
    "markdown cell": lambda nb: cells_of(nb, "markdown")[0],
    "raw cell": lambda nb: cells_of(nb, "raw")[0],
    "code metadata": lambda nb: cells_of(nb, "code")[-1]["metadata"],
    "markdown metadata": lambda nb: cells_of(nb, "markdown")[0]["metadata"],
    "raw metadata": lambda nb: cells_of(nb, "raw")[0]["metadata"],
    "execute_result": lambda nb: first_output(nb, "execute_result"),
    "display_data": lambda nb: first_output(nb, "display_data"),
    "stream": lambda nb: first_output(nb, "stream"),
    "error": lambda nb: first_output(nb, "error"),
}

_ABSENT = object()

CHANGES: dict[str, list[tuple[str, Any]]] = {
    "notebook": [
        ("nbformat_minor", 0),
        ("nbformat_minor", 3),
        ("nbformat_minor", 4),
        ("nbformat_minor", 5),
        ("nbformat_minor", 6),
        ("nbformat_minor", -1),
        ("nbformat_minor", True),
        ("nbformat_minor", 5.0),
        ("nbformat_minor", "5"),
        ("nbformat", 3),
        ("nbformat", True),
        ("nbformat", 4.0),
        ("metadata", _ABSENT),
        ("metadata", []),
        ("nbformat_minor", _ABSENT),
        ("cells", _ABSENT),
        ("cells", {}),
        ("cells", [None]),
        ("cells", [["code"]]),
        ("worksheets", []),
    ],
    "notebook metadata": [
        ("kernelspec", {"name": "python3"}),
        ("kernelspec", {"name": "python3", "display_name": 3}),
        ("kernelspec", {"name": "python3", "display_name": "P", "env": {}}),
        ("kernelspec", "python3"),
        ("language_info", {}),
        ("language_info", {"name": 3}),
        ("language_info", {"name": "python", "codemirror_mode": "python"}),
        ("language_info", {"name": "python", "codemirror_mode": 3}),
        ("language_info", {"name": "python", "file_extension": 1}),
        ("language_info", {"name": "python", "mimetype": None}),
        ("language_info", {"name": "python", "pygments_lexer": []}),
        ("orig_nbformat", 0),
        ("orig_nbformat", True),
        ("orig_nbformat", 3),
        ("title", 3),
        ("title", "Homework"),
        ("authors", {}),
        ("authors", [{"name": 1}]),
        ("signature", 5),
        ("anything", {"deep": [1, None, {"x": True}]}),
    ],
    "code cell": [
        ("extra", 1),
        ("metadata", _ABSENT),
        ("source", _ABSENT),
        ("outputs", _ABSENT),
        ("execution_count", _ABSENT),
        ("id", _ABSENT),
        ("cell_type", "bogus"),
        ("cell_type", ["code"]),
        ("cell_type", "markdown"),
        ("source", 5),
        ("source", ["a = 1\n", 1]),
        ("source", []),
        ("source", None),
        ("id", "bad id!"),
        ("id", ""),
        ("id", "x" * 64),
        ("id", "x" * 65),
        ("id", 5),
        ("id", "abc\n"),
        ("id", "caf\xe9"),
        ("id", "fresh-id_1"),
        ("execution_count", -1),
        ("execution_count", True),
        ("execution_count", 1.0),
        ("execution_count", "1"),
        ("execution_count", 12),
        ("outputs", {}),
        ("outputs", None),
        ("outputs", [None]),
        ("outputs", [{}]),
        ("outputs", [{"output_type": "bogus"}]),
        ("attachments", {}),
        ("metadata", []),
    ],
    "markdown cell": [
        ("extra", 1),
        ("cell_type", "code"),
        ("attachments", {"a.png": {"image/png": "iVBOR"}}),
        ("attachments", {"a.png": {"image/png": 5}}),
        ("attachments", {"a.png": 5}),
        ("attachments", {"a.json": {"application/json": {"x": 1}}}),
        ("attachments", []),
        ("outputs", []),
        ("id", "x" * 65),
    ],
    "raw cell": [("extra", 1), ("source", ["a", None]), ("attachments", {"": {}})],
    "code metadata": [
        ("tags", ["a,b"]),
        ("tags", ["t", "t"]),
        ("tags", ["ok", "fine"]),
        ("tags", [""]),
        ("tags", "tag"),
        ("tags", [1]),
        ("name", ""),
        ("name", "a\nb"),
        ("name", "trailing\n"),
        ("name", "ok"),
        ("name", 3),
        ("scrolled", "yes"),
        ("scrolled", "auto"),
        ("scrolled", False),
        ("scrolled", 1),
        ("scrolled", None),
        ("collapsed", 1),
        ("collapsed", "true"),
        ("collapsed", True),
        ("execution", {"iopub.status.busy": 1}),
        ("execution", {"custom.time": "2024"}),
        ("execution", {"x": None}),
        ("execution", []),
        ("jupyter", []),
        ("jupyter", {"source_hidden": "nope"}),
        ("jupyter", {"outputs_hidden": True}),
        ("trusted", "yes"),
        ("format", 3),
        ("colab", {"base_uri": "x"}),
    ],
    "markdown metadata": [
        ("jupyter", 3),
        ("tags", ["a,b"]),
        ("scrolled", "yes"),
        ("collapsed", "no"),
        ("name", ""),
    ],
    "raw metadata": [("format", 3), ("format", "text/html"), ("name", ""), ("jupyter", "x")],
    "execute_result": [
        ("extra", 1),
        ("output_type", _ABSENT),
        ("output_type", "bogus"),
        ("output_type", "display_data"),
        ("output_type", ["execute_result"]),
        ("data", _ABSENT),
        ("data", {"image/png": 5}),
        ("data", {"application/json": 5}),
        ("data", {"application/vnd.x+json": [1]}),
        ("data", {"text/json": 5}),
        ("data", {"application/jsonx": 5}),
        ("data", {"application/json\n": 5}),
        ("data", {"text/plain": ["a", 1]}),
        ("data", []),
        ("metadata", []),
        ("metadata", {"isolated": True}),
        ("execution_count", -1),
        ("execution_count", True),
        ("execution_count", None),
        ("execution_count", _ABSENT),
        ("transient", {"display_id": "x"}),
    ],
    "display_data": [
        ("transient", {"display_id": "x"}),
        ("execution_count", 1),
        ("output_type", "execute_result"),
        ("metadata", _ABSENT),
        ("data", {"image/png": None}),
        ("data", {}),
    ],
    "stream": [
        ("name", 1),
        ("name", "custom"),
        ("text", [1]),
        ("text", "ok"),
        ("text", _ABSENT),
        ("data", {}),
    ],
    "error": [
        ("traceback", "tb"),
        ("traceback", [1]),
        ("traceback", {}),
        ("traceback", []),
        ("ename", None),
        ("evalue", 3),
        ("evalue", _ABSENT),
    ],
}


def change(target: Target, key: str, value: Any) -> Mutation:
    def mutate(notebook: Notebook) -> None:
        obj = target(notebook)
        if value is _ABSENT:
            del obj[key]
        else:
            obj[key] = copy.deepcopy(value)

    return mutate


def duplicate_first_id(notebook: Notebook) -> None:
    notebook["cells"][1]["id"] = notebook["cells"][0]["id"]


def targeted_mutations() -> Iterator[tuple[str, Mutation]]:
    for target_name, changes in CHANGES.items():
        for key, value in changes:
            shown = "deleted" if value is _ABSENT else repr(value)
            yield f"{target_name}[{key!r}] = {shown}", change(TARGETS[target_name], key, value)
    yield "duplicate cell id", duplicate_first_id


ODD_VALUES: tuple[Any, ...] = (
    True,
    False,
    0,
    -1,
    3,
    2.5,
    "",
    "a,b",
    "x" * 65,
    "yes",
    "bad id!",
    "line\n",
    None,
    [],
    ["t", "t"],
    ["a", 1],
    {},
    {"k": 1},
)


def containers(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The path of every object and array in a JSON value."""
    if isinstance(node, dict | list):
        yield path
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in items:
            yield from containers(value, (*path, key))


def random_mutation(notebook: Notebook, rng: random.Random) -> tuple[str, Notebook]:
    """Delete, add or replace one random entry of one random object or array."""
    mutant = copy.deepcopy(notebook)
    paths = list(containers(mutant))
    objects = [path for path in paths if isinstance(lookup(mutant, path), dict)]
    path = rng.choice(objects if rng.random() < 0.7 else paths)
    node = lookup(mutant, path)
    keys = list(node) if isinstance(node, dict) else list(range(len(node)))
    value = copy.deepcopy(rng.choice(ODD_VALUES))
    operation = rng.choice(["delete", "replace", "add"] if keys else ["add"])
    if operation == "add":
        key: Any = rng.choice(["extra", "id", "transient", "tags", "name"])
        if isinstance(node, list):
            key = len(node)
            node.append(copy.deepcopy(node[0]) if node and rng.random() < 0.5 else value)
        else:
            node[key] = value
    else:
        key = rng.choice(keys)
        if operation == "delete":
            del node[key]
        else:
            node[key] = value
    return f"{operation} {list((*path, key))} ({value!r})", mutant


def lookup(node: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        node = node[key]
    return node


def mutants() -> Iterator[tuple[str, Notebook]]:
    bases = corpus()
    for base_name, base in bases.items():
        for mutation_name, mutate in targeted_mutations():
            mutant = copy.deepcopy(base)
            try:
                mutate(mutant)
            except (LookupError, StopIteration):
                continue  # the notebook has no such cell or output
            yield f"{base_name}: {mutation_name}", mutant
    rng = random.Random(20240611)
    names = sorted(bases)
    for _ in range(400):
        base_name = rng.choice(names)
        description, mutant = random_mutation(bases[base_name], rng)
        if rng.random() < 0.3:
            second, mutant = random_mutation(mutant, rng)
            description += f" then {second}"
        yield f"{base_name}: {description}", mutant


# ---------------------------------------------------------------------- tests


@pytest.mark.parametrize("name", sorted(corpus()))
def test_valid_notebooks_take_the_fast_path(name: str) -> None:
    notebook = corpus()[name]

    assert nbformat_accepts(notebook)
    assert certainly_valid_v4(notebook)


def test_fast_path_never_vouches_for_a_notebook_nbformat_refuses() -> None:
    total = 0
    vouched: list[str] = []
    wrong: list[str] = []
    for description, mutant in mutants():
        total += 1
        if certainly_valid_v4(mutant):
            vouched.append(description)
            if not nbformat_accepts(mutant):
                wrong.append(description)

    assert wrong == []
    assert total > 1000
    assert 200 < len(vouched) < total / 2, "the mutants must exercise both answers"


@pytest.mark.parametrize(
    ("name", "mutate"),
    [
        ("v4.5 cell without an id", lambda nb: nb["cells"][0].pop("id")),
        ("duplicate cell ids", duplicate_first_id),
        ("minor version from the future", lambda nb: nb.update(nbformat_minor=6)),
        ("cell ids before v4.5", lambda nb: nb.update(nbformat_minor=4)),
        ("unknown cell type", lambda nb: nb["cells"][0].update(cell_type="heading")),
    ],
)
def test_fast_path_leaves_what_it_does_not_model_to_nbformat(name: str, mutate: Mutation) -> None:
    notebook = v45_notebook()
    mutate(notebook)

    assert not certainly_valid_v4(notebook)


def write_notebooks(folder: Path) -> list[Path]:
    folder.mkdir()
    written = []
    for name, build in HAND_BUILT.items():
        path = folder / f"{name}.ipynb"
        path.write_text(json.dumps(build(), indent=1), "utf-8")
        written.append(path)
    return [*SAMPLE_NOTEBOOKS, *written]


def test_fast_path_loads_exactly_what_nbformat_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = write_notebooks(tmp_path / "notebooks")
    fast = [load_submission(path) for path in paths]
    monkeypatch.setattr(loading, "certainly_valid_v4", lambda raw: False)
    slow = [load_submission(path) for path in paths]

    assert fast == slow
    assert all(loaded.chunks for loaded in fast)
    assert any(loaded.notes for loaded in fast), "a %%bash cell is skipped with a note"
    assert any("not Python" in problem for loaded in fast for problem in loaded.problems)


LOADER = """
import json, sys
from pathlib import Path
from grader.loading import load_submission

loaded = load_submission(Path(sys.argv[1]))
print(json.dumps({"nbformat imported": "nbformat" in sys.modules,
                  "chunks": len(loaded.chunks), "problems": list(loaded.problems)}))
"""


def load_in_fresh_process(path: Path) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, "-c", LOADER, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(completed.stdout)


def test_loading_a_valid_notebook_does_not_import_nbformat() -> None:
    result = load_in_fresh_process(ROOT / "submissions" / "correct_notebook.ipynb")

    assert result["nbformat imported"] is False
    assert result["chunks"] > 0
    assert result["problems"] == []


def test_an_invalid_but_readable_notebook_is_still_reported(tmp_path: Path) -> None:
    notebook = v45_notebook()
    notebook["cells"][2]["unexpected"] = True
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(notebook), "utf-8")

    result = load_in_fresh_process(path)

    assert result["nbformat imported"] is True
    assert result["chunks"] > 0
    assert len(result["problems"]) == 1
    assert "does not fully follow the Jupyter notebook format" in result["problems"][0]
    assert "'unexpected' was unexpected" in result["problems"][0]
