"""template.yaml expanded by the SAM transform, in-process and offline.

What CloudFormation deploys is not the SAM shorthand but what the AWS::Serverless-2016-10-31
transform makes of it (the execution role, the Lambda permission, the event invoke config). The
template tests check that output, and the deploy rehearsal (tools/rehearsal) creates a stack
from it, so both run the same samtranslator (the library behind the transform) the same way.
samtranslator only talks to AWS for the region (given as a boto3 session here), the pseudo
parameters (given below) and the managed-policy name -> ARN lookup (an empty map: the template
names no managed policy, and the one SAM adds for logs it spells out itself).

cfn-lint 1.x no longer runs samtranslator (it validates SAM resources against SAM schemas and
skips AWS::Serverless::* in its cycle rule E3004), so it cannot be the one to expand the template.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import boto3
from cfnlint.decode import cfn_yaml
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

REGION = "us-east-1"
# Only what the transform itself reads; its output keeps ${AWS::StackName} and the others as
# references, so a stack of any name, account or region can be made from it.
PSEUDO_PARAMETERS = {
    "AWS::Region": REGION,
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::StackName": "create-thumbnail",
}

Template = dict[str, Any]


def load_template(path: Path) -> Template:
    """The YAML with its short-form tags (!Sub, !Ref, !GetAtt) read as their Fn:: long forms.

    cfn-lint's loader returns str/dict subclasses carrying line marks; the JSON round trip makes
    them the plain types samtranslator and json.dumps expect.
    """
    return json.loads(json.dumps(cfn_yaml.loads(path.read_text(), str(path))))


def sam_translate(sam_template: Template, parameters: dict[str, str] | None = None) -> Template:
    """CloudFormation for sam_template, as `sam deploy` would have the transform produce it with
    these stack parameters (the rest at their defaults). Conditions stay unresolved: the
    parameters only matter to the transform, CloudFormation decides the conditions."""
    template = copy.deepcopy(sam_template)
    # The translator wants code in S3; `sam package` would upload CodeUri (a layer's ContentUri)
    # and put the S3 URI here.
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        field = {"AWS::Serverless::Function": "CodeUri", "AWS::Serverless::LayerVersion": "ContentUri"}.get(resource["Type"])
        if field and isinstance(props.get(field), str):
            props[field] = f"s3://packaged-code-bucket/{props[field].strip('/')}.zip"
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
