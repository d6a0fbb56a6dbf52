"""Read a YAML or JSON document (a label, a profile) into a model, with line numbers in errors.

JSON is read by the YAML parser too (YAML 1.2 is a superset in practice for such files), so
both kinds of file get the same line-precise messages.
"""

from __future__ import annotations

from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from mgsleep.errors import InputError

M = TypeVar("M", bound=BaseModel)


# A label or profile is a few levels deep; much deeper is an attack on the parser's stack.
MAX_DEPTH = 20


def _refuse_bombs(text: str) -> None:
    """Aliases (the YAML "billion laughs") and deep nesting are refused before loading."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            mark = event.start_mark
            raise InputError(
                "document",
                "aliases (*name) are not accepted",
                line=None if mark is None else mark.line + 1,
            )
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise InputError("document", f"nested more than {MAX_DEPTH} levels deep")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def parse_document(text: str, model: type[M]) -> M:
    """Parse `text` into `model`; any problem becomes an InputError naming line and field."""
    try:
        _refuse_bombs(text)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = None if mark is None else mark.line + 1
        reason = getattr(error, "problem", None) or str(error)
        raise InputError("document", f"not valid YAML or JSON: {reason}", line=line) from error
    if not isinstance(data, dict):
        raise InputError("document", "expected a mapping of fields", value=type(data).__name__)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise _first_problem(error, node) from error


def _first_problem(error: ValidationError, node: yaml.Node | None) -> InputError:
    problems = error.errors()
    problem = problems[0]
    location = tuple(problem["loc"])
    field = ".".join(str(part) for part in location) or "document"
    reason = problem["msg"].removeprefix("Value error, ")
    if problem["type"] == "extra_forbidden":
        unknown = [
            ".".join(str(part) for part in p["loc"])
            for p in problems
            if p["type"] == "extra_forbidden"
        ]
        reason = "unknown field" if len(unknown) == 1 else "unknown fields: " + ", ".join(unknown)
    value = problem.get("input") if problem["type"] != "missing" else None
    if isinstance(value, dict | list):
        value = None
    return InputError(field, reason, value=value, line=_line_of(node, location))


def _line_of(node: yaml.Node | None, location: tuple[Any, ...]) -> int | None:
    """Walk the composed node tree along a pydantic location; the deepest line found wins."""
    line = None if node is None else node.start_mark.line + 1
    for part in location:
        if isinstance(node, yaml.MappingNode):
            match = next(
                ((k, v) for k, v in node.value if getattr(k, "value", None) == str(part)), None
            )
            if match is None:
                break
            key_node, node = match
            line = key_node.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line
