"""Loading submissions: .py files, notebooks, folders, IPython syntax and broken input."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

from grader import loading
from grader.loading import LoadedSource, SourceChunk, cell_to_python, load_submission


def assert_compiles(chunks: tuple[SourceChunk, ...]) -> None:
    for chunk in chunks:
        compile(chunk.code, chunk.filename, "exec", dont_inherit=True)


def write_notebook(path: Path, *cells: nbformat.NotebookNode, **metadata: object) -> Path:
    notebook = new_notebook(cells=list(cells), metadata=metadata)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, str(path))
    return path


def code_cells(tmp_path: Path, *sources: str) -> LoadedSource:
    path = write_notebook(tmp_path / "nb.ipynb", *(new_code_cell(s) for s in sources))
    return load_submission(path)


def convert(source: str) -> str:
    converted = cell_to_python(source)
    assert converted.skipped_magic is None
    assert converted.code.count("\n") == source.count("\n"), "line numbers must survive"
    compile(converted.code, "<cell>", "exec", dont_inherit=True)
    return converted.code


def names_defined(source: LoadedSource) -> set[str]:
    """Names a chunk would define, found by compiling (never running) every chunk."""
    names: set[str] = set()
    for chunk in source.chunks:
        names.update(compile(chunk.code, chunk.filename, "exec", dont_inherit=True).co_names)
    return names


# ---------------------------------------------------------------------------- .py


def test_valid_py_is_one_chunk_named_after_the_file(tmp_path: Path) -> None:
    text = "import numpy as np\n\n\ndef sigmoid(z):\n    return 1 / (1 + np.exp(-z))\n"
    (tmp_path / "solution.py").write_text(text)

    loaded = load_submission(tmp_path / "solution.py")

    assert loaded.kind == "py"
    assert loaded.problems == ()
    assert loaded.chunks == (
        SourceChunk(text, "solution.py", "<submission:solution.py>", first_line=1),
    )
    assert_compiles(loaded.chunks)


def test_compile_warnings_are_neither_errors_nor_printed(tmp_path: Path) -> None:
    text = 'x = 1\nif x is 1:\n    pattern = "\\d+"\n'
    (tmp_path / "solution.py").write_text(text)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = load_submission(tmp_path / "solution.py")

    assert [chunk.code for chunk in loaded.chunks] == [text]
    assert loaded.problems == ()


def test_py_exported_from_a_notebook_is_kept_verbatim(tmp_path: Path) -> None:
    text = (
        "#!/usr/bin/env python\n# coding: utf-8\n\n# In[3]:\n\n\n"
        "get_ipython().run_line_magic('matplotlib', 'inline')\nx = 10 % 3\n"
    )
    (tmp_path / "export.py").write_text(text)

    loaded = load_submission(tmp_path / "export.py")

    assert [chunk.code for chunk in loaded.chunks] == [text]
    assert loaded.problems == ()


def test_py_line_endings_and_bom_are_normalised(tmp_path: Path) -> None:
    (tmp_path / "solution.py").write_bytes(b"\xef\xbb\xbfx = 1\r\ny = 2\rz = 3\r\n")

    loaded = load_submission(tmp_path / "solution.py")

    assert loaded.chunks[0].code == "x = 1\ny = 2\nz = 3\n"
    assert loaded.problems == ()


def test_py_with_a_coding_cookie_is_decoded_like_python_does(tmp_path: Path) -> None:
    (tmp_path / "solution.py").write_bytes(b"# -*- coding: latin-1 -*-\nname = '\xe9t\xe9'\n")

    loaded = load_submission(tmp_path / "solution.py")

    assert "name = 'été'" in loaded.chunks[0].code
    assert loaded.problems == ()


def test_py_that_is_not_utf8_is_read_with_replacement_and_a_problem(tmp_path: Path) -> None:
    (tmp_path / "solution.py").write_bytes(b"x = 1\n# caf\xe9\ndef f():\n    return 2\n")

    loaded = load_submission(tmp_path / "solution.py")

    assert len(loaded.chunks) == 1
    assert "# caf\N{REPLACEMENT CHARACTER}\n" in loaded.chunks[0].code
    assert loaded.problems == (
        "solution.py is not valid UTF-8 text (first bad byte on line 2); unreadable "
        "characters were replaced by \N{REPLACEMENT CHARACTER}. Save the file as UTF-8.",
    )
    assert_compiles(loaded.chunks)


def test_py_saved_as_utf16_is_read_with_a_note(tmp_path: Path) -> None:
    (tmp_path / "solution.py").write_bytes("def f():\n    return 'é'\n".encode("utf-16"))

    loaded = load_submission(tmp_path / "solution.py")

    assert loaded.chunks[0].code == "def f():\n    return 'é'\n"
    assert loaded.problems == ()
    assert "UTF-16" in loaded.notes[0]


BROKEN_PY = """\
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def relu(z)
    return np.maximum(z, 0)


@np.vectorize
def relu_grad(z):
    \"\"\"Derivative of relu.
Written at column 0 on purpose.
    \"\"\"
    return 1.0 if z > 0 else 0.0

PARAMS = {
"W1": np.ones((2, 2)),
}
if PARAMS:
    y = 1
else:
    y = 2
try:
    z = 1
except ValueError:
    z = 2


def mse_loss(y_hat, y):
    return np.mean((y_hat - y) ** 2)
"""


def test_broken_py_still_grades_the_blocks_that_compile(tmp_path: Path) -> None:
    path = tmp_path / "solution.py"
    path.write_text(BROKEN_PY)

    loaded = load_submission(path)

    assert loaded.problems == (
        "solution.py line 8: SyntaxError: expected ':' (the rest of the file was still graded)",
    )
    assert {"sigmoid", "relu_grad", "PARAMS", "mse_loss", "y", "z"} <= names_defined(loaded)
    assert "relu" not in names_defined(loaded)
    assert all(chunk.label == "solution.py" for chunk in loaded.chunks)
    assert len({chunk.filename for chunk in loaded.chunks}) == len(loaded.chunks)
    assert_compiles(loaded.chunks)


def test_fallback_chunks_map_back_to_the_file_lines(tmp_path: Path) -> None:
    path = tmp_path / "solution.py"
    path.write_text(BROKEN_PY)
    file_lines = BROKEN_PY.split("\n")

    loaded = load_submission(path)

    assert [chunk.first_line for chunk in loaded.chunks] == [1, 12]
    for chunk in loaded.chunks:
        for offset, line in enumerate(chunk.code.rstrip("\n").split("\n")):
            assert file_lines[chunk.first_line - 1 + offset] == line
    decorated = loaded.chunks[1]
    assert decorated.code.startswith("@np.vectorize\ndef relu_grad(z):")
    assert decorated.filename == "<submission:solution.py from line 12>"


def test_each_broken_region_is_reported_with_its_file_line(tmp_path: Path) -> None:
    path = tmp_path / "solution.py"
    path.write_text(
        "def a():\n    return 1\n"
        "def b(:\n    pass\n"
        "def c():\n    return 3\n"
        "x = (1,\n"
        "def d():\n    return 4\n"
    )

    loaded = load_submission(path)

    assert loaded.problems == (
        "solution.py line 3: SyntaxError: invalid syntax (the rest of the file was still graded)",
        "solution.py line 7: SyntaxError: '(' was never closed "
        "(the rest of the file was still graded)",
    )
    assert {"a", "c", "d"} <= names_defined(loaded)
    assert_compiles(loaded.chunks)


def test_line_numbers_inside_error_messages_are_file_lines(tmp_path: Path) -> None:
    path = tmp_path / "solution.py"
    path.write_text("def a():\n    return 1\n\n\ndef b():\n\ndef c():\n    return 3\n")

    loaded = load_submission(path)

    assert loaded.problems == (
        "solution.py line 6: IndentationError: expected an indented block after function "
        "definition on line 5 (the rest of the file was still graded)",
    )


def test_file_that_only_fails_as_a_whole_is_still_reported(tmp_path: Path) -> None:
    path = tmp_path / "solution.py"
    path.write_text("x = 1\nfrom __future__ import annotations\ny = 2\n")

    loaded = load_submission(path)

    assert len(loaded.problems) == 1
    assert loaded.problems[0].startswith("solution.py line 2: SyntaxError: from __future__")
    assert {"x", "y"} <= names_defined(loaded)


def test_py_with_no_compiling_part_gives_no_chunks(tmp_path: Path) -> None:
    path = tmp_path / "solution.py"
    path.write_text("This is my homework, version 2.\n")

    loaded = load_submission(path)

    assert loaded.chunks == ()
    assert loaded.problems == (
        "solution.py line 1: SyntaxError: invalid syntax (nothing in this file could be run)",
    )


def test_py_with_null_bytes_is_a_problem_not_an_exception(tmp_path: Path) -> None:
    path = tmp_path / "solution.py"
    path.write_bytes(b"def f():\n    return 1\nx = '\x00'\n")

    loaded = load_submission(path)

    assert len(loaded.problems) == 1
    assert loaded.problems[0].startswith("solution.py")
    assert "f" in names_defined(loaded)


def test_many_broken_regions_are_summarised(tmp_path: Path) -> None:
    path = tmp_path / "solution.py"
    path.write_text("ok = 1\n" + "".join(f"bad {i}\nfine_{i} = {i}\n" for i in range(8)))

    loaded = load_submission(path)

    assert len(loaded.problems) == loading.MAX_PROBLEMS_PER_FILE + 1
    assert loaded.problems[-1] == "solution.py: 3 more places do not compile and were skipped."
    assert {f"fine_{i}" for i in range(8)} <= names_defined(loaded)


def test_large_broken_file_loads_quickly(tmp_path: Path) -> None:
    path = tmp_path / "solution.py"
    garbage = "garbage line here\n" * 15_000
    path.write_text("def f(:\n    pass\n" + garbage + "def g():\n  return 1\n")

    loaded = load_submission(path)

    assert "g" in names_defined(loaded)


def test_very_long_broken_file_is_not_salvaged(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(loading, "MAX_SALVAGE_LINES", 3)
    path = tmp_path / "solution.py"
    path.write_text("x = 1\ny = 2\nz = (\nw = 4\n")

    loaded = load_submission(path)

    assert loaded.chunks == ()
    assert loaded.problems == (
        "solution.py line 3: SyntaxError: '(' was never closed (the file is too long to look "
        "for the parts that still work, so none of it was run)",
    )


def test_empty_py_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "solution.py").write_text("\n\n")

    loaded = load_submission(tmp_path / "solution.py")

    assert loaded.chunks == ()
    assert loaded.problems == ("solution.py contains no code.",)


# ---------------------------------------------------------------------- notebooks


def test_notebook_cells_are_labelled_by_code_cell_number(tmp_path: Path) -> None:
    path = write_notebook(
        tmp_path / "homework.ipynb",
        new_markdown_cell("# Exercise 1"),
        new_code_cell("import numpy as np"),
        new_code_cell("   \n"),
        new_raw_cell("raw"),
        new_markdown_cell("text"),
        new_code_cell("def f(x):\n    return x\n\nprint(f(1))"),
    )

    loaded = load_submission(path)

    assert loaded.kind == "ipynb"
    assert loaded.problems == ()
    assert loaded.chunks == (
        SourceChunk("import numpy as np", "code cell 1", "<submission:homework.ipynb code cell 1>"),
        SourceChunk(
            "def f(x):\n    return x\n\nprint(f(1))",
            "code cell 3",
            "<submission:homework.ipynb code cell 3>",
        ),
    )
    assert_compiles(loaded.chunks)


def test_notebook_cells_keep_the_cells_own_line_numbers(tmp_path: Path) -> None:
    loaded = code_cells(tmp_path, "%matplotlib inline\n\nx = 1\ny = (x +\n")

    chunk = loaded.chunks[0]
    assert chunk.first_line == 1
    with pytest.raises(SyntaxError) as error:
        compile(chunk.code, chunk.filename, "exec", dont_inherit=True)
    assert error.value.lineno == 4
    assert error.value.filename == "<submission:nb.ipynb code cell 1>"


def test_cell_with_a_syntax_error_is_still_a_chunk_for_the_sandbox(tmp_path: Path) -> None:
    loaded = code_cells(tmp_path, "def f(:\n    pass", "def g():\n    return 1")

    assert [chunk.label for chunk in loaded.chunks] == ["code cell 1", "code cell 2"]
    assert loaded.problems == ()


def test_notebook_with_crlf_and_bom_is_read(tmp_path: Path) -> None:
    notebook = new_notebook(cells=[new_code_cell("x = 1\r\ny = 2")])
    data = b"\xef\xbb\xbf" + nbformat.writes(notebook).encode()
    (tmp_path / "nb.ipynb").write_bytes(data)

    loaded = load_submission(tmp_path / "nb.ipynb")

    assert loaded.chunks[0].code == "x = 1\ny = 2"
    assert loaded.problems == ()


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("%matplotlib inline\nimport numpy as np", "pass\nimport numpy as np"),
        ("%load_ext autoreload\n%autoreload 2\nx = 1", "pass\npass\nx = 1"),
        ("%time y = sum(range(3))", "y = sum(range(3))"),
        ("%timeit -n 10 -r 3 sorted([3, 1])", "sorted([3, 1])"),
        ("%timeit -n10 -o sorted([3, 1])", "sorted([3, 1])"),
        ("%time", "pass"),
        ("result = %time sorted([3, 1])", "result = sorted([3, 1])"),
        ("result = %timeit -o sorted([3, 1])", "result = None"),
        ("%%time\nx = 1\ny = x + 1", "\nx = 1\ny = x + 1"),
        ("%%timeit -n 3\nx = 1", "\nx = 1"),
        ("%%capture captured\nprint('hidden')", "\nprint('hidden')"),
        ("\n%%time\nx = 1", "\n\nx = 1"),
        ("!pip install numpy\nimport numpy", "pass\nimport numpy"),
        ("!!ls -la\nx = 1", "pass\nx = 1"),
        ("files = !ls *.csv\nn = len(files)", "files = []\nn = len(files)"),
        ("a, b = !echo 1", "a, b = []"),
        ("np = 1\nnp?", "np = 1\npass"),
        ("np = 1\nnp??  # show source", "np = 1\npass"),
        ("np = 1\n?np", "np = 1\npass"),
        ("np = 1\n??np", "np = 1\npass"),
        ("pip install numpy\nx = 1", "pass\nx = 1"),
        ("matplotlib inline\nx = 1", "pass\nx = 1"),
        ("%pinfo len\nx = 1", "pass\nx = 1"),
    ],
)
def test_ipython_syntax_becomes_python(source: str, expected: str) -> None:
    assert convert(source) == expected


def test_magics_inside_blocks_keep_the_block_valid() -> None:
    source = (
        "for i in range(2):\n"
        "    %time x = i * 2\n"
        "    !echo {i}\n"
        "def f():\n"
        "    %matplotlib inline\n"
        "    files = !ls\n"
        "    return files\n"
    )

    assert convert(source) == (
        "for i in range(2):\n"
        "    x = i * 2\n"
        "    pass\n"
        "def f():\n"
        "    pass\n"
        "    files = []\n"
        "    return files\n"
    )


def test_continued_shell_escape_is_removed_with_its_continuation_lines() -> None:
    source = "!pip install \\\n    numpy \\\n    scipy\nx = 1"

    assert convert(source) == "pass\npass\npass\nx = 1"


def test_continued_time_magic_keeps_its_statement() -> None:
    assert convert("%time y = 1 + \\\n    2") == "y = 1 + \\\n    2"


def test_leading_indent_of_a_cell_is_removed_like_ipython_does() -> None:
    assert convert("    x = 1\n    if x:\n        y = 2") == "x = 1\nif x:\n    y = 2"


def test_strings_modulo_and_comparisons_are_untouched() -> None:
    source = (
        "%matplotlib inline\n"
        'template = """\n'
        "%d items\n"
        "!important\n"
        "  %(name)s ?\n"
        '"""\n'
        "text = ('%s'\n"
        "        % 'x')\n"
        "values = [\n"
        "    7 % 3,\n"
        "    !True if False else 1,\n"
        "] if False else [1]\n"
        "r = 10 % 4\n"
        "same = r != 2\n"
        "message = 'is it %d?' % r\n"
        "shout = \"!\" + 'hi?'\n"
        "flag = not (1 != 2)  # really?\n"
    )

    code = cell_to_python(source).code

    assert code.split("\n")[0] == "pass"
    assert code.split("\n")[1:] == source.split("\n")[1:]


def test_cell_that_compiles_is_returned_unchanged() -> None:
    source = "x = 5\ny = x % 2  # 50% of the time?\nz = x != y\nprint('!ls')"

    assert cell_to_python(source).code == source


def test_lines_inside_open_brackets_are_not_rewritten() -> None:
    source = "%matplotlib inline\nt = (1,\n%notmagic\n)"

    assert cell_to_python(source).code == "pass\nt = (1,\n%notmagic\n)"


@pytest.mark.parametrize(
    "source",
    [
        "%%bash\necho hi",
        "%%writefile helpers.py\ndef f():\n    return 1",
        "%%html\n<b>bold</b>",
        "%%javascript\nalert(1)",
    ],
)
def test_other_cell_magics_skip_the_cell(tmp_path: Path, source: str) -> None:
    magic = source.split()[0].lstrip("%")

    loaded = code_cells(tmp_path, "x = 1", source, "y = 2")

    assert [chunk.label for chunk in loaded.chunks] == ["code cell 1", "code cell 3"]
    assert loaded.notes == (f"nb.ipynb code cell 2: skipped, a %%{magic} cell is not Python.",)
    assert loaded.problems == ()


def test_notebook_full_of_magics_compiles(tmp_path: Path) -> None:
    loaded = code_cells(
        tmp_path,
        "%matplotlib inline\n%load_ext autoreload\n%autoreload 2",
        "!pip install numpy\nimport numpy as np",
        "%%time\nw = np.zeros((1, 3))",
        "def forward(X, w):\n    return w @ X\n\nforward?\n%timeit forward(np.ones((3, 2)), w)",
    )

    assert [chunk.label for chunk in loaded.chunks] == [f"code cell {n}" for n in range(1, 5)]
    assert loaded.problems == ()
    assert_compiles(loaded.chunks)


# ------------------------------------------------------------- corrupt notebooks


def write_text_notebook(tmp_path: Path, content: str | dict | list) -> LoadedSource:
    path = tmp_path / "notebook.ipynb"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return load_submission(path)


def valid_v4_dict(*sources: str) -> dict:
    notebook = new_notebook(cells=[new_code_cell(source) for source in sources])
    return json.loads(nbformat.writes(notebook))


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ('{"cells": [', "the file is not valid JSON (line 1, column 12: Expecting value)."),
        ("", "the file is empty."),
        ([1, 2, 3], 'the file is JSON but not a notebook (no "nbformat" field).'),
        ({"name": "not a notebook"}, 'the file is JSON but not a notebook (no "nbformat" field).'),
        ({"nbformat": "4", "cells": []}, 'it has no valid "nbformat" version number.'),
        ({"nbformat": 5, "cells": []}, "it uses notebook format version 5, which is unknown."),
        ({"nbformat": 4, "nbformat_minor": 5}, "missing an expected key"),
        ({"nbformat": 2, "nbformat_minor": 0}, "missing an expected key"),
    ],
)
def test_corrupt_notebook_gives_no_chunks_and_a_clear_problem(
    tmp_path: Path, content: str | dict | list, reason: str
) -> None:
    loaded = write_text_notebook(tmp_path, content)

    assert loaded.kind == "ipynb"
    assert loaded.chunks == ()
    assert len(loaded.problems) == 1
    assert loaded.problems[0].startswith("notebook.ipynb is not a valid Jupyter notebook: ")
    assert reason in loaded.problems[0]


def test_truncated_notebook_problem_tells_the_student_what_to_do(tmp_path: Path) -> None:
    text = nbformat.writes(new_notebook(cells=[new_code_cell("x = 1")]))

    loaded = write_text_notebook(tmp_path, text[: len(text) // 2])

    assert loaded.chunks == ()
    assert "open it in Jupyter and save it again" in loaded.problems[0]


def test_v3_notebook_is_converted(tmp_path: Path) -> None:
    v3 = {
        "nbformat": 3,
        "nbformat_minor": 0,
        "metadata": {"name": "old"},
        "worksheets": [
            {
                "cells": [
                    {"cell_type": "markdown", "source": "# title", "metadata": {}},
                    {
                        "cell_type": "code",
                        "input": "x = 1",
                        "language": "python",
                        "outputs": [],
                        "metadata": {},
                    },
                    {
                        "cell_type": "code",
                        "input": ["%matplotlib inline\n", "y = x + 1"],
                        "language": "python",
                        "outputs": [],
                        "metadata": {},
                    },
                ]
            }
        ],
    }

    loaded = write_text_notebook(tmp_path, v3)

    assert [(c.label, c.code) for c in loaded.chunks] == [
        ("code cell 1", "x = 1"),
        ("code cell 2", "pass\ny = x + 1"),
    ]
    assert loaded.problems == ()


def test_notebook_missing_fields_is_still_graded_with_a_problem(tmp_path: Path) -> None:
    content = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "cells": [
            {"cell_type": "code", "source": ["def f(x):\n", "    return x\n"]},
            {"cell_type": "markdown", "source": "text"},
            {"cell_type": "code", "source": "y = f(2)"},
        ],
    }

    loaded = write_text_notebook(tmp_path, content)

    assert [(c.label, c.code) for c in loaded.chunks] == [
        ("code cell 1", "def f(x):\n    return x\n"),
        ("code cell 2", "y = f(2)"),
    ]
    assert loaded.problems == (
        "notebook.ipynb does not fully follow the Jupyter notebook format (The notebook is "
        "invalid and is missing an expected key: metadata); its code cells were still graded.",
    )
    assert_compiles(loaded.chunks)


def test_notebook_failing_schema_validation_is_still_graded(tmp_path: Path) -> None:
    content = valid_v4_dict("x = 1")
    content["cells"][0]["unexpected"] = True

    loaded = write_text_notebook(tmp_path, content)

    assert [chunk.code for chunk in loaded.chunks] == ["x = 1"]
    assert len(loaded.problems) == 1
    assert "'unexpected' was unexpected" in loaded.problems[0]
    assert loaded.problems[0].endswith("its code cells were still graded.")


def test_notebook_cell_with_non_text_source_is_skipped(tmp_path: Path) -> None:
    content = valid_v4_dict("x = 1", "y = 2")
    content["cells"][0]["source"] = 42

    loaded = write_text_notebook(tmp_path, content)

    assert [(c.label, c.code) for c in loaded.chunks] == [("code cell 2", "y = 2")]
    assert len(loaded.problems) == 1


def test_notebook_without_code_cells_is_a_problem(tmp_path: Path) -> None:
    path = write_notebook(tmp_path / "nb.ipynb", new_markdown_cell("only words"))

    loaded = load_submission(path)

    assert loaded.chunks == ()
    assert loaded.problems == ("nb.ipynb contains no code.",)


def test_notebook_that_is_not_utf8_is_read_with_a_problem(tmp_path: Path) -> None:
    text = nbformat.writes(new_notebook(cells=[new_code_cell("name = 'CAFE'")]))
    (tmp_path / "nb.ipynb").write_bytes(text.replace("CAFE", "caf\xe9").encode("latin-1"))

    loaded = load_submission(tmp_path / "nb.ipynb")

    assert loaded.chunks[0].code == "name = 'caf\N{REPLACEMENT CHARACTER}'"
    assert loaded.problems[0].startswith("nb.ipynb is not valid UTF-8 text")


def test_notebook_in_another_language_is_flagged(tmp_path: Path) -> None:
    path = write_notebook(
        tmp_path / "nb.ipynb",
        new_code_cell("x <- 1"),
        kernelspec={"name": "ir", "display_name": "R", "language": "R"},
    )

    loaded = load_submission(path)

    assert loaded.problems == (
        "nb.ipynb is written in R, not Python; only Python code can be graded.",
    )


# -------------------------------------------------------------------------- folders


def make_file(path: Path, text: str = "x = 1\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_folder_loads_code_files_in_relative_path_order(tmp_path: Path) -> None:
    folder = tmp_path / "alice"
    make_file(folder / "z_main.py", "from_main = 1\n")
    make_file(folder / "a_helpers.py", "def helper():\n    return 1\n")
    make_file(folder / "part2" / "layers.py", "def layer():\n    return 2\n")
    write_notebook(folder / "part2.ipynb", new_code_cell("a = 1"), new_code_cell("b = 2"))

    loaded = load_submission(folder)

    assert loaded.kind == "folder"
    assert loaded.problems == ()
    assert [(chunk.label, chunk.filename) for chunk in loaded.chunks] == [
        ("a_helpers.py", "<submission:a_helpers.py>"),
        ("part2/layers.py", "<submission:part2/layers.py>"),
        ("part2.ipynb code cell 1", "<submission:part2.ipynb code cell 1>"),
        ("part2.ipynb code cell 2", "<submission:part2.ipynb code cell 2>"),
        ("z_main.py", "<submission:z_main.py>"),
    ]
    assert_compiles(loaded.chunks)


def test_folder_skips_hidden_caches_environments_and_other_files(tmp_path: Path) -> None:
    folder = tmp_path / "sub"
    make_file(folder / "solution.py")
    make_file(folder / ".hidden.py")
    make_file(folder / ".git" / "hook.py")
    make_file(folder / "__pycache__" / "solution.py")
    write_notebook(folder / ".ipynb_checkpoints" / "nb-checkpoint.ipynb", new_code_cell("x"))
    make_file(folder / "venv" / "pyvenv.cfg", "home = /usr/bin\n")
    make_file(folder / "venv" / "lib" / "site.py")
    make_file(folder / "lib" / "site-packages" / "numpy.py")
    make_file(folder / "node_modules" / "x.py")
    make_file(folder / "data.csv", "1,2\n")
    make_file(folder / "README.md", "# notes\n")

    loaded = load_submission(folder)

    assert [chunk.label for chunk in loaded.chunks] == ["solution.py"]
    assert loaded.problems == ()
    assert loaded.notes == ("Skipped venv/ (a Python virtual environment, not your code).",)


def test_folder_skips_symbolic_links(tmp_path: Path) -> None:
    secret = make_file(tmp_path / "secret.py", "password = 'x'\n")
    folder = tmp_path / "sub"
    make_file(folder / "solution.py")
    os.symlink(secret, folder / "link.py")
    os.symlink(tmp_path, folder / "loop")

    loaded = load_submission(folder)

    assert [chunk.label for chunk in loaded.chunks] == ["solution.py"]
    assert loaded.problems == (
        "link.py is a symbolic link and was not loaded; submit the file itself.",
    )


def test_folder_skips_entries_that_are_not_regular_files(tmp_path: Path) -> None:
    folder = tmp_path / "sub"
    make_file(folder / "solution.py")
    os.mkfifo(folder / "pipe.py")

    loaded = load_submission(folder)

    assert [chunk.label for chunk in loaded.chunks] == ["solution.py"]
    assert loaded.problems == ("pipe.py is not a regular file and was not loaded.",)


def test_folder_skips_files_over_the_size_cap(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(loading, "MAX_FILE_BYTES", 1_000_000)
    folder = tmp_path / "sub"
    make_file(folder / "big.py", "x = 1\n" * 400_000)
    make_file(folder / "small.py")

    loaded = load_submission(folder)

    assert [chunk.label for chunk in loaded.chunks] == ["small.py"]
    assert loaded.problems == ("big.py is larger than 1 MB (2.4 MB) and was not loaded.",)


def test_folder_total_size_is_capped(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(loading, "MAX_FOLDER_BYTES", 100)
    for name in ("a.py", "b.py", "c.py", "d.py"):
        make_file(tmp_path / "sub" / name, "x = 1\n" * 7)

    loaded = load_submission(tmp_path / "sub")

    assert [chunk.label for chunk in loaded.chunks] == ["a.py", "b.py"]
    assert loaded.problems == (
        "The folder sub holds more than 0 MB of code; 2 files were not loaded: c.py, d.py.",
    )


def test_folder_file_count_is_capped(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(loading, "MAX_FOLDER_FILES", 2)
    for name in ("c.py", "a.py", "b.py"):
        make_file(tmp_path / "sub" / name)

    loaded = load_submission(tmp_path / "sub")

    assert [chunk.label for chunk in loaded.chunks] == ["a.py", "b.py"]
    assert loaded.problems == (
        "The folder sub holds 3 code files; only the first 2 (in name order) were loaded.",
    )


def test_folder_collects_problems_of_every_file(tmp_path: Path) -> None:
    folder = tmp_path / "sub"
    make_file(folder / "a.py", "def f(:\n    pass\ndef g():\n    return 1\n")
    make_file(folder / "b.ipynb", "{broken")
    make_file(folder / "c.py", "def h():\n    return 3\n")

    loaded = load_submission(folder)

    assert [chunk.label for chunk in loaded.chunks] == ["a.py", "c.py"]
    assert loaded.problems[0] == (
        "a.py line 1: SyntaxError: invalid syntax (the rest of the file was still graded)"
    )
    assert loaded.problems[1].startswith("b.ipynb is not a valid Jupyter notebook")


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        ({}, "The folder sub contains no .py or .ipynb file."),
        ({"notes.txt": "hello"}, "The folder sub contains no .py or .ipynb file."),
        ({"__init__.py": ""}, "No code was found in the folder sub."),
    ],
)
def test_folder_without_code_is_a_problem(
    tmp_path: Path, files: dict[str, str], problem: str
) -> None:
    (tmp_path / "sub").mkdir()
    for name, text in files.items():
        make_file(tmp_path / "sub" / name, text)

    loaded = load_submission(tmp_path / "sub")

    assert loaded.kind == "folder"
    assert loaded.chunks == ()
    assert loaded.problems == (problem,)


# ----------------------------------------------------------------------- bad paths


def test_nonexistent_path_is_a_problem(tmp_path: Path) -> None:
    loaded = load_submission(tmp_path / "missing.py")

    assert loaded.chunks == ()
    assert loaded.problems == (f"{tmp_path / 'missing.py'} does not exist.",)


def test_unsupported_extension_is_a_problem(tmp_path: Path) -> None:
    make_file(tmp_path / "solution.txt", "def f(): pass\n")

    loaded = load_submission(tmp_path / "solution.txt")

    assert loaded.kind == "unknown"
    assert loaded.chunks == ()
    assert loaded.problems == (
        "solution.txt is not a .py file, a .ipynb notebook or a folder, so it cannot be graded.",
    )


def test_single_file_over_the_size_cap_is_a_problem(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(loading, "MAX_FILE_BYTES", 1_000_000)
    make_file(tmp_path / "solution.py", "#" * 1_500_000)

    loaded = load_submission(tmp_path / "solution.py")

    assert loaded.chunks == ()
    assert loaded.problems == ("solution.py is larger than 1 MB (1.5 MB) and was not loaded.",)


def test_string_paths_are_accepted_and_loading_is_deterministic(tmp_path: Path) -> None:
    write_notebook(tmp_path / "nb.ipynb", new_code_cell("%matplotlib inline\nx = 1"))

    first = load_submission(str(tmp_path))  # type: ignore[arg-type]
    second = load_submission(tmp_path)

    assert first == second
    assert first.path == tmp_path
