"""template.yaml as the tests see it: loaded as written, and expanded by the SAM transform.

The checks that matter most (least privilege, no dependency cycle) are about the CloudFormation
that SAM generates from the shorthand (the execution role, the Lambda permission, the bucket's
notification), so the tests run samtranslator in-process and offline, through
local_run.runtime.sam_transform, which the deploy rehearsal (tests/rehearsal) uses too.

The session fixtures return shared dicts: a test that edits a template edits a deep copy.
"""

from __future__ import annotations

import copy
import re
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
            if name == "Fn::Split":
                return evaluate(args[1]).split(args[0])
            if name == "Fn::Join":
                return args[0].join(evaluate(args[1]))
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


# One deployment's pseudo parameters, for spelled().
PSEUDO = {"AWS::Partition": "aws", "AWS::AccountId": "123456789012", "AWS::Region": "eu-west-1",
          "AWS::StackName": "create-thumbnail"}  # fmt: skip
_SUB = re.compile(r"\$\{([A-Za-z0-9:]+)(?:\.([A-Za-z]+))?\}")


def spelled(node: Any, template: Template, parameters: dict[str, str] | None = None) -> Any:
    """node (of template) with Ref, Fn::Sub and Fn::GetAtt written out as the strings one
    deployment would see: parameters by value (their defaults, then these), pseudo parameters as
    PSEUDO, a resource as <LogicalId> (a bucket's Arn as arn:aws:s3:::<LogicalId>). Run on a
    resolve_conditions() template with the same parameters, so that a policy test asserts on the
    ARNs themselves, not on how the template builds them."""
    defaults = {name: str(spec.get("Default", "")) for name, spec in template.get("Parameters", {}).items()}
    values = {**PSEUDO, **defaults, **(parameters or {})}
    return _spelled(node, values)


def _spelled(node: Any, values: dict[str, str]) -> Any:

    def name(ref: str, attribute: str | None = None) -> str:
        if ref in values:
            return values[ref]
        if attribute == "Arn" and ref.endswith("Bucket"):
            return f"arn:aws:s3:::<{ref}>"
        return f"<{ref}.{attribute}>" if attribute else f"<{ref}>"

    def sub(text: str, local: dict[str, Any]) -> str:
        return _SUB.sub(lambda m: str(local[m[1]]) if m[1] in local else name(m[1], m[2]), text)

    if isinstance(node, (list, tuple)):
        return type(node)(_spelled(item, values) for item in node)
    if not isinstance(node, dict):
        return node
    if set(node) == {"Ref"}:
        return name(node["Ref"])
    if set(node) == {"Fn::GetAtt"}:
        ref, attribute = node["Fn::GetAtt"] if isinstance(node["Fn::GetAtt"], list) else node["Fn::GetAtt"].split(".")
        return name(ref, attribute)
    if set(node) == {"Fn::Sub"}:
        text, local = node["Fn::Sub"] if isinstance(node["Fn::Sub"], list) else (node["Fn::Sub"], {})
        return sub(text, {key: _spelled(value, values) for key, value in local.items()})
    return {key: _spelled(value, values) for key, value in node.items()}


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
