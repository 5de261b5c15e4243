"""docs/DEPLOY.md tells an operator what the stack really does: who provisions users (Cognito does not
invoke the post-confirmation trigger for users an administrator creates, the only users this pool
admits), and that the smoke check closes every deploy."""

from __future__ import annotations

import re

from eduautismo_local.template_routes import PROJECT_ROOT, load_template

GUIDE = (PROJECT_ROOT / "docs/DEPLOY.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    match = re.search(rf"^#+ {re.escape(title)}\n(.*?)(?=^#+ )", GUIDE, flags=re.MULTILINE | re.DOTALL)
    assert match, f"docs/DEPLOY.md has no section {title!r}"
    return " ".join(match.group(1).split())


def test_the_guide_says_provisioning_is_just_in_time_and_the_trigger_covers_self_sign_up_only() -> None:
    # Given a pool that admits only users an administrator creates (AdminCreateUser), for whom
    # Cognito never invokes the post-confirmation trigger
    pool = load_template()["Resources"]["UserPool"]["Properties"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert pool["LambdaConfig"]["PostConfirmation"] == {"GetAtt": "ProvisioningFunction.Arn"}
    provisioning = _section("Provisioning")
    # Then the guide says users are provisioned on their first request
    assert "just in time, on the user's first authenticated request" in provisioning
    # And that the trigger covers self sign-up only, never AdminCreateUser
    assert "self sign-up only" in provisioning
    assert "never for an account an administrator creates with `AdminCreateUser`" in provisioning
    # And nowhere that the trigger creates the users this stack has
    assert "when Cognito confirms an account it creates" not in GUIDE
    assert "(or the post-confirmation trigger)" not in GUIDE


def test_the_smoke_check_is_the_last_step_of_a_deploy_and_hangs_are_explained() -> None:
    order = _section("The first deploy, in order")
    assert order.endswith("When the stack is complete, create the first coordinator and run `make smoke`.")
    assert "make smoke URL=" in _section("Last step: the smoke check")
    hangs = _section("When a custom resource hangs")
    for clue in ("could not answer CloudFormation", "describe-db-proxy-targets", "continue-update-rollback"):
        assert clue in hangs, clue
