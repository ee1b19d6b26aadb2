"""The function's environment follows sam local invoke's rules: only declared variables can be
overridden, "Parameters" applies to every function, the function's own entry wins, and the
credentials are local ones whatever the shell holds."""

from __future__ import annotations

from pathlib import Path

import pytest
from local_run.runtime.function_env import EnvVarsError, function_environment, read_env_vars
from local_run.runtime.template import FunctionSpec, read_function

from tests.local_run.conftest import REPO_ROOT, TEMPLATE

ENDPOINT = "http://127.0.0.1:4566"
SPEC = FunctionSpec(
    logical_id="CreateThumbnailFunction",
    handler="create_thumbnail.app.lambda_handler",
    runtime="python3.13",
    timeout_s=60,
    memory_mb=1024,
    architectures=("arm64",),
    code_uri=REPO_ROOT / "src",
    variables={"DESTINATION_BUCKET": "local-resized-bucket", "THUMBNAIL_SIZES": "256x256"},
    logging_config={},
    function_id="CreateThumbnailFunction",
    function_name="CreateThumbnailFunction",
    full_path="CreateThumbnailFunction",
)


def test_template_values_then_shell_then_env_vars_file() -> None:
    shell = {"THUMBNAIL_SIZES": "64x64", "DESTINATION_BUCKET": "from-shell"}
    env = function_environment(
        SPEC, {"CreateThumbnailFunction": {"DESTINATION_BUCKET": "file"}}, ENDPOINT, shell
    )
    assert env.variables["THUMBNAIL_SIZES"] == "64x64"
    assert env.variables["DESTINATION_BUCKET"] == "file"


def test_function_entry_wins_over_parameters() -> None:
    env_vars = {
        "Parameters": {"DESTINATION_BUCKET": "all", "THUMBNAIL_SIZES": "10x10"},
        "CreateThumbnailFunction": {"DESTINATION_BUCKET": "mine"},
    }
    variables = function_environment(SPEC, env_vars, ENDPOINT, {}).variables
    assert (variables["DESTINATION_BUCKET"], variables["THUMBNAIL_SIZES"]) == ("mine", "10x10")


def test_undeclared_names_are_dropped_and_reported() -> None:
    env_vars = {
        "CreateThumbnailFunction": {"AWS_ENDPOINT_URL_S3": "http://elsewhere", "EXTRA": "x"}
    }
    env = function_environment(SPEC, env_vars, ENDPOINT, {})
    assert env.ignored == ("AWS_ENDPOINT_URL_S3", "EXTRA")
    assert "EXTRA" not in env.variables
    assert env.variables["AWS_ENDPOINT_URL_S3"] == ENDPOINT


def test_lambda_settings_and_local_credentials_whatever_the_shell_holds() -> None:
    shell = {
        "AWS_ACCESS_KEY_ID": "AKIAREALKEY",
        "AWS_SECRET_ACCESS_KEY": "real",
        "AWS_PROFILE": "prod",
    }
    variables = function_environment(SPEC, {}, ENDPOINT, shell).variables
    assert (variables["AWS_ACCESS_KEY_ID"], variables["AWS_SECRET_ACCESS_KEY"]) == (
        "testing",
        "testing",
    )
    assert "AWS_PROFILE" not in variables
    assert variables["AWS_LAMBDA_FUNCTION_TIMEOUT"] == "60"  # the emulator enforces it
    assert variables["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "1024"


def test_env_vars_file_must_be_an_object_of_objects(tmp_path: Path) -> None:
    path = tmp_path / "env.json"
    path.write_text('{"CreateThumbnailFunction": "DESTINATION_BUCKET=x"}')
    with pytest.raises(EnvVarsError, match="object of objects"):
        read_env_vars(path)


def test_events_env_json_is_valid_and_names_only_what_the_template_declares() -> None:
    """events/env.json is for `sam local invoke --env-vars`: what it sets that template.yaml
    does not declare, sam drops. README says which names those are; this keeps it true."""
    env_vars = read_env_vars(REPO_ROOT / "events" / "env.json")
    spec = read_function(TEMPLATE)
    ignored = function_environment(spec, env_vars, ENDPOINT, {}).ignored
    declared = "AWS_ENDPOINT_URL_S3" in spec.variables
    assert ignored == (() if declared else ("AWS_ENDPOINT_URL_S3",))


def test_bucket_refs_resolve_to_local_bucket_names() -> None:
    spec = read_function(TEMPLATE)
    assert spec.variables["DESTINATION_BUCKET"] == "local-resized-bucket"
    assert (spec.handler, spec.runtime) == ("create_thumbnail.app.lambda_handler", "python3.13")


@pytest.mark.parametrize(
    ("deployed", "destination"),
    [
        ({"ResizedBucket": "stack-resizedbucket-1a2b"}, "stack-resizedbucket-1a2b"),
        ({"ExistingResizedBucket": "their-thumbs", "ResizedBucket": "unused"}, "their-thumbs"),
    ],
    ids=["stack's-resized-bucket", "existing-resized-bucket"],
)
def test_a_stacks_parameters_and_physical_names_give_its_environment(
    deployed: dict[str, str], destination: str
) -> None:
    """What the rehearsal hands the function: the environment the stack would set, its
    conditions decided by the stack's parameters, not the template's defaults."""
    parameters = {
        "TriggerMode": "EventBridge", "ExistingSourceBucket": "their-photos",
        "SourceKeyPrefix": "uploads/",
    }  # fmt: skip
    variables = read_function(TEMPLATE, deployed={**parameters, **deployed}).variables
    assert variables["DESTINATION_BUCKET"] == destination
    assert variables["SOURCE_KEY_PREFIX"] == "uploads/"
    assert read_function(TEMPLATE).variables["SOURCE_KEY_PREFIX"] == ""
