"""A TextArea that highlights JSON without crashing the process.

Textual's bundled `json.scm` highlight query ends with a `((escape_sequence) @conceal
(#eq? ...) (#set! ...))` pattern. With tree-sitter 0.26.1 (the version installed here),
compiling that query corrupts the heap and the app dies with a segmentation fault soon after
(reproduced outside Textual with `tree_sitter.Query` alone). TextArea ignores `conceal`
captures anyway, so this query is Textual's own minus those patterns, registered under the
name "json" for each instance.
"""

from __future__ import annotations

from typing import Any

from textual.widgets import TextArea

JSON_HIGHLIGHT_QUERY = """
[
 (true)
 (false)
] @boolean

(null) @json.null

(number) @number

(pair key: (string) @json.label)
(pair value: (string) @string)

(array (string) @string)

(string_content) @spell

(ERROR) @json.error

["," ":"] @punctuation.delimiter

[
 "[" "]"
 "{" "}"
] @punctuation.bracket

(escape_sequence) @string.escape
"""


class PolicyJsonArea(TextArea):
    """`TextArea(language="json")`, safely. Read-only unless told otherwise."""

    def __init__(self, text: str = "", *, read_only: bool = True, **kwargs: Any) -> None:
        kwargs.pop("language", None)
        super().__init__(text, read_only=read_only, **kwargs)
        from textual._tree_sitter import get_language

        json_language = get_language("json")
        if json_language is not None:  # None when textual[syntax] is not installed: plain text then
            self.register_language("json", json_language, JSON_HIGHLIGHT_QUERY)
            self.language = "json"
