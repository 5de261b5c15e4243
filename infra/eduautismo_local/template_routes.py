"""Reads template.yaml: which function (CodeUri + Handler) serves which HTTP API route."""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = PROJECT_ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that keeps CloudFormation's short-form intrinsics (!Ref, !Sub, ...) as plain data."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {suffix: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str
    code_uri: str
    handler: str
    authorized: bool

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def pattern(self) -> re.Pattern[str]:
        regex = re.sub(r"\\\{([A-Za-z0-9_]+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path))
        return re.compile(f"^{regex}$")

    @property
    def specificity(self) -> tuple[int, int]:
        """API Gateway prefers literal segments over {parameters}."""
        return (self.path.count("{"), -len(self.path))


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: resource["Properties"]
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


@lru_cache(maxsize=1)
def http_routes(path: Path = TEMPLATE_PATH) -> tuple[Route, ...]:
    template = load_template(path)
    routes = []
    for name, properties in functions(template).items():
        for event in (properties.get("Events") or {}).values():
            if event["Type"] != "HttpApi":
                continue
            event_properties = event["Properties"]
            auth = (event_properties.get("Auth") or {}).get("Authorizer")
            routes.append(
                Route(
                    method=event_properties["Method"].upper(),
                    path=event_properties["Path"],
                    function=name,
                    code_uri=properties["CodeUri"],
                    handler=properties["Handler"],
                    authorized=auth != "NONE",
                )
            )
    return tuple(sorted(routes, key=lambda route: route.specificity))


def match_route(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    for route in http_routes():
        if route.method != method.upper():
            continue
        found = route.pattern.match(path)
        if found:
            return route, found.groupdict()
    return None


def scheduled_function(path: Path = TEMPLATE_PATH) -> tuple[str, str] | None:
    """(CodeUri, Handler) of the function that an EventBridge schedule invokes."""
    for properties in functions(load_template(path)).values():
        for event in (properties.get("Events") or {}).values():
            if event["Type"] in ("Schedule", "ScheduleV2"):
                return properties["CodeUri"], properties["Handler"]
    return None


def event_rule_function(source: str, path: Path = TEMPLATE_PATH) -> tuple[str, str] | None:
    """(CodeUri, Handler) of the function an EventBridge rule on events of ``source`` invokes."""
    for properties in functions(load_template(path)).values():
        for event in (properties.get("Events") or {}).values():
            if event["Type"] == "EventBridgeRule" and source in event["Properties"]["Pattern"]["source"]:
                return properties["CodeUri"], properties["Handler"]
    return None


def function_source(logical_id: str, path: Path = TEMPLATE_PATH) -> tuple[str, str]:
    properties = functions(load_template(path))[logical_id]
    return properties["CodeUri"], properties["Handler"]


def load_module(code_uri: str, handler: str) -> ModuleType:
    """Import the handler's module from the function's CodeUri, as the Lambda runtime would."""
    code_dir = str((PROJECT_ROOT / code_uri).resolve())
    if code_dir not in sys.path:
        sys.path.insert(0, code_dir)
    return importlib.import_module(handler.rsplit(".", 1)[0])


def load_handler(code_uri: str, handler: str) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    return getattr(load_module(code_uri, handler), handler.rsplit(".", 1)[1])  # type: ignore[no-any-return]
