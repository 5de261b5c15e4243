"""`make translate`: template.yaml must translate with aws-sam-translator, as `sam deploy` would do it,
and the translated functions and routes must carry what production needs.

Runs in the tools virtualenv (.venv-tools): the translator pins pydantic below the layer's version.
Local paths are replaced by S3 locations first, as `sam package` does.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_BUCKET = "eduautismo-package-check"
# Health, and the email unsubscribe link (RFC 8058: no login, the signed token is the credential).
UNAUTHENTICATED_ROUTES = {
    ("/api/v1/health", "get"),
    ("/api/v1/email/unsubscribe", "get"),
    ("/api/v1/email/unsubscribe", "post"),
}
# What SAM attaches itself; the translator only needs the names to resolve to ARNs.
AWS_MANAGED_POLICIES = {
    "AWSLambdaBasicExecutionRole": "service-role/AWSLambdaBasicExecutionRole",
    "AWSLambdaVPCAccessExecutionRole": "service-role/AWSLambdaVPCAccessExecutionRole",
    "AWSXrayWriteOnlyAccess": "AWSXrayWriteOnlyAccess",
    "AWSLambdaRole": "service-role/AWSLambdaRole",
}
FUNCTION_ENVIRONMENT = ("DATABASE_SECRET_ARN", "DATABASE_HOST", "DATABASE_SSL", "REDIS_URL", "EXPORT_BUCKET")


class OfflinePolicyLoader(ManagedPolicyLoader):
    def __init__(self) -> None:
        super().__init__(iam_client=None)

    def load(self) -> dict[str, str]:
        return {name: f"arn:aws:iam::aws:policy/{path}" for name, path in AWS_MANAGED_POLICIES.items()}


def packaged(template: dict[str, Any]) -> dict[str, Any]:
    for name, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function":
            properties["CodeUri"] = f"s3://{PACKAGE_BUCKET}/{name}.zip"
        elif resource["Type"] == "AWS::Serverless::LayerVersion":
            properties["ContentUri"] = f"s3://{PACKAGE_BUCKET}/{name}.zip"
        elif resource["Type"] == "AWS::Serverless::Application" and isinstance(properties["Location"], str):
            if not (ROOT / properties["Location"]).is_file():
                raise SystemExit(f"{name}: nested template {properties['Location']} does not exist")
            properties["Location"] = f"https://{PACKAGE_BUCKET}.s3.amazonaws.com/{name}.template"
    return template


def problems(translated: dict[str, Any]) -> list[str]:
    found = []
    resources = translated["Resources"]
    for name, resource in resources.items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        properties = resource["Properties"]
        for required in ("VpcConfig", "KmsKeyArn", "DeadLetterConfig", "Layers", "TracingConfig"):
            if required not in properties:
                found.append(f"{name}: no {required}")
        variables = properties.get("Environment", {}).get("Variables", {})
        for variable in (
            "DATABASE_SECRET_ARN",
            "DATABASE_HOST",
            "DATABASE_SSL",
            "REDIS_URL",
            "EXPORT_BUCKET",
        ):
            if variable not in variables:
                found.append(f"{name}: no {variable} in its environment")
    for name, resource in resources.items():
        if resource["Type"] != "AWS::ApiGatewayV2::Api":
            continue
        for path, methods in resource["Properties"]["Body"]["paths"].items():
            for method, operation in methods.items():
                # SAM writes Authorizer: NONE as security [{"NONE": []}].
                schemes = {scheme for entry in operation.get("security", []) for scheme in entry}
                secured = schemes == {"CognitoJwt"}
                if secured == ((path, method) in UNAUTHENTICATED_ROUTES):
                    found.append(
                        f"{name}: {method.upper()} {path} {'has' if secured else 'lacks'} the JWT authorizer"
                    )
    return found


def main() -> int:
    os.environ.setdefault("AWS_DEFAULT_REGION", "sa-east-1")  # the translator reads the pseudo-parameters
    template = packaged(yaml_parse((ROOT / "template.yaml").read_text(encoding="utf-8")))
    translated = transform(template, {"AWS::Region": "sa-east-1"}, OfflinePolicyLoader())
    issues = problems(translated)
    for issue in issues:
        print(issue, file=sys.stderr)
    counts: dict[str, int] = {}
    for resource in translated["Resources"].values():
        counts[resource["Type"]] = counts.get(resource["Type"], 0) + 1
    print(
        json.dumps(
            {"translated": "template.yaml", "problems": len(issues), "resources": counts}, sort_keys=True
        )
    )
    return 1 if issues else 0


if __name__ == "__main__":
    sys.exit(main())
