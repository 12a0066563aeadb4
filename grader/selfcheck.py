"""Grade, from inside a running notebook or script, the functions it defines.

    from grader import check
    check("two_layer_sigmoid")

`check` never runs the student's functions in the caller's process (a Jupyter kernel, a
script). It rebuilds the source of what they defined and grades that in the sandbox, like
any submission, then shows the report (HTML in Jupyter, text elsewhere). Nothing the code
does (raise, loop forever, `os._exit`, eat memory) reaches the caller, and any failure of
the check itself becomes a message, never an exception.

How the source is rebuilt (the notebook file on disk may be unsaved or stale, and a
kernel's history holds every cell ever run, plotting and training included):

- Start from the contract functions the namespace defines (those of the requested
  exercises) and follow, transitively, the global names their code uses.
- A function or class defined in the namespace contributes its own source
  (`inspect.getsourcelines`), as one chunk labelled where it lives ("Cell In[7]" in
  IPython, the file name in a script) with its line numbers, so tracebacks point there.
- A module becomes an `import` line, a function or class of a module a `from ... import`,
  a plain value (number, string, small container of those, small numeric array) an
  assignment; anything else cannot be sent and is reported as a problem by name.
- Each definition chunk starts with `from __future__ import annotations`, so annotations
  that name notebook-only objects (a type alias) cannot stop a definition from loading.
"""

from __future__ import annotations

import ast
import dis
import inspect
import linecache
import os
import sys
import textwrap
import types
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from grader import catalogue
from grader.engine import GradeOptions, grade_source, own_functions
from grader.loading import LoadedSource, SourceChunk, cell_to_python
from grader.report import Report
from grader.sandbox import Limits

#: Objects from these packages are never sent to the sandbox (and cannot be imported there).
PRIVATE_PACKAGES = ("grader", "reference", "exercises", "IPython", "ipykernel")
#: Largest numeric array (in bytes) sent as a global value.
MAX_ARRAY_BYTES = 1_000_000
#: Largest literal (characters of its repr) sent as a global value.
MAX_LITERAL_CHARS = 100_000
FUTURE_LINE = "from __future__ import annotations\n"


class CheckReport(Report):
    """The report `check` returns: a Report whose repr is one line, so that a notebook
    showing the value of `check(...)` after its table does not print the whole model."""

    def __repr__(self) -> str:
        return (
            f"<grader report: {self.score:g} / {self.max_score:g} points "
            f"({self.percent:.0f}%), {len(self.exercises)} exercise(s)>"
        )


def check(
    *exercise_names: str,
    namespace: Mapping[str, Any] | types.ModuleType | None = None,
    seed: int | None = None,
    limits: Limits | None = None,
    instances: str | os.PathLike[str] | None = None,
    show: bool = True,
) -> CheckReport | None:
    """Grade the exercise functions defined in the caller's namespace and show the report.

    `exercise_names` are exercise names ("two_layer_sigmoid") or function names
    ("sigmoid2_backward", meaning its exercise); none means every exercise whose functions
    the namespace defines. `namespace` defaults to the caller's globals (a notebook's
    variables, a script's module). `seed` picks the instances (default: the same as
    `grader check`); `instances` is a public instance file (a student kit) to grade against
    instead of the answer key. Returns the report, or None when nothing could be graded (the
    reason is shown). Never raises: whatever the student's code does, the caller keeps running.
    """
    try:
        if namespace is None:
            namespace = sys._getframe(1).f_globals
        elif isinstance(namespace, types.ModuleType):
            namespace = vars(namespace)
        options = GradeOptions(seed=seed, limits=limits or Limits(), figures=show and in_jupyter())
        return _check(exercise_names, namespace, options, instances, show)
    except KeyboardInterrupt:
        _say("The check was interrupted. Nothing in your notebook was changed.", show)
    except Exception as exc:  # the check itself failed: say so, never break the caller
        _say(
            f"The check itself failed ({type(exc).__name__}: {exc}). Your code and variables "
            "are untouched. Save your work and run `grader check YOUR_FILE` in a terminal; "
            "if that fails too, tell your TA.",
            show,
        )
    return None


def _check(
    names: tuple[str, ...],
    namespace: Mapping[str, Any],
    options: GradeOptions,
    instances: str | os.PathLike[str] | None,
    show: bool,
) -> CheckReport | None:
    chosen, problem = resolve_exercises(names, namespace)
    if problem is None and instances is not None:
        published, problem = read_published(instances, chosen, explicit=bool(names))
        chosen = [name for name in chosen if name in (published or {})]
        options = replace(options, published=published)
    if problem is not None:
        _say(problem, show)
        return None
    wanted = [f for name in chosen for f in catalogue.current().get(name).function_names]
    source = rebuild_source(namespace, wanted)
    options = replace(options, exercises=chosen)
    report = grade_source(source, options, submission_label(namespace))
    if not names:  # the engine says "requested"; these were found in the namespace
        _, semicolon, rest = report.selection.partition(";")
        found = ", ".join(chosen)
        report.selection = f"graded the exercises whose functions are defined here: {found}"
        report.selection += semicolon + rest
    result = CheckReport(**report.model_dump())
    if show:
        show_report(result)
    return result


def read_published(
    path: str | os.PathLike[str], chosen: list[str], explicit: bool
) -> tuple[dict[str, Any] | None, str | None]:
    """The public instances of a student kit, or a message saying why they cannot be used.

    Requested exercises must all be in the file; inferred ones are graded when they are.
    """
    from grader.public_instances import InstanceFileError, read_instances

    try:
        published = read_instances(Path(path))
    except InstanceFileError as exc:
        return None, f"check: {exc}"
    absent = [name for name in chosen if name not in published]
    if absent and (explicit or len(absent) == len(chosen)):
        return None, (
            f"check: {Path(path).name} has no instances for {', '.join(absent)}; "
            f"it covers: {', '.join(published) or 'nothing'}."
        )
    return published, None


def resolve_exercises(
    names: Iterable[Any], namespace: Mapping[str, Any]
) -> tuple[list[str], str | None]:
    """The exercise names to grade, or a message saying why there is nothing to grade."""
    flat: list[Any] = []
    for name in names:
        flat.extend(name if isinstance(name, list | tuple) else [name])
    by_function = {f: e.name for e in catalogue.current().exercises for f in e.function_names}
    chosen: list[str] = []
    for name in flat:
        if isinstance(name, str) and name in catalogue.current().names():
            exercise = name
        elif isinstance(name, str) and name in by_function:
            exercise = by_function[name]
        else:
            known = ", ".join(catalogue.current().names())
            return [], f"check: unknown exercise {name!r}. The exercises are: {known}."
        if exercise not in chosen:
            chosen.append(exercise)
    if flat:
        return chosen, None
    chosen = [e.name for e in catalogue.current().exercises if own_functions(e) & namespace.keys()]
    if not chosen:
        return [], (
            "check: no function of the exercises is defined here yet. Run the cells that "
            'define them, or name the exercise: check("two_layer_sigmoid").'
        )
    return chosen, None


# ------------------------------------------------------------------ grading a rebuilt source


# ---------------------------------------------------------------- rebuilding the source


@dataclass
class _Rebuild:
    namespace: Mapping[str, Any]
    module_name: str
    imports: list[str] = field(default_factory=list)
    values: list[str] = field(default_factory=list)
    definitions: dict[str, SourceChunk] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)


def rebuild_source(namespace: Mapping[str, Any], wanted: Iterable[str]) -> LoadedSource:
    """The code the sandbox needs to define `wanted` as the namespace has them."""
    module_name = namespace.get("__name__")
    state = _Rebuild(namespace, module_name if isinstance(module_name, str) else "__main__")
    queue = [name for name in wanted if name in namespace]
    while queue:
        name = queue.pop(0)
        if name in state.seen or name not in namespace:
            continue
        state.seen.add(name)
        queue.extend(_add_name(state, name, namespace[name]))
    chunks = []
    if state.imports:
        chunks.append(_plain_chunk(state.imports, "imports rebuilt from your code", "imports"))
    if state.values:
        chunks.append(_plain_chunk(state.values, "global values rebuilt from your code", "values"))
    # Definitions in the namespace's order, which is the order they were first run in.
    chunks.extend(state.definitions[name] for name in namespace if name in state.definitions)
    return LoadedSource(
        path=Path(str(namespace.get("__file__") or "<notebook>")),
        kind="py",
        chunks=tuple(chunks),
        problems=tuple(state.problems),
    )


def _plain_chunk(lines: list[str], label: str, tag: str) -> SourceChunk:
    return SourceChunk("\n".join(lines) + "\n", label, f"<self-check {tag}>")


def _add_name(state: _Rebuild, name: str, value: Any) -> list[str]:
    """Add what defines `name`; return the further names that definition uses."""
    if _is_own(value, state.module_name):
        return _add_definition(state, name, value)
    line = _import_line(name, value) or _value_line(name, value)
    if line is _SKIP:
        return []
    if line is None:
        state.problems.append(
            f"Your code uses the global {name!r} (a {type(value).__name__}), which cannot be "
            "sent to the check; pass it as an argument or define it inside the function."
        )
    elif line.startswith(("import ", "from ")):
        state.imports.append(line)
    else:
        state.values.append(line)
    return []


def _is_own(value: Any, module_name: str) -> bool:
    if not isinstance(value, types.FunctionType | type):
        return False
    return getattr(value, "__module__", None) == module_name


def _add_definition(state: _Rebuild, name: str, value: Any) -> list[str]:
    kind = "class" if isinstance(value, type) else "function"
    found = _source_lines(value, state.namespace)
    if found is None:
        state.problems.append(
            f"The source of your {kind} {name} could not be found (was it made with exec, or "
            "is its file changed since it ran?), so the check could not use it."
        )
        return []
    lines, first, label = found
    source = textwrap.dedent("".join(lines))
    source = cell_to_python(source).code
    try:
        tree = ast.parse(source)
    except SyntaxError:
        tree = None
    defined = getattr(value, "__name__", name)
    if tree is None or not _defines(tree, defined, name):
        state.problems.append(
            f"The source of your {kind} {name} could not be isolated from the code around "
            "it; define it with a plain def statement."
        )
        return []
    if defined != name and not _assigns(tree, name):
        source = source.rstrip("\n") + f"\n{name} = {defined}\n"
    state.definitions[name] = SourceChunk(
        FUTURE_LINE + source, label, f"<self-check {name}>", first_line=first - 1
    )
    used = _names_in_header(tree)
    if isinstance(value, type):
        used |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    else:
        used |= _global_names(_code_of(value))
    used.discard(name)
    return sorted(used)


def _code_of(function: types.FunctionType) -> types.CodeType:
    """The code of the function a decorator wrapped (functools.wraps), else its own."""
    try:
        code = getattr(inspect.unwrap(function), "__code__", None)
    except ValueError:  # a __wrapped__ cycle
        code = None
    return code if isinstance(code, types.CodeType) else function.__code__


def _source_lines(value: Any, namespace: Mapping[str, Any]) -> tuple[list[str], int, str] | None:
    """The lines defining `value`, the number of the first, and where they are."""
    name = getattr(value, "__name__", "?")
    try:
        lines, first = inspect.getsourcelines(value)
        filename = inspect.getsourcefile(value) or ""
    except (OSError, TypeError):
        # Before Python 3.13, inspect cannot find a class defined in a notebook cell.
        return _source_from_history(value, namespace) if isinstance(value, type) else None
    return lines, first, location_label(filename, namespace, name)


def _source_from_history(value: type, namespace: Mapping[str, Any]) -> tuple | None:
    """The class statement of the last IPython cell (`In`) that defines `value`'s name."""
    history = namespace.get("In")
    if not isinstance(history, list):
        return None
    for number in range(len(history) - 1, 0, -1):
        cell = history[number]
        if not isinstance(cell, str) or f"class {value.__name__}" not in cell:
            continue
        try:
            tree = ast.parse(cell)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and node.name == value.__name__:
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                lines = cell.splitlines(keepends=True)[first - 1 : node.end_lineno]
                return lines, first, f"Cell In[{number}]"
    return None


def _defines(tree: ast.Module, defined: str, name: str) -> bool:
    """The source defines `defined` (a def or class) or assigns `name` (a lambda)."""
    for node in tree.body:
        is_def = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        if is_def and node.name == defined:
            return True
    return defined == "<lambda>" and _assigns(tree, name)


def _assigns(tree: ast.Module, name: str) -> bool:
    return any(
        isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
        for node in tree.body
    )


def _names_in_header(tree: ast.Module) -> set[str]:
    """Names evaluated where a def or class statement runs: decorators, defaults, bases."""
    names: set[str] = set()
    for node in tree.body:
        parts: list[ast.AST] = []
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            parts = [*node.decorator_list, *node.args.defaults]
            parts += [d for d in node.args.kw_defaults if d is not None]
        elif isinstance(node, ast.ClassDef):
            parts = [*node.decorator_list, *node.bases, *(k.value for k in node.keywords)]
        elif isinstance(node, ast.Assign):
            parts = [node.value]
        for part in parts:
            names |= {n.id for n in ast.walk(part) if isinstance(n, ast.Name)}
    return names


_GLOBAL_OPS = frozenset({"LOAD_GLOBAL", "LOAD_NAME", "STORE_GLOBAL", "DELETE_GLOBAL"})


def _global_names(code: types.CodeType) -> set[str]:
    """The global names a code object (and the code nested in it) reads or writes."""
    names: set[str] = set()
    for instruction in dis.get_instructions(code):
        if instruction.opname in _GLOBAL_OPS and isinstance(instruction.argval, str):
            names.add(instruction.argval)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _global_names(constant)
    return names


_SKIP = "<skip>"


def _import_line(name: str, value: Any) -> str | None:
    """`import m as name` / `from m import x as name`, _SKIP for private packages, or None."""
    if isinstance(value, types.ModuleType):
        module = value.__name__
        if _private(module):
            return _SKIP
        return f"import {module}" if module == name else f"import {module} as {name}"
    if not (isinstance(value, type) or inspect.isroutine(value) or _is_ufunc(value)):
        return None
    module = getattr(value, "__module__", None)
    attribute = getattr(value, "__name__", None)
    if not isinstance(module, str) or not isinstance(attribute, str):
        return None
    if _private(module):
        return _SKIP
    owner = sys.modules.get(module)
    if owner is None or getattr(owner, attribute, None) is not value:
        return None
    alias = "" if attribute == name else f" as {name}"
    return f"from {module} import {attribute}{alias}"


def _private(module: str) -> bool:
    return module.split(".")[0] in PRIVATE_PACKAGES


def _is_ufunc(value: Any) -> bool:
    numpy = sys.modules.get("numpy")
    return numpy is not None and isinstance(value, numpy.ufunc)


_LITERAL_TYPES = (bool, int, float, complex, str, bytes, type(None))


def _value_line(name: str, value: Any) -> str | None:
    """`name = <value>` for plain data, or None when the value cannot be written as code."""
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(value, numpy.ndarray | numpy.generic):
        return _array_line(name, value, numpy)
    if not _is_literal(value, depth=0):
        return None
    text = repr(value)
    if len(text) > MAX_LITERAL_CHARS:
        return None
    try:
        if ast.literal_eval(text) != value:
            return None
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return f"{name} = {text}"


def _is_literal(value: Any, depth: int) -> bool:
    if depth > 20:
        return False
    if type(value) in _LITERAL_TYPES:
        return True
    if type(value) in (list, tuple, set, frozenset):
        return all(_is_literal(item, depth + 1) for item in value)
    if type(value) is dict:
        return all(
            _is_literal(k, depth + 1) and _is_literal(v, depth + 1) for k, v in value.items()
        )
    return False


def _array_line(name: str, value: Any, numpy: Any) -> str | None:
    """A numeric array or numpy scalar, exactly (nan and inf included), via its bytes."""
    array = numpy.asarray(value)
    if array.dtype.kind not in "biufc" or array.nbytes > MAX_ARRAY_BYTES:
        return None
    data = numpy.ascontiguousarray(array).tobytes().hex()
    made = (
        f"__import__('numpy').frombuffer(bytes.fromhex('{data}'), dtype='{array.dtype.str}')"
        f".reshape({tuple(array.shape)!r})"
    )
    made += ".copy()" if isinstance(value, numpy.ndarray) else "[()]"
    return f"{name} = {made}"


def location_label(filename: str, namespace: Mapping[str, Any], name: str) -> str:
    """How a student names the place `name` is defined: "Cell In[7]", "train.py"."""
    history = namespace.get("In")
    if isinstance(history, list) and filename:
        text = "".join(linecache.getlines(filename)).rstrip()
        for number in range(len(history) - 1, 0, -1):
            entry = history[number]
            if isinstance(entry, str) and text and entry.rstrip() == text:
                return f"Cell In[{number}]"
    if filename and not filename.startswith("<") and os.path.isfile(filename):
        return Path(filename).name
    return f"the cell defining {name}"


def submission_label(namespace: Mapping[str, Any]) -> str:
    if in_ipython() and isinstance(namespace.get("In"), list):
        return "this notebook"
    file = namespace.get("__file__")
    if isinstance(file, str) and file:
        return Path(file).name
    name = namespace.get("__name__")
    return f"module {name}" if isinstance(name, str) else "your code"


# ------------------------------------------------------------------------------ showing


def _ipython_shell() -> Any:
    module = sys.modules.get("IPython")
    if module is None:
        return None
    try:
        return module.get_ipython()
    except Exception:
        return None


def in_ipython() -> bool:
    return _ipython_shell() is not None


def in_jupyter() -> bool:
    """A Jupyter kernel (notebook, lab, VS Code, Colab), where HTML can be displayed."""
    return getattr(_ipython_shell(), "kernel", None) is not None


def show_report(report: Report) -> None:
    """In Jupyter or Colab, the feedback page (grader/renderers/html.py) with the figures of
    the functions that failed; elsewhere, or if the page cannot be made, the text table."""
    if in_jupyter():
        try:
            from IPython.display import HTML, display

            from grader.renderers.html import html_fragment

            display(HTML(html_fragment(report)))
            return
        except Exception:
            pass  # fall back to text
    from grader.terminal import print_report

    print_report(report)


def _say(message: str, show: bool) -> None:
    if show:
        print(message)
