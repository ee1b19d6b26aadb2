"""template.yaml as the tests see it: loaded as written, and expanded by the SAM transform.

The checks that matter most (least privilege, no dependency cycle) are about the CloudFormation
that SAM generates from the shorthand (the execution role, the Lambda permission, the bucket's
notification), so the tests run samtranslator (the library behind the AWS::Serverless-2016-10-31
transform) in-process and offline.
samtranslator only talks to AWS for the region (given as a boto3 session here), the pseudo
parameters (given below) and the managed-policy name -> ARN lookup (an empty map: the template
names no managed policy, and the one SAM adds for logs it spells out itself).

cfn-lint 1.x no longer runs samtranslator (it validates SAM resources against SAM schemas and
skips AWS::Serverless::* in its cycle rule E3004), so it cannot be the one to expand the template.

The session fixtures return shared dicts: a test that edits a template edits a deep copy.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from cfnlint.decode import cfn_yaml
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"

REGION = "us-east-1"
PSEUDO_PARAMETERS = {
    "AWS::Region": REGION,
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::StackName": "create-thumbnail",
}

Template = dict[str, Any]


def load_template(path: Path = TEMPLATE_PATH) -> Template:
    """The YAML with its short-form tags (!Sub, !Ref, !GetAtt) read as their Fn:: long forms.

    cfn-lint's loader returns str/dict subclasses carrying line marks; the JSON round trip makes
    them the plain types samtranslator and json.dumps expect.
    """
    return json.loads(json.dumps(cfn_yaml.loads(path.read_text(), str(path))))


def sam_translate(sam_template: Template, parameters: dict[str, str] | None = None) -> Template:
    """CloudFormation for sam_template, as `sam deploy` would have the transform produce it with
    these stack parameters (the rest at their defaults)."""
    template = copy.deepcopy(sam_template)
    # The translator wants code in S3; `sam package` would upload CodeUri and put the S3 URI here.
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        code_uri = props.get("CodeUri")
        if resource["Type"] == "AWS::Serverless::Function" and isinstance(code_uri, str):
            props["CodeUri"] = f"s3://packaged-code-bucket/{code_uri.strip('/')}.zip"
    translator = Translator(
        managed_policy_map={},
        sam_parser=Parser(),
        boto_session=boto3.Session(region_name=REGION),
    )
    return translator.translate(
        sam_template=template,
        parameter_values={**PSEUDO_PARAMETERS, **(parameters or {})},
        get_managed_policy_map=dict,  # no managed policy names to resolve
    )


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
    return load_template()


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
