"""Recognise, without nbformat, a notebook that nbformat would certainly accept.

Importing nbformat costs about 60 ms (mostly jsonschema) and its first validation about
27 ms more (compiling the schema): a fifth of `grader check notebook.ipynb`. Most submitted
notebooks were saved by Jupyter or Colab and are valid, so `certainly_valid_v4`
recognises such a notebook from its parsed JSON and the loader can skip nbformat.

The rules mirror nbformat's schemas `v4/nbformat.v4.{0..5}.schema.json` and the extra
checks of `nbformat/validator.py`, conservatively: True means `nbformat.validate` accepts
the notebook; False only means "not sure", and nbformat, which remains the authority, then
decides. Anything not modelled here answers False: another major version, a minor version
newer than 5 (nbformat relaxes its schema for those), unknown cell or output types, and
v4.5 cells whose id is missing or repeated (nbformat repairs those with a warning).
Minor versions 0 to 3 are checked with the v4.4 rules: each older schema accepts
everything v4.4 accepts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from typing import Any

SUPPORTED_MINOR_VERSIONS = range(6)
"""nbformat 4 minor versions recognised here; cell ids appear with minor version 5."""

_FIRST_MINOR_WITH_CELL_IDS = 5

_CELL_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_JSON_MIMETYPE = re.compile(r"application/(.*\+)?json")

_Rule = Callable[[Any], bool]


# ----------------------------------------------------------------- JSON types


def _is_int(value: Any) -> bool:
    """A JSON integer; `True` parses to a Python int but is not one for jsonschema."""
    return type(value) is int


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_object(value: Any) -> bool:
    return isinstance(value, dict)


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _is_multiline_string(value: Any) -> bool:
    return isinstance(value, str) or _is_str_list(value)


def _is_execution_count(value: Any) -> bool:
    return value is None or (_is_int(value) and value >= 0)


def _has_keys(obj: dict[str, Any], required: Collection[str], optional: Collection[str]) -> bool:
    """All `required` keys are present and no key outside `required` and `optional`."""
    return all(key in obj for key in required) and all(
        key in required or key in optional for key in obj
    )


def _follows(obj: Any, rules: dict[str, _Rule]) -> bool:
    """An object whose keys named in `rules` satisfy them; other keys may hold anything."""
    return isinstance(obj, dict) and all(
        rule(obj[key]) for key, rule in rules.items() if key in obj
    )


# -------------------------------------------------------------------- notebook

_NOTEBOOK_KEYS = ("metadata", "nbformat_minor", "nbformat", "cells")


def certainly_valid_v4(raw: Any) -> bool:
    """True only when `nbformat.validate` accepts this parsed notebook JSON as it is."""
    if not isinstance(raw, dict) or not _has_keys(raw, _NOTEBOOK_KEYS, ()):
        return False
    major, minor, cells = raw["nbformat"], raw["nbformat_minor"], raw["cells"]
    if not (_is_int(major) and major == 4 and _is_int(minor)):
        return False
    if minor not in SUPPORTED_MINOR_VERSIONS or not isinstance(cells, list):
        return False
    with_ids = minor >= _FIRST_MINOR_WITH_CELL_IDS
    return (
        _follows(raw["metadata"], _NOTEBOOK_METADATA)
        and all(_is_cell(cell, with_ids) for cell in cells)
        and (not with_ids or _cell_ids_are_unique(cells))
    )


def _is_kernelspec(value: Any) -> bool:
    return _is_object(value) and _is_str(value.get("name")) and _is_str(value.get("display_name"))


def _is_codemirror_mode(value: Any) -> bool:
    return _is_str(value) or _is_object(value)


_LANGUAGE_INFO: dict[str, _Rule] = {
    "codemirror_mode": _is_codemirror_mode,
    "file_extension": _is_str,
    "mimetype": _is_str,
    "pygments_lexer": _is_str,
}


def _is_language_info(value: Any) -> bool:
    return _follows(value, _LANGUAGE_INFO) and _is_str(value.get("name"))


def _is_orig_nbformat(value: Any) -> bool:
    return _is_int(value) and value >= 1


_NOTEBOOK_METADATA: dict[str, _Rule] = {
    "kernelspec": _is_kernelspec,
    "language_info": _is_language_info,
    "orig_nbformat": _is_orig_nbformat,
    "title": _is_str,
    "authors": lambda value: isinstance(value, list),
}


# ----------------------------------------------------------------------- cells


def _is_cell_name(value: Any) -> bool:
    """Schema: a string matching `^.+$`; a newline anywhere is refused to stay safe."""
    return isinstance(value, str) and value != "" and "\n" not in value


def _is_tag_list(value: Any) -> bool:
    """Unique, non-empty strings without commas."""
    return (
        _is_str_list(value)
        and all(tag and "," not in tag for tag in value)
        and len(set(value)) == len(value)
    )


def _is_execution_times(value: Any) -> bool:
    return _is_object(value) and all(isinstance(time, str) for time in value.values())


def _is_scrolled(value: Any) -> bool:
    return isinstance(value, bool) or value == "auto"


_COMMON_CELL_METADATA: dict[str, _Rule] = {
    "name": _is_cell_name,
    "tags": _is_tag_list,
    "jupyter": _is_object,
}

_CELL_METADATA: dict[str, dict[str, _Rule]] = {
    "raw": {**_COMMON_CELL_METADATA, "format": _is_str},
    "markdown": _COMMON_CELL_METADATA,
    "code": {
        **_COMMON_CELL_METADATA,
        "execution": _is_execution_times,
        "collapsed": _is_bool,
        "scrolled": _is_scrolled,
    },
}

_CELL_REQUIRED_KEYS: dict[str, tuple[str, ...]] = {
    "raw": ("cell_type", "metadata", "source"),
    "markdown": ("cell_type", "metadata", "source"),
    "code": ("cell_type", "metadata", "source", "outputs", "execution_count"),
}

_CELL_OPTIONAL_KEYS: dict[str, tuple[str, ...]] = {
    "raw": ("attachments",),
    "markdown": ("attachments",),
    "code": (),
}


def _is_cell(cell: Any, with_ids: bool) -> bool:
    if not isinstance(cell, dict):
        return False
    cell_type = cell.get("cell_type")
    if not isinstance(cell_type, str) or cell_type not in _CELL_REQUIRED_KEYS:
        return False
    required = _CELL_REQUIRED_KEYS[cell_type] + (("id",) if with_ids else ())
    return (
        _has_keys(cell, required, _CELL_OPTIONAL_KEYS[cell_type])
        and (not with_ids or _is_cell_id(cell["id"]))
        and _follows(cell["metadata"], _CELL_METADATA[cell_type])
        and _is_multiline_string(cell["source"])
        and ("attachments" not in cell or _is_attachments(cell["attachments"]))
        and (cell_type != "code" or _has_valid_outputs(cell))
    )


def _is_cell_id(value: Any) -> bool:
    return isinstance(value, str) and _CELL_ID.fullmatch(value) is not None


def _cell_ids_are_unique(cells: list[dict[str, Any]]) -> bool:
    ids = [cell["id"] for cell in cells]
    return len(set(ids)) == len(ids)


def _is_attachments(value: Any) -> bool:
    return _is_object(value) and all(_is_mimebundle(bundle) for bundle in value.values())


def _has_valid_outputs(cell: dict[str, Any]) -> bool:
    outputs = cell["outputs"]
    return (
        _is_execution_count(cell["execution_count"])
        and isinstance(outputs, list)
        and all(_is_output(output) for output in outputs)
    )


# --------------------------------------------------------------------- outputs


def _is_mimebundle(value: Any) -> bool:
    """Text for every mimetype, except JSON mimetypes, which may hold any JSON value."""
    return _is_object(value) and all(
        _is_multiline_string(data) or _JSON_MIMETYPE.fullmatch(mimetype) is not None
        for mimetype, data in value.items()
    )


_OUTPUT_FIELDS: dict[str, dict[str, _Rule]] = {
    "execute_result": {
        "data": _is_mimebundle,
        "metadata": _is_object,
        "execution_count": _is_execution_count,
    },
    "display_data": {"data": _is_mimebundle, "metadata": _is_object},
    "stream": {"name": _is_str, "text": _is_multiline_string},
    "error": {"ename": _is_str, "evalue": _is_str, "traceback": _is_str_list},
}
"""Every field of each output type; all are required and no other key is allowed."""


def _is_output(output: Any) -> bool:
    if not isinstance(output, dict) or not isinstance(output.get("output_type"), str):
        return False
    fields = _OUTPUT_FIELDS.get(output["output_type"])
    return (
        fields is not None
        and len(output) == len(fields) + 1
        and all(key in output and rule(output[key]) for key, rule in fields.items())
    )
