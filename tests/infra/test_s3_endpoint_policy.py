"""The S3 gateway endpoint's policy, evaluated as S3 evaluates it for requests that leave the VPC
through it: the migrations custom resource's answer (a PUT to the presigned URL of CloudFormation's
response bucket, signed by CloudFormation's own account) and the export files get through; nothing
else does."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from eduautismo_local.template_routes import PROJECT_ROOT, load_template

ACCOUNT = "111122223333"
CLOUDFORMATION_ACCOUNT = "999988887777"  # the account that signs CloudFormation's response URLs
REGION = "sa-east-1"
EXPORT_BUCKET = "eduautismo-dev-exports-111122223333"


def _resolve(value: Any, names: dict[str, str]) -> Any:
    """The intrinsic functions the policy uses (Ref, Sub, Join, Split), resolved with ``names``."""
    if isinstance(value, list):
        return [_resolve(item, names) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"}:
        return names[value["Ref"]]
    if set(value) == {"Sub"}:
        template, variables = (value["Sub"], {}) if isinstance(value["Sub"], str) else value["Sub"]
        scope = {**names, **{key: _resolve(item, names) for key, item in variables.items()}}
        return re.sub(r"\$\{([^}]+)\}", lambda match: scope[match.group(1)], template)
    if set(value) == {"Join"}:
        separator, items = value["Join"]
        return separator.join(_resolve(items, names))
    if set(value) == {"Split"}:
        separator, text = value["Split"]
        return str(_resolve(text, names)).split(separator)
    return {key: _resolve(item, names) for key, item in value.items()}


@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    principal_account: str


def _listed(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]


def _conditions_hold(conditions: dict[str, dict[str, Any]], context: dict[str, str]) -> bool:
    for operator, tests in conditions.items():
        if operator != "StringEquals":
            raise AssertionError(f"the evaluator does not know the condition operator {operator}")
        for key, expected in tests.items():
            if context.get(key) not in _listed(expected):
                return False
    return True


def _wildcard(patterns: Any, value: str) -> bool:
    """IAM matching: * any run of characters, ? one character, everything else literal."""
    for pattern in _listed(patterns):
        expression = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
        if re.fullmatch(expression, value):
            return True
    return False


def _matches(statement: dict[str, Any], request: Request) -> bool:
    if statement.get("Principal") != "*":
        raise AssertionError("an endpoint policy statement names its principals as *")
    context = {"aws:PrincipalAccount": request.principal_account}
    return (
        _wildcard(statement["Action"], request.action)
        and _wildcard(statement["Resource"], request.resource)
        and _conditions_hold(statement.get("Condition", {}), context)
    )


def allowed(policy: dict[str, Any], request: Request) -> bool:
    """An explicit Deny wins, else an Allow that matches, else the implicit deny."""
    statements = policy["Statement"]
    if any(s["Effect"] == "Deny" and _matches(s, request) for s in statements):
        return False
    return any(s["Effect"] == "Allow" and _matches(s, request) for s in statements)


def _endpoint_policy() -> dict[str, Any]:
    network = load_template(PROJECT_ROOT / "infra/stacks/network.yaml")["Resources"]
    names = {
        "AWS::Partition": "aws",
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT,
        "ExportBucketName": EXPORT_BUCKET,
    }
    return _resolve(network["S3GatewayEndpoint"]["Properties"]["PolicyDocument"], names)  # type: ignore[no-any-return]


RESPONSE_OBJECT = (
    "arn:aws:s3:::cloudformation-custom-resource-response-saeast1/"
    "arn%3Aaws%3Acloudformation%3Asa-east-1%3A111122223333%3Astack/eduautismo-planos-dev/abc%7CSchemaMigrations%7Cid"
)
EXPORT_OBJECT = f"arn:aws:s3:::{EXPORT_BUCKET}/exports/org/job.xlsx"


def test_the_custom_resource_answer_and_the_export_files_get_through() -> None:
    policy = _endpoint_policy()
    # The migrations function's answer to CloudFormation, signed by CloudFormation's account
    assert allowed(policy, Request("s3:PutObject", RESPONSE_OBJECT, CLOUDFORMATION_ACCOUNT))
    # The export files, written, read and deleted (an erasure) by this account's functions (and a failed
    # upload aborted)
    for action in ("s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload", "s3:DeleteObject"):
        assert allowed(policy, Request(action, EXPORT_OBJECT, ACCOUNT)), action


def test_the_endpoint_policy_names_the_stacks_export_bucket() -> None:
    given = load_template()["Resources"]["Network"]["Properties"]["Parameters"]
    assert given["ExportBucketName"] == {"GetAtt": "Storage.Outputs.ExportBucketName"}


def test_nothing_else_gets_through() -> None:
    policy = _endpoint_policy()
    for request in (
        # Reading or deleting in CloudFormation's bucket, or answering another region's
        Request("s3:GetObject", RESPONSE_OBJECT, CLOUDFORMATION_ACCOUNT),
        Request("s3:DeleteObject", RESPONSE_OBJECT, CLOUDFORMATION_ACCOUNT),
        Request("s3:PutObject", RESPONSE_OBJECT.replace("saeast1", "useast1"), CLOUDFORMATION_ACCOUNT),
        # The export bucket with another account's credentials, or outside exports/
        Request("s3:PutObject", EXPORT_OBJECT, CLOUDFORMATION_ACCOUNT),
        Request("s3:DeleteObject", EXPORT_OBJECT, CLOUDFORMATION_ACCOUNT),
        Request("s3:GetObject", f"arn:aws:s3:::{EXPORT_BUCKET}/private/file", ACCOUNT),
        Request("s3:DeleteObject", f"arn:aws:s3:::{EXPORT_BUCKET}/private/file", ACCOUNT),
        # Any other bucket, as an exfiltration target
        Request("s3:PutObject", "arn:aws:s3:::attacker-bucket/exports/data.csv", ACCOUNT),
        Request("s3:PutObject", "arn:aws:s3:::cloudformation-custom-resource-response-saeast1x/f", ACCOUNT),
    ):
        assert not allowed(policy, request), request
