"""template.yaml and its nested stacks hold together: every function is wired for production (policy,
encrypted log group with retention, alarms), the environment names real settings, nested stacks get
the parameters they declare, and samconfig.toml deploys dev and prod to sa-east-1."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path
from typing import Any

from eduautismo.settings import Settings
from eduautismo_local.template_routes import PROJECT_ROOT, functions, http_routes, load_template

RUNTIME_POLICY = {"Ref": "FunctionRuntimePolicy"}
DATA_KEY = {"GetAtt": "Security.Outputs.DataKeyArn"}


def _resources() -> dict[str, Any]:
    return load_template()["Resources"]  # type: ignore[no-any-return]


def test_every_function_has_the_runtime_policy_an_encrypted_log_group_and_alarms() -> None:
    # Given every function of the template (this test fails when a new one is not wired)
    resources = _resources()
    missing = []
    for name, properties in functions(load_template()).items():
        # Then it reads the credentials through the shared least-privilege policy
        if RUNTIME_POLICY not in properties.get("Policies", []):
            missing.append(f"{name}: Policies lacks !Ref FunctionRuntimePolicy")
        # And its log group keeps logs for LogRetentionDays, encrypted with the stack key
        log_group = resources.get(f"{name}LogGroup", {}).get("Properties", {})
        if log_group.get("LogGroupName") != {"Sub": f"/aws/lambda/${{{name}}}"}:
            missing.append(f"{name}: no {name}LogGroup named /aws/lambda/${{{name}}}")
        elif (
            log_group.get("RetentionInDays") != {"Ref": "LogRetentionDays"}
            or log_group.get("KmsKeyId") != DATA_KEY
        ):
            missing.append(f"{name}LogGroup: RetentionInDays !Ref LogRetentionDays and KmsKeyId {DATA_KEY}")
        # And its errors and throttles raise alarms
        alarms = resources.get(f"{name}Alarms", {}).get("Properties", {})
        if alarms.get("Location") != "infra/stacks/function-alarms.yaml" or alarms.get("Parameters", {}).get(
            "FunctionName"
        ) != {"Ref": name}:
            missing.append(f"{name}: no {name}Alarms stack (infra/stacks/function-alarms.yaml)")
    assert missing == []


def test_no_function_gets_bucket_wide_s3_access() -> None:
    # The exports functions get the ExportObjectsPolicy (Put/Get on exports/*), never a CRUD policy
    for name, properties in functions(load_template()).items():
        for policy in properties.get("Policies", []):
            assert not (isinstance(policy, dict) and any(key.startswith("S3") for key in policy)), name
            assert "S3FullAccess" not in str(policy), name


def test_the_function_environment_names_real_settings() -> None:
    # Given the variables every function gets from Globals
    variables = load_template()["Globals"]["Function"]["Environment"]["Variables"]
    settings = {field.name.upper() for field in dataclasses.fields(Settings)} | {"AWS_REGION"}
    # Then each one (but Powertools' own) is a field of Settings, so none is silently ignored
    unknown = {name for name in variables if not name.startswith("POWERTOOLS_")} - settings
    assert unknown == set()
    assert variables["DATABASE_SSL"] == "true"


def test_nested_stacks_get_exactly_the_parameters_their_templates_declare() -> None:
    for name, resource in _resources().items():
        if resource["Type"] != "AWS::Serverless::Application":
            continue
        location = PROJECT_ROOT / resource["Properties"]["Location"]
        # Given the nested template the stack points at
        assert location.is_file(), name
        declared = load_template(location)["Parameters"]
        given = set(resource["Properties"].get("Parameters", {}))
        # Then every required parameter is given and none is unknown
        required = {parameter for parameter, spec in declared.items() if "Default" not in spec}
        assert required <= given <= set(declared), name


def test_only_health_and_the_unsubscribe_link_are_reachable_without_a_token() -> None:
    template = load_template()
    assert template["Resources"]["HttpApi"]["Properties"]["Auth"]["DefaultAuthorizer"] == "CognitoJwt"
    assert sorted(route.route_key for route in http_routes() if not route.authorized) == [
        "GET /api/v1/email/unsubscribe",
        "GET /api/v1/health",
        "POST /api/v1/email/unsubscribe",
    ]


def test_cognito_confirmation_and_deploys_run_the_helper_functions() -> None:
    resources = _resources()
    # The post-confirmation trigger provisions users, and Cognito may invoke it
    assert resources["UserPool"]["Properties"]["LambdaConfig"]["PostConfirmation"] == {
        "GetAtt": "ProvisioningFunction.Arn"
    }
    permission = resources["ProvisioningFunctionCognitoPermission"]["Properties"]
    assert (permission["Principal"], permission["SourceArn"]) == (
        "cognito-idp.amazonaws.com",
        {"GetAtt": "UserPool.Arn"},
    )
    # The migrations run whenever a new layer version is deployed
    migrations = resources["SchemaMigrations"]["Properties"]
    assert migrations["ServiceToken"] == {"GetAtt": "MigrationsFunction.Arn"}
    assert migrations["SharedLayerVersion"] == {"Ref": "SharedLayer"}


def test_samconfig_deploys_dev_and_prod_to_sao_paulo_with_nested_stacks() -> None:
    config = tomllib.loads((PROJECT_ROOT / "samconfig.toml").read_text(encoding="utf-8"))
    for environment in ("dev", "prod"):
        deploy = config[environment]["deploy"]["parameters"]
        assert deploy["region"] == "sa-east-1"
        assert {"CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"} <= set(deploy["capabilities"].split())
        assert f"Stage={environment}" in deploy["parameter_overrides"]
        # And every override names a parameter of template.yaml
        parameters = load_template()["Parameters"]
        assert {override.split("=", 1)[0] for override in deploy["parameter_overrides"]} <= set(parameters)


def test_the_templates_checked_by_make_check_are_all_the_nested_ones() -> None:
    nested = {
        resource["Properties"]["Location"]
        for resource in _resources().values()
        if resource["Type"] == "AWS::Serverless::Application"
    }
    on_disk = {
        str(path.relative_to(PROJECT_ROOT)) for path in Path(PROJECT_ROOT, "infra", "stacks").glob("*.yaml")
    }
    assert nested == on_disk
