"""Messages from the rules: Chinese text that the web layer can also translate."""

from __future__ import annotations

from typing import Any


class Message(str):
    """A Chinese message that remembers its %-template and values for translation."""

    template: str
    values: dict[str, Any]

    def __new__(cls, template: str, **values: Any) -> Message:
        text = super().__new__(cls, template % values if values else template)
        text.template = template
        text.values = values
        return text


def N_(text: str) -> str:  # noqa: N802 - the usual name of a gettext marker
    """Mark a string for translation without translating it (for the catalog's extractor)."""
    return text
