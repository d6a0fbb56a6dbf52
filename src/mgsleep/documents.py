"""Read a YAML or JSON document (a label, a profile) into a model, with line numbers in errors.

JSON is read by the YAML parser too (YAML 1.2 is a superset in practice for such files), so
both kinds of file get the same line-precise messages.
"""

from __future__ import annotations

import typing
from dataclasses import replace
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from mgsleep.errors import InputError, problems_from
from mgsleep.names import closest

# libyaml's parser where it is built in (about ten times faster), else the pure-Python one.
Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

M = TypeVar("M", bound=BaseModel)


# A label or profile is a few levels deep; much deeper is an attack on the parser's stack.
MAX_DEPTH = 20


def _refuse_bombs(text: str) -> None:
    """Aliases (the YAML "billion laughs") and deep nesting are refused before loading."""
    depth = 0
    for event in yaml.parse(text, Loader=Loader):
        if isinstance(event, yaml.AliasEvent):
            mark = event.start_mark
            raise InputError("document", "yaml_alias", line=None if mark is None else mark.line + 1)
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise InputError("document", "too_deep", depth=MAX_DEPTH)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def parse_document(text: str, model: type[M]) -> M:
    """Parse `text` into `model`; any problem becomes an InputError naming line and field."""
    try:
        _refuse_bombs(text)
        node = yaml.compose(text, Loader=Loader)
        data = yaml.load(text, Loader=Loader)  # noqa: S506 - Loader is a SafeLoader
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = None if mark is None else mark.line + 1
        reason = getattr(error, "problem", None) or str(error)
        raise InputError(
            "document", "not_a_document", line=line, detail=f"not valid YAML or JSON: {reason}"
        ) from error
    if not isinstance(data, dict):
        raise InputError("document", "not_a_mapping", value=type(data).__name__)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise _first_problem(error, node, model) from error


def _first_problem(
    error: ValidationError, node: yaml.Node | None, model: type[BaseModel]
) -> InputError:
    # A misspelt key first: it usually explains the "missing" error of the key meant.
    first = min(error.errors(), key=lambda item: item["type"] != "extra_forbidden")
    location = tuple(first["loc"])
    found = problems_from([first])[0]
    found = replace(found, field=found.field or "document", line=_line_of(node, location))
    unknown = [p for p in error.errors() if p["type"] == "extra_forbidden"]
    if len(unknown) > 1:
        names = ", ".join(".".join(str(part) for part in p["loc"]) for p in unknown)
        return InputError("document", "unknown_fields", line=found.line, names=names)
    if unknown:
        close = closest(_field_names(model, location[:-1]), str(location[-1]))
        if close:
            found = replace(found, code="unknown_field_close", params={"closest": close[0]})
        # The value of a key that should not be there says nothing about what was meant.
        return InputError.of(found)
    value = first.get("input") if first["type"] != "missing" else None
    if isinstance(value, dict | list):
        value = None
    return InputError.of(found, value=value)


def _field_names(model: type[BaseModel], location: tuple[Any, ...]) -> list[str]:
    """The fields the model allows at `location` (a list index steps into the item type)."""
    current: Any = model
    for part in location:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", {})
        if part not in fields:
            return []
        current = _model_in(fields[part].annotation)
    return list(getattr(current, "model_fields", {}))


def _model_in(annotation: Any) -> Any:
    """The model inside list[X], X | None and the like."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in typing.get_args(annotation):
        inner = _model_in(argument)
        if inner is not None:
            return inner
    return None


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
