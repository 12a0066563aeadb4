"""Build the Gradescope autograder zip: `setup.sh`, `run_autograder` and the grader's source.

Gradescope unpacks the zip into `/autograder/source`, runs `setup.sh` once (as root) to
build the image, then for every submission copies the student's files into
`/autograder/submission`, runs `/autograder/run_autograder` and uploads
`/autograder/results/results.json`.

The zip holds:

- `grader-src/`: the source tree of the `grader`, `exercises` and `reference` packages plus
  `pyproject.toml` (and the readme it names), exactly as installed here, so Gradescope
  grades with the same grader and answer key as this machine. `setup.sh` installs it with
  pip into a virtual environment; pip fetches the dependencies (numpy, pydantic, click,
  nbformat, rich) and the build backend from PyPI, and nothing else is downloaded.
- `setup.sh`: finds a Python >= 3.11, makes the virtual environment, installs the grader
  and records which Python to use in `grader-python`. `setup.sh --check` (or
  `GRADER_SETUP_CHECK_ONLY=1`) only checks the Python and the bundle and installs nothing.
- `assignment.toml`: the assignment every submission is graded on (its exercises and
  points), so every student's total is out of the same maximum.
- `packs/<name>/`: a copy of the directory of every exercise pack the build loaded besides
  the built-in one (`--pack`, GRADER_PACKS, installed packs: `AutograderConfig.packs`);
  `run_autograder` exports GRADER_PACKS pointing at these copies, so Gradescope grades the
  pack's exercises with the pack's own reference solutions. A bundled pack is loaded as a
  directory: its modules share code with relative imports (`from ._common import ...`).
- `run_autograder`: picks the submission (see `AutograderConfig.submission`), runs
  `python -m grader grade ... --assignment assignment.toml --gradescope-metadata
  submission_metadata.json --gradescope results.json --isolation strong` (the build's
  `--isolation`; the student id, which seeds the
  instances, comes from Gradescope's metadata; when it cannot be read the report and the
  log say so) and, if the grader cannot produce
  results, writes a results.json that says so instead of leaving Gradescope without one.
  `AUTOGRADER_ROOT` replaces `/autograder` and `GRADER_PYTHON` chooses the interpreter, so
  the script can be run locally against a fake tree.
- `autograder.json`: what was built (grader version, assignment, visibility), for people.

The zip is reproducible: entries are sorted and carry a fixed timestamp.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import re
import shlex
import tomllib
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grader import __version__
from grader.assignment import Assignment, fixed_set
from grader.renderers.gradescope import VISIBILITIES
from grader.sandbox.isolation import ISOLATION_CHOICES

PACKAGES = ("grader", "exercises", "reference")
"""The packages shipped in the zip: the grader, the exercise declarations, the answer key."""
PACKS_DIR = "packs"

BUNDLE_DIR = "grader-src"
ASSIGNMENT_FILE = "assignment.toml"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_SKIPPED_DIRS = frozenset({"__pycache__"})
_SKIPPED_SUFFIXES = (".pyc", ".pyo")


@dataclass(frozen=True)
class AutograderConfig:
    """What the autograder grades and how it reports.

    `assignment` is what every submission is graded on (None: the `exercises` named, at
    their declared points, or every exercise when none is named).
    `submission` says what to grade in `/autograder/submission`: "auto" (the first
    `.ipynb` in name order at its top level, else the first `.py`, else the whole folder),
    "folder" (the whole folder, every code file in name order), or a file name inside it
    (e.g. "hw3.ipynb"; a submission without it gets a results.json saying so).
    """

    exercises: Sequence[str] = ()
    salt: str = ""
    visibility: str = "visible"
    submission: str = "auto"
    assignment: Assignment | None = None
    isolation: str = "strong"
    """run_autograder's `grader grade --isolation`: strong by default, so that a Gradescope
    image without Linux namespaces fails (and says why) instead of grading with the answer
    key readable by student code."""
    packs: Sequence[Path] = ()
    """Directories of the exercise packs to bundle (`Pack.directory` of the catalogue's
    extra packs): each is copied to `packs/<its name>/` and loaded by run_autograder."""

    def __post_init__(self) -> None:
        if self.visibility not in VISIBILITIES:
            raise ValueError(f"visibility must be one of {', '.join(VISIBILITIES)}")
        if self.isolation not in ISOLATION_CHOICES:
            raise ValueError(f"isolation must be one of {', '.join(ISOLATION_CHOICES)}")
        check_submission_choice(self.submission)
        self.graded()

    def graded(self) -> Assignment:
        return fixed_set(self.exercises, self.assignment)


class MetadataError(Exception):
    """Gradescope's submission metadata cannot give the student id."""


def gradescope_student(path: Path | str) -> str:
    """The student id in Gradescope's submission_metadata.json: the users' emails (or ids),
    sorted and joined with "+" for a group. MetadataError when it cannot say."""
    path = Path(path)
    consequence = (
        "so the instances are not seeded for this student (the default seed is used); "
        "please tell course staff"
    )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MetadataError(
            f"Gradescope's submission metadata {path} is missing, {consequence}"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise MetadataError(
            f"Gradescope's submission metadata {path} cannot be read ({reason}), {consequence}"
        ) from None
    users = data.get("users") if isinstance(data, dict) else None
    ids = sorted(
        str(user.get("email") or user.get("id") or "")
        for user in (users if isinstance(users, list) else [])
        if isinstance(user, dict)
    )
    ids = [student for student in ids if student.strip()]
    if not ids:
        raise MetadataError(
            f"Gradescope's submission metadata {path} names no student (no email or id "
            f"in `users`), {consequence}"
        )
    return "+".join(ids)


@dataclass(frozen=True)
class BuildResult:
    path: Path
    names: list[str] = field(default_factory=list)

    @property
    def source_files(self) -> int:
        return sum(name.startswith(BUNDLE_DIR + "/") for name in self.names)


def check_submission_choice(choice: str) -> str:
    """Raise ValueError unless `choice` is "auto", "folder" or a plain relative file name."""
    if choice in ("auto", "folder"):
        return choice
    path = PurePosixPath(choice)
    if (
        not choice
        or "\\" in choice
        or path.is_absolute()
        or ".." in path.parts
        or not re.fullmatch(r"[^\x00-\x1f]+", choice)
    ):
        raise ValueError(
            f"submission must be 'auto', 'folder' or a file name inside the submission "
            f"folder, not {choice!r}"
        )
    return choice


def build_autograder(out: Path | str, config: AutograderConfig | None = None) -> BuildResult:
    """Write the autograder zip to `out` and say what it holds."""
    config = config or AutograderConfig()
    out = Path(out)
    entries: list[tuple[str, bytes, bool]] = [
        ("setup.sh", setup_script().encode(), True),
        ("run_autograder", run_script(config).encode(), True),
        ("autograder.json", manifest(config).encode(), False),
        (ASSIGNMENT_FILE, config.graded().to_toml().encode(), False),
    ]
    entries += [(name, data, False) for name, data in bundle_files()]
    entries += [(name, data, False) for name, data in pack_files(config.packs)]
    entries.sort(key=lambda entry: entry[0])
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data, executable in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o100755 if executable else 0o100644) << 16
            archive.writestr(info, data)
    return BuildResult(out, [name for name, _, _ in entries])


# ---------------------------------------------------------------------- the source tree


def package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the {name} package cannot be found, so it cannot be shipped")
    return Path(next(iter(spec.submodule_search_locations))).resolve()


def bundle_files() -> Iterator[tuple[str, bytes]]:
    """(name in the zip, content) of every file of the shipped source tree."""
    for package in PACKAGES:
        root = package_dir(package)
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(root)
            if not path.is_file() or skipped(relative):
                continue
            yield f"{BUNDLE_DIR}/{package}/{relative.as_posix()}", path.read_bytes()
    yield from project_files()


def pack_names(directories: Sequence[Path]) -> list[str]:
    """The folder of each pack under packs/: its directory's name, made unique."""
    names: list[str] = []
    for directory in directories:
        base = re.sub(r"[^0-9A-Za-z_.-]", "_", Path(directory).name) or "pack"
        name, n = base, 2
        while name in names:
            name, n = f"{base}_{n}", n + 1
        names.append(name)
    return names


def pack_files(directories: Sequence[Path]) -> Iterator[tuple[str, bytes]]:
    """(name in the zip, content) of every file of the bundled packs."""
    for directory, name in zip(directories, pack_names(directories), strict=True):
        root = Path(directory).resolve()
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(root)
            if path.is_file() and not skipped(relative):
                yield f"{PACKS_DIR}/{name}/{relative.as_posix()}", path.read_bytes()


def skipped(relative: Path) -> bool:
    return (
        any(part in _SKIPPED_DIRS or part.startswith(".") for part in relative.parts)
        or relative.suffix in _SKIPPED_SUFFIXES
    )


def project_files() -> Iterator[tuple[str, bytes]]:
    """pyproject.toml (and its readme) of the project the grader comes from, when it is
    a source checkout; otherwise a minimal pyproject.toml made from the installed metadata."""
    root = package_dir("grader").parent
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            project = {}
        if project.get("name") == "grader":
            yield f"{BUNDLE_DIR}/pyproject.toml", pyproject.read_bytes()
            readme = project.get("readme")
            if isinstance(readme, dict):
                readme = readme.get("file")
            if isinstance(readme, str) and (root / readme).is_file():
                yield f"{BUNDLE_DIR}/{readme}", (root / readme).read_bytes()
            return
    yield f"{BUNDLE_DIR}/pyproject.toml", generated_pyproject().encode()


def generated_pyproject() -> str:
    try:
        requires = importlib.metadata.requires("grader") or []
    except importlib.metadata.PackageNotFoundError:
        requires = ["numpy>=1.26", "pydantic>=2.5", "click>=8.1", "nbformat>=5.9", "rich>=13"]
    dependencies = [r for r in requires if not re.search(r"\bextra\s*==", r)]
    listed = ",\n".join(f"    {json.dumps(d)}" for d in dependencies)
    packages = ", ".join(json.dumps(p + "*") for p in PACKAGES)
    return (
        "[build-system]\n"
        'requires = ["setuptools>=68"]\n'
        'build-backend = "setuptools.build_meta"\n\n'
        "[project]\n"
        'name = "grader"\n'
        f'version = "{__version__}"\n'
        'requires-python = ">=3.11"\n'
        f"dependencies = [\n{listed}\n]\n\n"
        "[project.scripts]\n"
        'grader = "grader.cli:main"\n\n'
        "[tool.setuptools.packages.find]\n"
        f"include = [{packages}]\n"
    )


def manifest(config: AutograderConfig) -> str:
    graded = config.graded()
    return (
        json.dumps(
            {
                "grader_version": __version__,
                "assignment": graded.name or "assignment",
                "exercises": {name: graded.points_of(name) for name in graded.exercises},
                "max_score": graded.max_score,
                "visibility": config.visibility,
                "submission": config.submission,
                "isolation": config.isolation,
                "course_salt": "set" if config.salt else "none",
                "packages": list(PACKAGES),
                "packs": pack_names(config.packs),
            },
            indent=2,
        )
        + "\n"
    )


# ---------------------------------------------------------------------------- scripts


def setup_script() -> str:
    return _SETUP.replace("@BUNDLE@", BUNDLE_DIR)


def run_script(config: AutograderConfig) -> str:
    graded = config.graded()
    exercises = ", ".join(f"{name} ({graded.points_of(name):g})" for name in graded.exercises)
    return (
        _RUN.replace("@VERSION@", __version__)
        .replace("@EXERCISES@", exercises)
        .replace("@ASSIGNMENT_FILE@", ASSIGNMENT_FILE)
        .replace("@SALT@", shlex.quote(config.salt))
        .replace("@VISIBILITY@", shlex.quote(config.visibility))
        .replace("@SUBMISSION@", shlex.quote(config.submission))
        .replace("@ISOLATION@", shlex.quote(config.isolation))
        .replace("@PACKS@\n", packs_line(config.packs))
    )


def packs_line(directories: Sequence[Path]) -> str:
    """run_autograder's line loading the bundled packs (none: no line)."""
    if not directories:
        return ""
    paths = ":".join(f"$ROOT/source/{PACKS_DIR}/{name}" for name in pack_names(directories))
    return f'# The exercise packs bundled in source/{PACKS_DIR}/.\nexport GRADER_PACKS="{paths}"\n'


_SETUP = r"""#!/usr/bin/env bash
# Gradescope runs this once, as root, from /autograder/source, when it builds the image.
# It installs the bundled grader (@BUNDLE@/) into a virtual environment; pip fetches the
# grader's dependencies from PyPI, and nothing else is downloaded.
#
#   bash setup.sh           install (what Gradescope does)
#   bash setup.sh --check   only check that a Python >= 3.11 exists and the bundle is
#                           complete; install nothing (same as GRADER_SETUP_CHECK_ONLY=1)
#
# Environment: AUTOGRADER_ROOT (default /autograder); GRADER_BASE_PYTHON, the Python to
# build the environment from (default: the newest python3.1x >= 3.11 on PATH);
# GRADER_VENV (default $AUTOGRADER_ROOT/grader-venv).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="${AUTOGRADER_ROOT:-/autograder}"
VENV="${GRADER_VENV:-$ROOT/grader-venv}"
BUNDLE="$HERE/@BUNDLE@"
CHECK_ONLY="${GRADER_SETUP_CHECK_ONLY:-0}"
if [[ "${1:-}" == "--check" ]]; then CHECK_ONLY=1; fi

find_python() {
  local candidate
  for candidate in ${GRADER_BASE_PYTHON:-} python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

if ! PYTHON="$(find_python)"; then
  echo "setup.sh: the grader needs Python >= 3.11 and none was found; choose a Gradescope" \
    "base image that has one (Ubuntu 24.04 ships 3.12) or set GRADER_BASE_PYTHON" >&2
  exit 1
fi
echo "setup.sh: using $PYTHON ($("$PYTHON" --version 2>&1))"

for required in pyproject.toml grader/__init__.py grader/__main__.py \
  exercises/__init__.py reference/__init__.py; do
  if [[ ! -f "$BUNDLE/$required" ]]; then
    echo "setup.sh: the zip is incomplete: @BUNDLE@/$required is missing" >&2
    exit 1
  fi
done

if [[ "$CHECK_ONLY" == 1 ]]; then
  echo "setup.sh --check: OK; would install $BUNDLE into $VENV (nothing installed)"
  exit 0
fi

# An editable install: the grader and the answer key stay in $BUNDLE, outside every
# site-packages directory, where the strong sandbox's allowlisted filesystem never shows
# them to student code (a copy in site-packages would sit next to numpy).
if "$PYTHON" -m venv "$VENV"; then
  GRADER_PYTHON="$VENV/bin/python"
  "$GRADER_PYTHON" -m pip install --quiet --upgrade pip
  "$GRADER_PYTHON" -m pip install --no-cache-dir --editable "$BUNDLE"
else
  echo "setup.sh: 'python -m venv' failed (python3-venv missing?); installing into" \
    "$PYTHON itself" >&2
  rm -rf "$VENV"
  GRADER_PYTHON="$PYTHON"
  "$PYTHON" -m pip install --no-cache-dir --break-system-packages --editable "$BUNDLE" ||
    "$PYTHON" -m pip install --no-cache-dir --editable "$BUNDLE"
fi
echo "$GRADER_PYTHON" >"$HERE/grader-python"
"$GRADER_PYTHON" -m grader --version
# Says which isolation student code gets on this image; fallback mode cannot hide the
# answer key from student code (see docs/gradescope.md).
"$GRADER_PYTHON" -m grader doctor || true
"""

_RUN = r"""#!/usr/bin/env bash
# Gradescope runs this for every submission. Made by `grader gradescope build` (grader
# @VERSION@). It grades /autograder/submission and writes /autograder/results/results.json.
#
# Environment: AUTOGRADER_ROOT replaces /autograder (to run it on a fake tree locally);
# GRADER_PYTHON is the Python that has the grader installed (default: the one setup.sh
# recorded in source/grader-python, else python3).
set -uo pipefail
export LC_ALL=C.UTF-8

ROOT="${AUTOGRADER_ROOT:-/autograder}"
SUBMISSION_DIR="$ROOT/submission"
RESULTS="$ROOT/results/results.json"
# Every submission is graded on the assignment in source/@ASSIGNMENT_FILE@:
# @EXERCISES@
ASSIGNMENT="$ROOT/source/@ASSIGNMENT_FILE@"
VISIBILITY=@VISIBILITY@
ISOLATION=@ISOLATION@
SUBMISSION=@SUBMISSION@
export GRADER_COURSE_SALT=@SALT@
@PACKS@

if [[ -n "${GRADER_PYTHON:-}" ]]; then
  PYTHON="$GRADER_PYTHON"
elif [[ -s "$ROOT/source/grader-python" ]]; then
  PYTHON="$(cat "$ROOT/source/grader-python")"
else
  PYTHON=python3
fi

mkdir -p "$ROOT/results"
rm -f "$RESULTS"

# A results.json with score 0 and a message, for when the grader itself cannot report.
write_failure() {
  "$PYTHON" - "$RESULTS" "$1" "$VISIBILITY" 2>/dev/null <<'PY' && return 0
import json, sys
path, message, visibility = sys.argv[1:4]
result = {"score": 0, "output": message, "visibility": visibility,
          "stdout_visibility": "hidden", "tests": []}
with open(path, "w", encoding="utf-8") as file:
    json.dump(result, file, indent=2)
PY
  printf '{"score": 0, "output": "%s", "tests": []}\n' \
    "The autograder failed; please tell course staff." >"$RESULTS"
}

# The first top-level file matching $1 in name order, skipping links.
first_file() {
  local file
  shopt -s nullglob nocaseglob
  for file in "$SUBMISSION_DIR"/$1; do
    if [[ -f "$file" && ! -L "$file" ]]; then
      shopt -u nullglob nocaseglob
      printf '%s' "$file"
      return 0
    fi
  done
  shopt -u nullglob nocaseglob
  return 1
}

case "$SUBMISSION" in
  auto) TARGET="$(first_file '*.ipynb' || first_file '*.py' || printf '%s' "$SUBMISSION_DIR")" ;;
  folder) TARGET="$SUBMISSION_DIR" ;;
  *) TARGET="$SUBMISSION_DIR/$SUBMISSION" ;;
esac

echo "run_autograder: grading $TARGET"
if [[ ! -e "$TARGET" ]]; then
  write_failure "No file named $SUBMISSION was found in your submission: \
please submit it under exactly that name."
  exit 0
fi

# The student id (the emails in submission_metadata.json) seeds the instances, with the
# course salt, as `grader grade --student` does. When the metadata is missing or names no
# student, the grader says so in the report and on stderr (the log).
cd "$ROOT" || exit 1
"$PYTHON" -m grader grade "$TARGET" --assignment "$ASSIGNMENT" \
  --gradescope-metadata "$ROOT/submission_metadata.json" \
  --gradescope "$RESULTS" --gradescope-visibility "$VISIBILITY" --isolation "$ISOLATION"
STATUS=$?
if [[ $STATUS -ne 0 || ! -s "$RESULTS" ]]; then
  echo "run_autograder: the grader failed (exit status $STATUS)" >&2
  write_failure "The autograder could not grade this submission (internal error, \
exit status $STATUS). Please tell course staff."
fi
exit 0
"""
