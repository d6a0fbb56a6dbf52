"""Errors meant for people: each names the field, the value and what would be valid."""

from __future__ import annotations


class InputError(ValueError):
    """Bad input from a person. Shells show `str(error)` and exit 2 (CLI) or answer 422 (API)."""

    def __init__(
        self,
        field: str,
        reason: str,
        *,
        value: object = None,
        allowed: str | None = None,
        line: int | None = None,
    ) -> None:
        self.field = field
        self.reason = reason
        self.value = value
        self.allowed = allowed
        self.line = line
        super().__init__(self._compose())

    def _compose(self) -> str:
        where = f"line {self.line}, " if self.line is not None else ""
        text = f"{where}{self.field}: {self.reason}"
        if self.value is not None:
            text += f" (got {self.value!r})"
        if self.allowed:
            text += f"; {self.allowed}"
        return text

    def as_dict(self) -> dict[str, object]:
        return {
            "field": self.field,
            "reason": self.reason,
            "value": self.value,
            "allowed": self.allowed,
            "line": self.line,
        }
