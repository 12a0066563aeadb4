"""The exercises this process grades: the built-in pack plus any exercise packs.

A pack is a plain directory or an importable package; each of its modules (bar those whose
name starts with "_") declares one `EXERCISE` with `grader.spec`. Packs come from, in
order: `--pack PATH_OR_MODULE` on the command line, the `GRADER_PACKS` environment variable
(separated by the platform's path separator, ":" on Linux) and the `grader.packs` entry
point group of installed course packages. Two exercises of the same name are an error.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.machinery
import importlib.util
import os
import pkgutil
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # grader.spec imports numpy: not worth it for `grader --help`
    from grader.spec import Exercise

ENVIRONMENT = "GRADER_PACKS"
ENTRY_POINTS = "grader.packs"
BUILT_IN = "exercises"


class PackError(ValueError):
    """A pack that cannot be loaded, or exercises whose names clash."""


@dataclass(frozen=True)
class Pack:
    """A set of exercises loaded together: the built-in one, a directory or a package."""

    name: str
    source: str
    """What named it: "built-in", the directory's path or the module's name."""
    exercises: tuple[Exercise, ...]
    directory: Path | None = None
    """Where its files are (to bundle it, e.g. in a Gradescope autograder)."""
    conventions: tuple[str, ...] | None = None
    """What its statements assume (markdown list items): the package's `CONVENTIONS`, if it
    declares them (in its __init__.py); else the built-in pack's apply."""


@dataclass(frozen=True)
class Catalogue:
    exercises: tuple[Exercise, ...]
    packs: tuple[Pack, ...] = field(default=())

    def get(self, name: str) -> Exercise:
        for exercise in self.exercises:
            if exercise.name == name:
                return exercise
        known = ", ".join(self.names())
        raise KeyError(f"unknown exercise {name!r}; known exercises: {known}")

    def names(self) -> tuple[str, ...]:
        return tuple(exercise.name for exercise in self.exercises)

    def __contains__(self, name: object) -> bool:
        return name in self.names()

    def pack_of(self, name: str) -> Pack:
        return next(pack for pack in self.packs if any(e.name == name for e in pack.exercises))

    @property
    def extra_packs(self) -> tuple[Pack, ...]:
        return tuple(pack for pack in self.packs if pack.source != "built-in")


# ------------------------------------------------------------------ loading one pack


def pack_exercises(package: ModuleType) -> tuple[Exercise, ...]:
    """Every `EXERCISE` declared by a module of the package (helper modules declare none;
    modules whose name starts with "_" are not even imported), by number then name."""
    from grader.spec import Exercise

    found = []
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        exercise = getattr(module, "EXERCISE", None)
        if exercise is None:
            continue
        if not isinstance(exercise, Exercise):
            raise PackError(
                f"{module.__name__}.EXERCISE is a {type(exercise).__name__}, "
                "not a grader.spec.Exercise"
            )
        found.append(exercise)
    return tuple(sorted(found, key=lambda e: (e.number, e.name)))


def directory_package(directory: Path) -> ModuleType:
    """A plain directory imported as a package of its own (so its modules can share helpers
    with relative imports), under a name derived from its path."""
    digest = hashlib.sha256(str(directory).encode()).hexdigest()[:10]
    name = f"grader_pack_{re.sub(r'[^0-9a-zA-Z_]', '_', directory.name)}_{digest}"
    if name in sys.modules:
        return sys.modules[name]
    init = directory / "__init__.py"
    if init.exists():
        spec = importlib.util.spec_from_file_location(
            name, init, submodule_search_locations=[str(directory)]
        )
    else:
        spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
        spec.submodule_search_locations = [str(directory)]
    if spec is None:
        raise PackError(f"{directory}: cannot be imported as a pack")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        if spec.loader is not None:
            spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def load_pack(source: str) -> Pack:
    """A pack named by a directory path or an importable module name."""
    path = Path(source).expanduser()
    try:
        if path.is_dir():
            directory = path.resolve()
            package = directory_package(directory)
            name = directory.name
        elif os.sep in source or source.endswith(".py"):
            raise PackError(f"{source}: no such pack directory")
        else:
            package = importlib.import_module(source)
            if not hasattr(package, "__path__"):
                raise PackError(f"{source}: a pack module must be a package (a directory)")
            directory = Path(package.__path__[0])
            name = source
        exercises = pack_exercises(package)
    except PackError:
        raise
    except Exception as error:  # the pack's own code failed: say where
        raise PackError(f"pack {source}: {type(error).__name__}: {error}") from error
    if not exercises:
        raise PackError(f"pack {source}: no module declares an EXERCISE")
    conventions = getattr(package, "CONVENTIONS", None)
    return Pack(name, source, exercises, directory, tuple(conventions) if conventions else None)


def built_in_pack() -> Pack:
    import exercises

    directory = Path(exercises.__path__[0])
    return Pack("built-in", "built-in", exercises.EXERCISES, directory, exercises.CONVENTIONS)


def entry_point_packs() -> list[str]:
    """Module names of the packs pip-installed course packages declare."""
    from importlib.metadata import entry_points

    return [point.value for point in entry_points(group=ENTRY_POINTS)]


def environment_packs() -> list[str]:
    return [item for item in os.environ.get(ENVIRONMENT, "").split(os.pathsep) if item]


# ------------------------------------------------------------------ the catalogue


def absolute(source: str) -> str:
    """A pack's name that means the same from any directory: a directory's resolved path;
    a module name as it is."""
    return str(Path(source).resolve()) if Path(source).is_dir() else source


def load(sources: Sequence[str] = (), *, installed: bool = True) -> Catalogue:
    """The built-in pack plus the packs named (then those of GRADER_PACKS and the installed
    entry points, with `installed`). The same pack named twice is loaded once; two exercises
    of the same name are a PackError naming both packs."""
    names = list(sources)
    if installed:
        names += environment_packs() + entry_point_packs()
    packs = [built_in_pack()]
    seen: set[str] = set()
    for source in names:
        key = absolute(source)
        if key in seen:
            continue
        seen.add(key)
        packs.append(load_pack(source))
    return Catalogue(merged(packs), tuple(packs))


def merged(packs: Sequence[Pack]) -> tuple[Exercise, ...]:
    owner: dict[str, Pack] = {}
    exercises = []
    for pack in packs:
        for exercise in pack.exercises:
            other = owner.get(exercise.name)
            if other is not None:
                raise PackError(
                    f"exercise {exercise.name!r} is declared by two packs: {other.source} and "
                    f"{pack.source}; rename one of them"
                )
            owner[exercise.name] = pack
            exercises.append(exercise)
    return tuple(exercises)


_current: Catalogue | None = None


def current() -> Catalogue:
    """The catalogue of this process: built on first use from the built-in pack,
    GRADER_PACKS and the installed packs, plus what `use` added."""
    global _current
    if _current is None:
        _current = load()
    return _current


def use(sources: Sequence[str]) -> Catalogue:
    """Add packs (`--pack`) to this process's catalogue, and to GRADER_PACKS, so that the
    processes it starts (batch workers) load them too."""
    global _current
    named = [absolute(source) for source in sources]
    _current = load(named)
    known = environment_packs()
    os.environ[ENVIRONMENT] = os.pathsep.join(known + [s for s in named if s not in known])
    return _current
