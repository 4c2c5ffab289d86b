"""Plain metadata renders as the Dagster values the UI shows."""

from dagster import MetadataValue, TableSchema

from assets.metadata import render


def test_each_plain_type_becomes_its_dagster_value():
    rendered = render(
        {
            "rows": {"raw_value": 3, "type": "int"},
            "link": {"raw_value": "http://h/x", "type": "url"},
            "plan": {"raw_value": "```\nplan\n```", "type": "md"},
            "where": {"raw_value": "/tmp/t", "type": "path"},
            "schema": {
                "raw_value": {"columns": [{"name": "a", "type": "int"}]},
                "type": "table_schema",
            },
            "any": {"raw_value": 1.5, "type": "__infer__"},
        }
    )
    assert rendered["rows"] == 3 and rendered["any"] == 1.5
    assert rendered["link"] == MetadataValue.url("http://h/x")
    assert rendered["plan"] == MetadataValue.md("```\nplan\n```")
    assert rendered["where"] == MetadataValue.path("/tmp/t")
    assert isinstance(rendered["schema"], TableSchema)
    assert [(c.name, c.type) for c in rendered["schema"].columns] == [("a", "int")]
