"""template.yaml as the tests see it: loaded as written, and expanded by the SAM transform.

The checks that matter most (least privilege, no dependency cycle) are about the CloudFormation
that SAM generates from the shorthand (the execution role, the Lambda permission, the bucket's
notification), so the tests run samtranslator in-process and offline, through
local_run.runtime.sam_transform, which the deploy rehearsal (tests/rehearsal) uses too.

The session fixtures return shared dicts: a test that edits a template edits a deep copy.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from local_run.runtime.sam_transform import Template, load_template, sam_translate

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"


def resolve_conditions(template: Template, parameters: dict[str, str] | None = None) -> Template:
    """The template one stack with these parameters would get: resources whose Condition is
    false are gone, Fn::If is decided and AWS::NoValue dropped. For checks about one deployment
    (least privilege, what triggers the function); cfn-lint sees the unresolved template."""
    values = {name: spec.get("Default") for name, spec in template.get("Parameters", {}).items()}
    values.update(parameters or {})
    conditions: dict[str, bool] = {}

    def evaluate(node: Any) -> Any:
        if isinstance(node, dict) and len(node) == 1:
            (name, args), = node.items()
            if name == "Ref" and args in values:
                return values[args]
            if name == "Condition":
                return decide(args)
            if name == "Fn::Equals":
                return evaluate(args[0]) == evaluate(args[1])
            if name == "Fn::Not":
                return not evaluate(args[0])
            if name == "Fn::And":
                return all(evaluate(a) for a in args)
            if name == "Fn::Or":
                return any(evaluate(a) for a in args)
        return node

    def decide(name: str) -> bool:
        if name not in conditions:
            conditions[name] = bool(evaluate(template["Conditions"][name]))
        return conditions[name]

    novalue = object()

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"Fn::If"}:
                name, when_true, when_false = node["Fn::If"]
                return walk(when_true if decide(name) else when_false)
            if node == {"Ref": "AWS::NoValue"}:
                return novalue
            walked = {k: walk(v) for k, v in node.items()}
            return {k: v for k, v in walked.items() if v is not novalue}
        if isinstance(node, list):
            return [v for v in (walk(item) for item in node) if v is not novalue]
        return node

    resolved = copy.deepcopy(template)
    resolved["Resources"] = {
        name: walk(resource)
        for name, resource in template["Resources"].items()
        if "Condition" not in resource or decide(resource["Condition"])
    }
    resolved["Outputs"] = {
        name: walk(output)
        for name, output in template.get("Outputs", {}).items()
        if "Condition" not in output or decide(output["Condition"])
    }
    return resolved


@pytest.fixture(scope="session")
def sam_template() -> Template:
    """template.yaml as written (SAM resources, Globals not merged)."""
    return load_template(TEMPLATE_PATH)


@pytest.fixture(scope="session")
def cfn_template_all(sam_template: Template) -> Template:
    """template.yaml after the SAM transform, conditions unresolved: every TriggerMode at once."""
    return sam_translate(sam_template)


@pytest.fixture(scope="session")
def cfn_template(cfn_template_all: Template) -> Template:
    """What a stack with the default parameters gets (TriggerMode S3)."""
    return resolve_conditions(cfn_template_all)


@pytest.fixture(scope="session")
def cfn_template_for(cfn_template_all: Template) -> Callable[[str], Template]:
    """What a stack with TriggerMode=mode gets."""
    return lambda mode: resolve_conditions(cfn_template_all, {"TriggerMode": mode})


@pytest.fixture(scope="session")
def translate() -> Callable[..., Template]:
    """The transform itself, for tests that feed it an edited template or other parameters."""
    return sam_translate
