"""SQL text made from values: the one place string literals and identifiers are quoted.

Spark SQL reads a backslash in a string literal as an escape, so both the quote and the
backslash are escaped; an identifier doubles its backticks.
"""


def string_literal(text: str) -> str:
    """``text`` as a Spark SQL string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def identifier(name: str) -> str:
    """``name`` as a quoted Spark SQL identifier (a column, or a table path after ``delta.``)."""
    return "`" + name.replace("`", "``") + "`"
