"""template.yaml: every function and the layer on arm64; every API function with SnapStart on its
published versions behind an alias, switched by the EnableSnapStart parameter."""

from __future__ import annotations

from eduautismo_local.template_routes import functions, load_template


def test_every_function_and_the_layer_run_on_arm64() -> None:
    template = load_template()
    assert template["Globals"]["Function"]["Architectures"] == ["arm64"]
    assert all("Architectures" not in properties for properties in functions(template).values())
    layer = template["Resources"]["SharedLayer"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    assert layer["Metadata"]["BuildArchitecture"] == "arm64"


def test_api_functions_use_snapstart_behind_an_alias_unless_the_parameter_turns_it_off() -> None:
    template = load_template()
    assert template["Parameters"]["EnableSnapStart"]["Default"] == "true"
    assert template["Conditions"]["SnapStartEnabled"] == {"Equals": [{"Ref": "EnableSnapStart"}, "true"]}
    for name, properties in functions(template).items():
        events = (properties.get("Events") or {}).values()
        if not any(event["Type"] == "HttpApi" for event in events):
            assert "SnapStart" not in properties, name  # billed per version: API functions only
            continue
        assert properties["AutoPublishAlias"] == "live", name
        assert properties["SnapStart"] == {
            "ApplyOn": {"If": ["SnapStartEnabled", "PublishedVersions", "None"]}
        }, name
