"""template.yaml and the functions agree: the same routes, handlers that import, unique module names."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import defaultdict

from eduautismo_local.template_routes import PROJECT_ROOT, functions, http_routes, load_module, load_template


def test_template_routes_equal_the_routes_each_function_registers() -> None:
    # Given the routes template.yaml sends to each function
    declared: defaultdict[str, set[str]] = defaultdict(set)
    sources = {}
    for route in http_routes():
        declared[route.function].add(f"{route.method}{route.path}")
        sources[route.function] = (route.code_uri, route.handler)
    # When each function's resolver is imported
    for function, (code_uri, handler) in sources.items():
        app = load_module(code_uri, handler).app
        # Powertools spells a path parameter <name>; API Gateway spells it {name}.
        registered = {re.sub(r"<(\w+)>", r"{\1}", key) for key in app._route_keys}
        # Then it registers exactly those routes
        assert registered == declared[function], function


def test_every_handler_resolves_to_a_callable_and_module_names_are_unique() -> None:
    module_names = []
    for properties in functions(load_template()).values():
        module_name, attribute = properties["Handler"].rsplit(".", 1)
        module_names.append(module_name)
        assert callable(getattr(load_module(properties["CodeUri"], properties["Handler"]), attribute))
    assert len(module_names) == len(set(module_names))


def test_literal_routes_win_over_parameters() -> None:
    routes = http_routes()
    assert list(routes) == sorted(routes, key=lambda route: route.specificity)


def test_handler_modules_import_without_settings_or_connections() -> None:
    # Given no database or cache configuration at all (nothing may read settings or connect at import)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "DATABASE_SECRET_ARN")
    }
    env["ENVIRONMENT"] = "not-a-valid-environment"  # reading settings at import would raise
    for properties in functions(load_template()).values():
        module_name = properties["Handler"].rsplit(".", 1)[0]
        code_dir = str(PROJECT_ROOT / properties["CodeUri"])
        # When each handler module is imported in a fresh interpreter
        result = subprocess.run(
            [sys.executable, "-c", f"import sys; sys.path.insert(0, {code_dir!r}); import {module_name}"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        # Then the import succeeds
        assert result.returncode == 0, (module_name, result.stderr[-2000:])
