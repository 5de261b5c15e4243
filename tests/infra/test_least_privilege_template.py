"""The production data path is least-privilege (issue 12): the functions connect with the application
login (DML only) and read only the secrets they need, the owner login is the migrations function's
alone, the health check is read-only, the PostgreSQL log never carries bound values and is encrypted
and expires, and the S3 gateway endpoint reaches the export bucket only."""

from __future__ import annotations

import dataclasses
from typing import Any

from eduautismo.settings import Settings
from eduautismo_local.template_routes import PROJECT_ROOT, functions, load_template

SECRET_POLICIES = {
    "ApplicationDatabaseSecretPolicy": {"GetAtt": "Database.Outputs.ApplicationSecretArn"},
    "HealthDatabaseSecretPolicy": {"GetAtt": "Database.Outputs.HealthSecretArn"},
    "OwnerDatabaseSecretPolicy": {"GetAtt": "Database.Outputs.OwnerSecretArn"},
    "CacheSecretPolicy": {"GetAtt": "Cache.Outputs.AuthTokenSecretArn"},
    "UnsubscribeSecretPolicy": {"Ref": "UnsubscribeSecret"},
}
# Which secrets each function may read: nothing more.
EXPECTED_SECRETS = {
    "MigrationsFunction": {
        "OwnerDatabaseSecretPolicy",
        "ApplicationDatabaseSecretPolicy",
        "HealthDatabaseSecretPolicy",
    },
    "HealthFunction": {"HealthDatabaseSecretPolicy", "CacheSecretPolicy"},
    "PlansFunction": {"ApplicationDatabaseSecretPolicy", "CacheSecretPolicy"},
    "NotificationsFunction": {"ApplicationDatabaseSecretPolicy", "CacheSecretPolicy"},
    "ExportsFunction": {"ApplicationDatabaseSecretPolicy"},
    "ExportWorkerFunction": {"ApplicationDatabaseSecretPolicy"},
    "ReportsFunction": {"ApplicationDatabaseSecretPolicy"},
    "DailyJobFunction": {"ApplicationDatabaseSecretPolicy"},
    "DigestDispatcherFunction": {"ApplicationDatabaseSecretPolicy"},
    "DigestWorkerFunction": {"ApplicationDatabaseSecretPolicy", "UnsubscribeSecretPolicy"},
    "EmailEventsFunction": {"ApplicationDatabaseSecretPolicy"},
    "EmailUnsubscribeFunction": {"ApplicationDatabaseSecretPolicy", "UnsubscribeSecretPolicy"},
    "ProvisioningFunction": {"ApplicationDatabaseSecretPolicy"},
    "IdentityEventsFunction": {"ApplicationDatabaseSecretPolicy"},
}


def _database() -> dict[str, Any]:
    return load_template(PROJECT_ROOT / "infra/stacks/database.yaml")["Resources"]  # type: ignore[no-any-return]


def _statements(resource: dict[str, Any]) -> list[dict[str, Any]]:
    return resource["Properties"]["PolicyDocument"]["Statement"]  # type: ignore[no-any-return]


def test_each_function_reads_only_the_secrets_it_needs() -> None:
    template = load_template()
    resources = template["Resources"]
    # Given the policy of each secret: one statement, GetSecretValue on that secret alone
    for name, secret in SECRET_POLICIES.items():
        assert _statements(resources[name]) == [
            {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secret}
        ], name
    # And the runtime policy every function has grants no secret at all
    assert all(
        "secretsmanager" not in str(s["Action"]) for s in _statements(resources["FunctionRuntimePolicy"])
    )
    # Then each function holds exactly the secret policies it needs (a new function must be listed here)
    functions_secrets = {
        name: {
            policy["Ref"] for policy in properties.get("Policies", []) if policy.get("Ref") in SECRET_POLICIES
        }
        for name, properties in functions(template).items()
    }
    assert functions_secrets == EXPECTED_SECRETS


def test_functions_connect_as_the_application_the_owner_only_migrates_and_health_reads() -> None:
    template = load_template()
    globals_env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert globals_env["DATABASE_SECRET_ARN"] == {"GetAtt": "Database.Outputs.ApplicationSecretArn"}
    owner_users = {
        name
        for name, properties in functions(template).items()
        if "OwnerSecretArn" in str(properties.get("Environment", {}))
    }
    assert owner_users == {"MigrationsFunction"}
    migrations = functions(template)["MigrationsFunction"]["Environment"]["Variables"]
    assert migrations["DATABASE_SECRET_ARN"] == {"GetAtt": "Database.Outputs.OwnerSecretArn"}
    assert migrations["APPLICATION_DATABASE_SECRET_ARN"] == {
        "GetAtt": "Database.Outputs.ApplicationSecretArn"
    }
    assert migrations["HEALTH_DATABASE_SECRET_ARN"] == {"GetAtt": "Database.Outputs.HealthSecretArn"}
    assert {"application_database_secret_arn", "health_database_secret_arn"} <= {
        field.name for field in dataclasses.fields(Settings)
    }
    health = functions(template)["HealthFunction"]["Environment"]["Variables"]
    assert health["DATABASE_SECRET_ARN"] == {"GetAtt": "Database.Outputs.HealthSecretArn"}


def test_application_and_health_logins_have_encrypted_rotated_secrets_known_to_the_proxy() -> None:
    resources = _database()
    rotation = load_template(PROJECT_ROOT / "infra/stacks/rotation.yaml")["Resources"]
    given = load_template()["Resources"]["DatabaseRotation"]["Properties"]["Parameters"]
    proxy_secrets = [auth["SecretArn"] for auth in resources["Proxy"]["Properties"]["Auth"]]
    proxy_role_secrets = resources["ProxyRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][0]
    for login, username, output in (
        ("ApplicationUser", "eduautismo_app", "ApplicationSecretArn"),
        ("HealthUser", "eduautismo_health", "HealthSecretArn"),
    ):
        secret = resources[f"{login}Secret"]["Properties"]
        assert secret["KmsKeyId"] == {"Ref": "DataKeyArn"}
        assert f'"username": "{username}"' in secret["GenerateSecretString"]["SecretStringTemplate"]
        attachment = resources[f"{login}SecretAttachment"]["Properties"]
        assert attachment == {
            "SecretId": {"Ref": f"{login}Secret"},
            "TargetId": {"Ref": "Cluster"},
            "TargetType": "AWS::RDS::DBCluster",
        }
        schedule = rotation[f"{login}SecretRotation"]["Properties"]
        assert schedule["SecretId"] == {"Ref": output}
        assert given[output] == {"GetAtt": f"Database.Outputs.{output}"}
        assert schedule["HostedRotationLambda"]["RotationType"] == "PostgreSQLSingleUser"
        assert schedule["RotationRules"]["AutomaticallyAfterDays"] == {"Ref": "SecretRotationDays"}
        assert {"Ref": f"{login}Secret"} in proxy_secrets
        assert {"Ref": f"{login}Secret"} in proxy_role_secrets["Resource"]


def _resource_types(location: str) -> set[str]:
    return {resource["Type"] for resource in load_template(PROJECT_ROOT / location)["Resources"].values()}


def _stacks_holding(resource_type: str) -> dict[str, dict[str, Any]]:
    """The nested stacks of template.yaml whose template declares a resource of this type."""
    return {
        name: resource
        for name, resource in load_template()["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Application"
        and any(
            nested["Type"] == resource_type
            for nested in load_template(PROJECT_ROOT / resource["Properties"]["Location"])[
                "Resources"
            ].values()
        )
    }


def test_rotation_schedules_start_only_after_the_migrations_created_the_logins() -> None:
    # Configuring a schedule runs the rotation function's testSecret step at once (even with
    # RotateImmediatelyOnUpdate false), which logs in as the login the migrations create
    stacks = _stacks_holding("AWS::SecretsManager::RotationSchedule")
    assert stacks, "the logins' secrets are rotated"
    for name, stack in stacks.items():
        depends_on = stack.get("DependsOn", [])
        assert "SchemaMigrations" in ([depends_on] if isinstance(depends_on, str) else depends_on), name


def test_a_failed_rotation_raises_an_alarm() -> None:
    rotation = load_template(PROJECT_ROOT / "infra/stacks/rotation.yaml")["Resources"]
    functions_rotated = {
        resource["Properties"]["HostedRotationLambda"]["RotationLambdaName"]["Sub"]
        for resource in rotation.values()
        if resource["Type"] == "AWS::SecretsManager::RotationSchedule"
    }
    alarmed = {
        alarm["Properties"]["Dimensions"][0]["Value"]["Sub"]
        for alarm in rotation.values()
        if alarm["Type"] == "AWS::CloudWatch::Alarm"
        and alarm["Properties"]["MetricName"] == "Errors"
        and alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopicArn"}]
    }
    assert (
        functions_rotated
        == alarmed
        == {"eduautismo-${Stage}-rotate-app", "eduautismo-${Stage}-rotate-health"}
    )
    assert load_template()["Resources"]["DatabaseRotation"]["Properties"]["Parameters"]["AlarmTopicArn"] == {
        "GetAtt": "Alarms.Outputs.AlarmTopicArn"
    }


def test_postgresql_logs_hold_no_bound_values_and_are_encrypted_and_expire() -> None:
    resources = _database()
    parameters = resources["ClusterParameters"]["Properties"]["Parameters"]
    assert parameters["log_parameter_max_length"] == "0"
    assert parameters["log_parameter_max_length_on_error"] == "0"
    cluster = resources["Cluster"]
    log_group = resources["PostgresqlLogGroup"]["Properties"]
    assert cluster["Properties"]["EnableCloudwatchLogsExports"] == ["postgresql"]
    assert cluster["DependsOn"] == "PostgresqlLogGroup"
    assert cluster["Properties"]["DBClusterIdentifier"] == {"Sub": "eduautismo-${Stage}"}
    assert log_group["LogGroupName"] == {"Sub": "/aws/rds/cluster/eduautismo-${Stage}/postgresql"}
    assert log_group["KmsKeyId"] == {"Ref": "DataKeyArn"}
    assert log_group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert load_template()["Resources"]["Database"]["Properties"]["Parameters"]["LogRetentionDays"] == {
        "Ref": "LogRetentionDays"
    }


def test_cognito_events_reach_the_identity_function_only_for_this_pool_and_the_five_calls() -> None:
    # Given the template's identity events function
    from eduautismo.identity.cognito_events import DETAIL_TYPE, EVENT_NAMES, EVENT_SOURCE

    function = functions(load_template())["IdentityEventsFunction"]
    # Then its one rule matches Cognito's CloudTrail events of the five calls on this stack's pool
    [rule] = function["Events"].values()
    pattern = rule["Properties"]["Pattern"]
    assert (rule["Type"], pattern["source"], pattern["detail-type"]) == (
        "EventBridgeRule",
        [EVENT_SOURCE],
        [DETAIL_TYPE],
    )
    assert sorted(pattern["detail"]["eventName"]) == sorted(EVENT_NAMES)
    assert pattern["detail"]["requestParameters"] == {"userPoolId": [{"Ref": "UserPool"}]}
    # And failures end in the stack's dead-letter queue (its alarm watches it)
    failure = function["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]
    assert failure["Destination"] == {"GetAtt": "Storage.Outputs.DeadLetterQueueArn"}


def test_the_digest_worker_may_send_only_from_the_configured_identity() -> None:
    # Given the worker's inline statement and the other functions' policies
    template = load_template()
    worker = functions(template)["DigestWorkerFunction"]
    [inline] = [policy["Statement"] for policy in worker["Policies"] if "Statement" in policy]
    [statement] = inline
    # Then it allows ses:SendEmail alone, on the identity and configuration set, from the one address
    assert statement["Action"] == "ses:SendEmail" and statement["Effect"] == "Allow"
    assert [resource["Sub"].rsplit(":", 1)[1] for resource in statement["Resource"]] == [
        "identity/${EmailIdentity}",
        "configuration-set/${EmailConfigurationSet}",
    ]
    assert statement["Condition"] == {"StringEquals": {"ses:FromAddress": {"Ref": "EmailFromAddress"}}}
    # And no other function may send email
    for name, properties in functions(template).items():
        if name != "DigestWorkerFunction":
            assert "ses:" not in str(properties.get("Policies", [])), name
