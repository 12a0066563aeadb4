"""Turn a submission on disk (.py, .ipynb or a folder) into source chunks the sandbox runs.

Loading is text processing only: nothing here executes student code. `compile()` is used
to check syntax, never `exec`.

Decisions a reader needs to know:

- Notebook cells are labelled "code cell N", N counting *code* cells from 1 in notebook
  order, empty ones included. Jupyter shows no cell numbers and execution counts
  (`In [7]`) depend on the order cells were run, so counting code cells is what a student
  can reproduce by looking at the notebook.
- IPython syntax is rewritten by our own line-based transform, not by IPython's, even
  when IPython is importable: the grader must turn the same input into the same chunks
  on every install. The transform only rewrites lines that cannot be valid Python
  (they start a statement with `%`, `!` or `?`, end in `?`, or assign from `%`/`!`),
  it keeps the number of lines so line numbers still match the cell, and it is applied
  only to cells that do not compile as they are.
- A .py file is plain Python: no IPython rewriting. When it does not compile, it is split
  into top-level blocks; blocks that compile still run, and each broken region becomes
  a problem message (the sandbox never sees it, so it is reported once).
- Every chunk filename is unique within a submission, e.g. "<submission:nb.ipynb code
  cell 3>", so tracebacks and line caches can tell chunks apart.
"""

from __future__ import annotations

import codecs
import io
import json
import os
import re
import tokenize
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from grader.notebook_format import certainly_valid_v4

MAX_FILE_BYTES = 2_000_000
"""Files larger than this are not loaded (a student's solution is a few kB)."""

MAX_FOLDER_FILES = 200
"""At most this many code files are loaded from a folder, in sorted order."""

MAX_FOLDER_BYTES = 10_000_000
"""Code files of a folder are loaded until their total size would pass this."""

MAX_PROBLEMS_PER_FILE = 5
"""Broken regions reported one by one per .py file; further ones are summarised."""

MAX_SALVAGE_LINES = 20_000
"""A broken .py file longer than this is not searched for parts that still compile.

Loading runs in the grader's own process, outside the sandbox's time limits, so the
work spent on one file must stay bounded (compiling a 2 MB file takes about a second).
"""

_MERGE_SPAN_LINES = 500
_MERGE_BUDGET_LINES = 50_000

_SKIPPED_DIR_NAMES = frozenset({"__pycache__", "site-packages", "node_modules"})
_CELL_MAGICS_KEEPING_BODY = frozenset({"time", "timeit", "capture"})
_LINE_MAGICS_KEEPING_STATEMENT = frozenset({"time", "timeit"})
_AUTOMAGICS = frozenset(
    {"pip", "conda", "matplotlib", "load_ext", "reload_ext", "autoreload", "aimport", "cd"}
)
_CODE_SUFFIXES = {".py": "py", ".ipynb": "ipynb"}


@dataclass(frozen=True)
class SourceChunk:
    """One unit of student code, compiled and run on its own, in order, in one namespace.

    `label` is what a student recognises ("code cell 3", "solution.py"); `filename` is what
    the code is compiled under so tracebacks and syntax errors can be mapped back.
    """

    code: str
    label: str
    filename: str
    first_line: int = 1


@dataclass(frozen=True)
class LoadedSource:
    path: Path
    kind: str  # "py", "ipynb" or "folder"; "unknown" when the path is missing or unsupported
    chunks: tuple[SourceChunk, ...]
    problems: tuple[str, ...] = ()  # load-time problems, in words a student understands
    notes: tuple[str, ...] = ()  # harmless facts worth showing (a skipped %%bash cell...)


def load_submission(path: Path) -> LoadedSource:
    """Load a .py file, a notebook or a folder of them. Never raises for bad input."""
    path = Path(path)
    out = _Collector()
    kind = _CODE_SUFFIXES.get(path.suffix.lower(), "unknown")
    try:
        if path.is_dir():
            kind = "folder"
            _load_folder(path, out)
        elif not path.exists():
            out.problems.append(f"{path} does not exist.")
        elif kind == "unknown":
            out.problems.append(
                f"{path.name} is not a .py file, a .ipynb notebook or a folder, "
                "so it cannot be graded."
            )
        else:
            _load_file(path, path.name, out)
            if not out.chunks and not out.problems:
                out.problems.append(f"{path.name} contains no code.")
    except OSError as exc:
        out.problems.append(f"{path} could not be read: {exc.strerror or exc}.")
    return LoadedSource(
        path=path,
        kind=kind,
        chunks=tuple(out.chunks),
        problems=tuple(out.problems),
        notes=tuple(out.notes),
    )


@dataclass
class _Collector:
    chunks: list[SourceChunk] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _chunk(code: str, label: str, filename_tag: str, first_line: int = 1) -> SourceChunk:
    return SourceChunk(
        code=code, label=label, filename=f"<submission:{filename_tag}>", first_line=first_line
    )


# --------------------------------------------------------------------------- files


def _load_file(path: Path, where: str, out: _Collector, in_folder: bool = False) -> None:
    """Load one .py or .ipynb file; `where` names it in labels and messages."""
    if not path.is_file():
        out.problems.append(f"{where} is not a regular file and was not loaded.")
        return
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        out.problems.append(
            f"{where} is larger than {MAX_FILE_BYTES // 1_000_000} MB "
            f"({size / 1_000_000:.1f} MB) and was not loaded."
        )
        return
    with path.open("rb") as file:
        data = file.read(MAX_FILE_BYTES + 1)  # the file may have grown since stat()
    if path.suffix.lower() == ".ipynb":
        cell_prefix = f"{where} " if in_folder else ""
        _load_notebook(_decode_notebook(data, where, out), where, cell_prefix, out)
    else:
        _load_python(_decode_python(data, where, out), where, out)


def _load_folder(folder: Path, out: _Collector) -> None:
    files = _code_files(folder, out)
    if not files:
        out.problems.append(f"The folder {folder.name} contains no .py or .ipynb file.")
        return
    if len(files) > MAX_FOLDER_FILES:
        out.problems.append(
            f"The folder {folder.name} holds {len(files)} code files; only the first "
            f"{MAX_FOLDER_FILES} (in name order) were loaded."
        )
        files = files[:MAX_FOLDER_FILES]
    total = 0
    too_much: list[str] = []
    for file in files:
        where = file.relative_to(folder).as_posix()
        try:
            size = file.stat().st_size
            if size <= MAX_FILE_BYTES and total + size > MAX_FOLDER_BYTES:
                too_much.append(where)
                continue
            total += min(size, MAX_FILE_BYTES)
            _load_file(file, where, out, in_folder=True)
        except OSError as exc:
            out.problems.append(f"{where} could not be read: {exc.strerror or exc}.")
    if too_much:
        shown = ", ".join(too_much[:5]) + (", ..." if len(too_much) > 5 else "")
        out.problems.append(
            f"The folder {folder.name} holds more than {MAX_FOLDER_BYTES // 1_000_000} MB "
            f"of code; {len(too_much)} files were not loaded: {shown}."
        )
    if not out.chunks:
        out.problems.append(f"No code was found in the folder {folder.name}.")


def _code_files(folder: Path, out: _Collector) -> list[Path]:
    """Every .py/.ipynb file under `folder`, sorted by relative path.

    Hidden entries, caches, virtual environments and symbolic links are skipped: a
    submission folder often carries a `venv/` or `.ipynb_checkpoints/` that is not the
    student's work, and a link could point at any file of the grading machine.
    """
    found: list[Path] = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        root_path = Path(root)
        kept_dirs = []
        for name in dirs:
            sub = root_path / name
            if name.startswith(".") or name in _SKIPPED_DIR_NAMES or sub.is_symlink():
                continue
            if (sub / "pyvenv.cfg").exists():
                out.notes.append(
                    f"Skipped {sub.relative_to(folder).as_posix()}/ (a Python virtual "
                    "environment, not your code)."
                )
                continue
            kept_dirs.append(name)
        dirs[:] = kept_dirs
        for name in files:
            file = root_path / name
            if name.startswith(".") or file.suffix.lower() not in _CODE_SUFFIXES:
                continue
            if file.is_symlink():
                out.problems.append(
                    f"{file.relative_to(folder).as_posix()} is a symbolic link and was "
                    "not loaded; submit the file itself."
                )
                continue
            found.append(file)
    return sorted(found, key=lambda p: p.relative_to(folder).parts)


# ------------------------------------------------------------------------ decoding


def _normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _first_bad_line(data: bytes, error: UnicodeDecodeError) -> int:
    return data[: error.start].count(b"\n") + 1


def _decode_python(data: bytes, where: str, out: _Collector) -> str:
    """Decode like Python does (BOM, `# coding:` cookie, else UTF-8), never failing."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            pass
        else:
            out.notes.append(
                f"{where} is saved as UTF-16; it was read anyway, but Python expects UTF-8."
            )
            return _normalize_newlines(text)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError:
        encoding = "utf-8"
    try:
        return _normalize_newlines(data.decode(encoding))
    except (UnicodeDecodeError, LookupError):
        pass
    return _decode_utf8_replacing(data, where, out)


def _decode_notebook(data: bytes, where: str, out: _Collector) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return _decode_utf8_replacing(data, where, out)


def _decode_utf8_replacing(data: bytes, where: str, out: _Collector) -> str:
    body = data.removeprefix(codecs.BOM_UTF8)
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        out.problems.append(
            f"{where} is not valid UTF-8 text (first bad byte on line "
            f"{_first_bad_line(body, exc)}); unreadable characters were replaced by "
            "\N{REPLACEMENT CHARACTER}. Save the file as UTF-8."
        )
    return _normalize_newlines(body.decode("utf-8", errors="replace"))


# --------------------------------------------------------------------- compiling


def _compile_error(code: str) -> Exception | None:
    """The error `compile()` raises for `code`, or None when it compiles. Never runs it.

    Warnings (`x is 1`, `"\\d"`) are silenced: they are not errors, and under a
    warnings-as-errors filter they would be raised as SyntaxError.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(code, "<check>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, OverflowError, RecursionError, MemoryError) as exc:
        return exc
    return None


def _describe_error(where: str, exc: Exception, first_line: int) -> str:
    if isinstance(exc, SyntaxError):
        location = f" line {first_line + exc.lineno - 1}" if exc.lineno else ""
        return f"{where}{location}: {type(exc).__name__}: {exc.msg}"
    return f"{where}: {type(exc).__name__}: {exc}"


# ------------------------------------------------------------------------ python


def _load_python(text: str, where: str, out: _Collector) -> None:
    if not text.strip():
        return
    error = _compile_error(text)
    if error is None:
        out.chunks.append(_chunk(text, where, where))
    else:
        _load_python_by_blocks(text, error, where, out)


def _load_python_by_blocks(text: str, error: Exception, where: str, out: _Collector) -> None:
    """Keep the parts of a broken file that compile, so their functions are still graded.

    `error` is the whole file's compile error, reported when every block compiles on its
    own yet the file does not (a misplaced `from __future__ import`, say).
    """
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    if len(lines) > MAX_SALVAGE_LINES:
        out.problems.append(
            f"{_describe_error(where, error, 1)} (the file is too long to look for the "
            "parts that still work, so none of it was run)"
        )
        return
    good, bad = _partition_blocks(lines, _top_level_blocks(lines))
    for start, end in good:
        code = _source(lines, start, end)
        out.chunks.append(_chunk(code, where, f"{where} from line {start + 1}", start + 1))
    suffix = (
        "(the rest of the file was still graded)" if good else "(nothing in this file could be run)"
    )
    if not bad:
        out.problems.append(f"{_describe_error(where, error, 1)} {suffix}")
    for start, end in bad[:MAX_PROBLEMS_PER_FILE]:
        # Padding keeps line numbers absolute, also those inside messages ("on line 3").
        region_error = _compile_error("\n" * start + _source(lines, start, end)) or error
        out.problems.append(f"{_describe_error(where, region_error, 1)} {suffix}")
    if len(bad) > MAX_PROBLEMS_PER_FILE:
        out.problems.append(
            f"{where}: {len(bad) - MAX_PROBLEMS_PER_FILE} more places do not compile "
            "and were skipped."
        )


_CONTINUATION_KEYWORD = re.compile(r"(else|elif|except|finally)\b")


def _top_level_blocks(lines: list[str]) -> list[tuple[int, int]]:
    """Split lines into [start, end) ranges, each starting at a top-level statement.

    Deliberately text-based (no tokenizer): in a broken file an unclosed bracket or
    string would otherwise swallow everything after it. Wrong splits inside multi-line
    strings or brackets are healed by `_partition_blocks`, which merges neighbours.
    """
    starts = [0]
    previous_code = ""
    for number, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        starts_block = (
            number > 0
            and line[0] not in " \t)]}"
            and not _CONTINUATION_KEYWORD.match(line)
            and not previous_code.startswith("@")
            and not previous_code.endswith("\\")
        )
        if starts_block:
            starts.append(number)
        previous_code = line.rstrip()
    return list(zip(starts, [*starts[1:], len(lines)], strict=True))


def _partition_blocks(
    lines: list[str], blocks: list[tuple[int, int]]
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Group blocks into line ranges that compile (`good`) and ranges that do not (`bad`).

    A block that does not compile alone is merged with the following blocks until the
    union compiles (a bracket or string closed further down), within a budget so a
    large broken file stays fast. Contiguous ranges of the same kind are joined.
    """
    good: list[list[tuple[int, int]]] = []  # runs of contiguous compiling groups
    bad: list[tuple[int, int]] = []
    budget = _Budget(_MERGE_BUDGET_LINES)
    index = 0
    while index < len(blocks):
        start, end = blocks[index]
        next_index = _compiling_extent(lines, blocks, index, budget)
        if next_index is None:
            if bad and bad[-1][1] == start:
                bad[-1] = (bad[-1][0], end)
            else:
                bad.append((start, end))
            index += 1
        else:
            group = (start, blocks[next_index - 1][1])
            if good and good[-1][-1][1] == start:
                good[-1].append(group)
            else:
                good.append([group])
            index = next_index
    return [part for run in good for part in _joined_if_compiling(lines, run)], bad


def _joined_if_compiling(lines: list[str], run: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """One range for a run of groups when it compiles as a whole, else the groups."""
    joined = (run[0][0], run[-1][1])
    if len(run) == 1 or _compile_error(_source(lines, *joined)) is None:
        return [joined]
    return run


@dataclass
class _Budget:
    lines: int


def _source(lines: list[str], start: int, end: int) -> str:
    return "\n".join(lines[start:end]) + "\n"


def _compiling_extent(
    lines: list[str], blocks: list[tuple[int, int]], index: int, budget: _Budget
) -> int | None:
    """The smallest `j` such that blocks[index:j] compile together, or None."""
    start = blocks[index][0]
    for j in range(index + 1, len(blocks) + 1):
        end = blocks[j - 1][1]
        if j > index + 1:
            budget.lines -= end - start
            if end - start > _MERGE_SPAN_LINES or budget.lines < 0:
                return None
        if _compile_error(_source(lines, start, end)) is None:
            return j
    return None


# ---------------------------------------------------------------------- notebooks


class _NotebookError(Exception):
    """The file cannot be read as a notebook; the message completes 'is not a valid ...'."""


def _load_notebook(text: str, where: str, cell_prefix: str, out: _Collector) -> None:
    """Add the notebook's code cells, labelled `{cell_prefix}code cell N`."""
    try:
        cells, issue = _notebook_cells(text)
    except _NotebookError as exc:
        out.problems.append(f"{where} is not a valid Jupyter notebook: {exc}")
        return
    if issue:
        out.problems.append(
            f"{where} does not fully follow the Jupyter notebook format ({issue}); "
            "its code cells were still graded."
        )
    language = _notebook_language(cells.metadata)
    if language and not language.lower().startswith("python"):
        out.problems.append(
            f"{where} is written in {language}, not Python; only Python code can be graded."
        )
    _add_code_cells(cells.sources, where, cell_prefix, out)


class _Cells(NamedTuple):
    sources: list[str]
    metadata: dict[str, Any]


def _notebook_cells(text: str) -> tuple[_Cells, str | None]:
    """The code cell sources and notebook metadata, plus a validation issue if any.

    A notebook that fails schema validation but whose cells are readable is still
    loaded: Jupyter opens such files too, and a zero for a cosmetic defect would be
    harsh. A file whose cells cannot be found is rejected with `_NotebookError`.

    A notebook `certainly_valid_v4` vouches for is read straight from its JSON, which
    gives the same sources as nbformat's reader, without the cost of importing nbformat.
    """
    raw = _parse_json(text)
    major = raw.get("nbformat")
    if not isinstance(major, int) or isinstance(major, bool):
        raise _NotebookError('it has no valid "nbformat" version number.')
    if major > 4:
        raise _NotebookError(f"it uses notebook format version {major}, which is unknown.")
    if certainly_valid_v4(raw):
        return _Cells(_code_sources(raw["cells"]), _as_dict(raw["metadata"])), None

    import nbformat  # deferred: only notebooks the fast path cannot vouch for need it

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            notebook = nbformat.convert(nbformat.reader.reads(text), 4)
        except Exception as exc:  # nbformat raises many types on malformed input
            return _salvage_v4_cells(raw, major, exc), _short(exc)
        try:
            nbformat.validate(notebook)
        except Exception as exc:
            issue: str | None = _short(exc)
        else:
            issue = None
    return _Cells(_code_sources(notebook.get("cells")), _as_dict(notebook.get("metadata"))), issue


def _parse_json(text: str) -> dict[str, Any]:
    if not text.strip():
        raise _NotebookError("the file is empty.")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _NotebookError(
            f"the file is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}). "
            "It may have been cut off or edited by hand; open it in Jupyter and save it again."
        ) from None
    except RecursionError:
        raise _NotebookError("the file is not valid JSON (nested too deeply).") from None
    if not isinstance(raw, dict) or "nbformat" not in raw:
        raise _NotebookError('the file is JSON but not a notebook (no "nbformat" field).')
    return raw


def _salvage_v4_cells(raw: dict[str, Any], major: int, error: Exception) -> _Cells:
    """Read code cells straight from the JSON of a v4 notebook nbformat refused."""
    if major != 4 or not isinstance(raw.get("cells"), list):
        raise _NotebookError(_short(error))
    return _Cells(_code_sources(raw["cells"]), _as_dict(raw.get("metadata")))


def _code_sources(cells: Any) -> list[str]:
    if not isinstance(cells, list):
        return []
    return [
        _cell_source(cell)
        for cell in cells
        if isinstance(cell, dict) and cell.get("cell_type") == "code"
    ]


def _cell_source(cell: dict[str, Any]) -> str:
    """The cell's text; "" when the source is not text (validation reports that)."""
    source = cell.get("source", "")
    if isinstance(source, list) and all(isinstance(part, str) for part in source):
        source = "".join(source)
    return _normalize_newlines(source) if isinstance(source, str) else ""


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _notebook_language(metadata: dict[str, Any]) -> str | None:
    for key, field_name in (("kernelspec", "language"), ("language_info", "name")):
        value = _as_dict(metadata.get(key)).get(field_name)
        if isinstance(value, str) and value:
            return value
    return None


def _short(exc: Exception, limit: int = 200) -> str:
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    message = " ".join(str(message).split())
    return message if len(message) <= limit else message[: limit - 3] + "..."


def _add_code_cells(sources: list[str], where: str, cell_prefix: str, out: _Collector) -> None:
    for number, source in enumerate(sources, start=1):
        if not source.strip():
            continue
        name = f"code cell {number}"
        tag = f"{where} {name}"
        converted = cell_to_python(source)
        if converted.skipped_magic is not None:
            out.notes.append(f"{tag}: skipped, a %%{converted.skipped_magic} cell is not Python.")
            continue
        out.chunks.append(_chunk(converted.code, cell_prefix + name, tag))


# ---------------------------------------------------------------- IPython syntax


class ConvertedCell(NamedTuple):
    code: str
    skipped_magic: str | None = None  # set when a cell magic makes the cell non-Python


def cell_to_python(source: str) -> ConvertedCell:
    """Rewrite a notebook cell's IPython syntax into Python with the same line numbers.

    A cell that compiles is returned unchanged. Otherwise: a leading indent is removed
    (IPython does so), `%%time`/`%%timeit`/`%%capture` cells keep their body, other cell
    magics (`%%bash`, `%%writefile`, ...) skip the cell, and line magics, shell escapes
    and help requests at the start of a statement become `pass` (`%time stmt` keeps
    `stmt`, `x = !ls` becomes `x = []`). Lines inside strings or brackets are untouched.
    """
    source = _normalize_newlines(source)
    if _compile_error(source) is None:
        return ConvertedCell(source)
    lines = _remove_leading_indent(source.split("\n"))
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].lstrip().startswith("%%"):
        name = _magic_name(lines[first].lstrip().lstrip("%"))
        if name not in _CELL_MAGICS_KEEPING_BODY:
            return ConvertedCell("", skipped_magic=name or "?")
        lines[first] = ""
    return ConvertedCell("\n".join(_rewrite_lines(lines)))


def _remove_leading_indent(lines: list[str]) -> list[str]:
    first = next((line for line in lines if line.strip()), "")
    indent = first[: len(first) - len(first.lstrip(" \t"))]
    if not indent:
        return lines
    return [line[len(indent) :] if line.startswith(indent) else line for line in lines]


class _ScanState(NamedTuple):
    quote: str | None = None  # the open string's delimiter
    depth: int = 0  # open brackets
    backslash: bool = False  # the previous line ended with a line continuation

    @property
    def at_statement_start(self) -> bool:
        return self.quote is None and self.depth == 0 and not self.backslash


def _scan(line: str, state: _ScanState) -> tuple[_ScanState, int]:
    """Advance over one line; return the state after it and where its code ends (`#`)."""
    quote, depth = state.quote, state.depth
    code_end = len(line)
    i = 0
    while i < len(line):
        char = line[i]
        if quote is not None:
            if char == "\\":
                i += 2
                continue
            if line.startswith(quote, i):
                i += len(quote)
                quote = None
                continue
        elif char == "#":
            code_end = i
            break
        elif char in "\"'":
            quote = char * 3 if line.startswith(char * 3, i) else char
            i += len(quote)
            continue
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(0, depth - 1)
        i += 1
    ends_with_backslash = code_end == len(line) and line.endswith("\\")
    if quote is not None and len(quote) == 1 and not ends_with_backslash:
        quote = None  # an unterminated one-line string; Python reports it, we move on
    backslash = ends_with_backslash and quote is None
    return _ScanState(quote, depth, backslash), code_end


def _rewrite_lines(lines: list[str]) -> list[str]:
    state = _ScanState()
    result: list[str] = []
    filler: str | None = None  # replaces the `\`-continued lines of a removed magic
    for line in lines:
        if filler is not None:
            result.append(filler)
            filler = filler if line.rstrip().endswith("\\") else None
            continue
        if state.at_statement_start:
            rewritten = _rewrite_ipython_line(line)
            if rewritten is not None:
                result.append(rewritten)
                state, _ = _scan(rewritten, state)
                if line.rstrip().endswith("\\") and not state.backslash:
                    filler = rewritten[: len(rewritten) - len(rewritten.lstrip())] + "pass"
                continue
        result.append(line)
        state, _ = _scan(line, state)
    return result


_ASSIGN_FROM_MAGIC = re.compile(
    r"(?P<target>[A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*)\s*=\s*(?P<sigil>%|!)(?P<rest>.*)"
)
_TIMEIT_OPTION = re.compile(r"\s*(?:-[nrp]\s*\d+|-[tcqo]+)(?=\s)")
_AUTOMAGIC_LINE = re.compile(r"(?P<name>[A-Za-z_]\w*)\s+\S")


def _rewrite_ipython_line(line: str) -> str | None:
    """The Python replacement for an IPython-only line, or None for ordinary Python."""
    body = line.lstrip(" \t")
    indent = line[: len(line) - len(body)]
    if not body:
        return None
    assignment = _ASSIGN_FROM_MAGIC.fullmatch(body.rstrip())
    if assignment and not assignment["rest"].startswith("="):
        value = "[]" if assignment["sigil"] == "!" else "None"
        if assignment["sigil"] == "%":
            name, statement = _magic_statement(assignment["rest"])
            if name == "time" and statement:
                value = statement
        return f"{indent}{assignment['target']} = {value}"
    if body.startswith("%"):
        name, statement = _magic_statement(body.lstrip("%"))
        if name in _LINE_MAGICS_KEEPING_STATEMENT and statement:
            return indent + statement
        return indent + "pass"
    if body.startswith(("!", "?")):
        return indent + "pass"
    _, code_end = _scan(body, _ScanState())
    if body[:code_end].rstrip().endswith("?") or _is_automagic(body):
        return indent + "pass"
    return None


def _magic_name(text: str) -> str:
    match = re.match(r"[A-Za-z_][\w.]*", text)
    return match.group() if match else ""


def _magic_statement(text: str) -> tuple[str, str]:
    """Split `timeit -n 10 f(x)` into the magic's name and the statement it runs."""
    name = _magic_name(text)
    rest = text[len(name) :] + " "
    while option := _TIMEIT_OPTION.match(rest):
        rest = rest[option.end() :]
    return name, rest.strip()


def _is_automagic(body: str) -> bool:
    """`pip install x` or `matplotlib inline` typed without `%`, which IPython accepts."""
    match = _AUTOMAGIC_LINE.match(body)
    return bool(match and match["name"] in _AUTOMAGICS and _compile_error(body) is not None)
