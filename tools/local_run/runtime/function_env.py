"""The function's environment, with `sam local invoke --env-vars` semantics.

sam local invoke lets an --env-vars file (or the shell) override only the variables the
template declares under Environment.Variables; anything else in the file is dropped without a
word. We resolve with the SAM CLI's own EnvironmentVariables class, so the rule is sam's, and we
say which names were dropped, so nobody is left wondering why AWS_ENDPOINT_URL_S3 did nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local_run.runtime.template import FunctionSpec
from local_run.shared import LOCAL_AWS_ENV


class EnvVarsError(Exception):
    """The --env-vars file is not in a shape sam local invoke accepts."""


@dataclass(frozen=True)
class FunctionEnvironment:
    variables: dict[str, str]
    ignored: tuple[str, ...]  # names in the file that the template does not declare


def read_env_vars(path: Path) -> dict[str, dict[str, Any]]:
    """{"<function>": {NAME: value}, "Parameters": {NAME: value}}, checked as sam checks it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise EnvVarsError(f"{path}: {error}") from error
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise EnvVarsError(f'{path}: expected an object of objects, e.g. {{"MyFunction": {{...}}}}')
    return data


def overrides_for(spec: FunctionSpec, env_vars: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """sam's precedence: "Parameters" applies to every function, the function's own entry
    (by logical ID, function ID, function name or full path, first found) wins over it."""
    overrides = dict(env_vars.get("Parameters", {}))
    for name in (spec.logical_id, spec.function_id, spec.function_name, spec.full_path):
        if env_vars.get(name):
            overrides.update(env_vars[name])
            break
    return overrides


def function_environment(
    spec: FunctionSpec,
    env_vars: Mapping[str, Mapping[str, Any]],
    s3_endpoint: str,
    shell: Mapping[str, str] = os.environ,
) -> FunctionEnvironment:
    """What the function process sees: Lambda's AWS_LAMBDA_* variables, the declared variables
    (template value < shell < --env-vars), local-only credentials (never the caller's real ones)
    and the S3 endpoint."""
    from samcli.local.lambdafn.env_vars import EnvironmentVariables  # the test set's (template.py)

    overrides = overrides_for(spec, env_vars)
    resolved = EnvironmentVariables(
        spec.logical_id,
        spec.memory_mb,
        spec.timeout_s,
        spec.handler,
        dict(spec.logging_config),
        variables=dict(spec.variables),
        shell_env_values=dict(shell),
        override_values=overrides,
        aws_creds={
            "region": LOCAL_AWS_ENV["AWS_REGION"],
            "key": LOCAL_AWS_ENV["AWS_ACCESS_KEY_ID"],
            "secret": LOCAL_AWS_ENV["AWS_SECRET_ACCESS_KEY"],
            "sessiontoken": LOCAL_AWS_ENV["AWS_SESSION_TOKEN"],
        },
    ).resolve()
    resolved["AWS_ENDPOINT_URL_S3"] = s3_endpoint
    # moto's server answers every service: completion events (EVENT_BUS_NAME) stay local too.
    resolved["AWS_ENDPOINT_URL_EVENTS"] = s3_endpoint
    ignored = tuple(sorted(name for name in overrides if name not in spec.variables))
    return FunctionEnvironment(resolved, ignored)
