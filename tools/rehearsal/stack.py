"""The rehearsal's stack: the SAM transform's output, minus only what LocalStack cannot run.

Everything the rehearsal is for stays exactly as the transform wrote it: the buckets and their
NotificationConfiguration (with its Fn::If per TriggerMode and its Fn::Select trick), the uploads
queue, its policy and dead-letter queue, the rule's pattern, the conditions themselves (decided
by LocalStack's CloudFormation from the TriggerMode parameter, not by us).
"""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

Template = dict[str, Any]

EVENTS_QUEUE = "RehearsalEventsQueue"
EVENTS_QUEUE_POLICY = "RehearsalEventsQueuePolicy"
# Resource types that exist only for a function, found by their FunctionName.
_FUNCTION_COMPANIONS = (
    "AWS::Lambda::Permission",
    "AWS::Lambda::EventSourceMapping",
    "AWS::Lambda::EventInvokeConfig",
)
_SUB_NAME = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}")


class RehearsalTemplateError(Exception):
    """The template refers to the function somewhere this module does not know how to replace."""


class StackError(Exception):
    """LocalStack's CloudFormation did not create the stack; the message has each failed
    resource and the reason CloudFormation gave."""


@dataclass(frozen=True)
class Stack:
    name: str
    outputs: dict[str, str]
    resources: dict[str, str]  # logical ID -> physical ID (a queue's is its URL)
    create_s: float


def references(node: Any) -> set[str]:
    """Logical IDs node refers to through Ref, Fn::GetAtt or Fn::Sub (pseudo parameters aside)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0] if isinstance(value, list) else str(value).split(".")[0])
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) else value
                found.update(_SUB_NAME.findall(text))
            found |= references(value)
    elif isinstance(node, list):
        for item in node:
            found |= references(item)
    return {name for name in found if not name.startswith("AWS::")}


def function_resources(template: Template) -> set[str]:
    """Every AWS::Lambda::Function and what exists only for it: its role, its log group, and the
    permissions, event source mappings and event invoke configs whose FunctionName names it."""
    resources = template["Resources"]
    functions = {n for n, r in resources.items() if r["Type"] == "AWS::Lambda::Function"}
    found = set(functions)
    for name in functions:
        properties = resources[name].get("Properties", {})
        found |= references(properties.get("Role"))
        found |= references(properties.get("LoggingConfig", {}).get("LogGroup"))
    for name, resource in resources.items():
        if resource["Type"] in _FUNCTION_COMPANIONS:
            if references(resource.get("Properties", {}).get("FunctionName")) & functions:
                found.add(name)
    return found


def rehearsal_template(translated: Template) -> Template:
    """The stack LocalStack can create without Docker, from the SAM transform's output.

    Removed, because LocalStack needs Docker to run a Lambda function (the rehearsal runs the
    built artifact under the Runtime Interface Emulator instead):
    - the function (AWS::Lambda::Function), its execution role, its log group, its Lambda
      permissions (S3's and EventBridge's), its SQS event source mapping and its event invoke
      config, all of which name the function;
    - the buckets' LambdaConfigurations: TriggerMode=S3, the bucket invoking the function
      directly, which the rehearsal cannot show (its Fn::If refers to the function even when
      false, and CloudFormation refuses a reference to a resource that does not exist);
    - the outputs that name any of these.
    Replaced:
    - each Events rule target that is the function, by a queue added here (EVENTS_QUEUE, same
      Condition as the rule) with the queue policy EventBridge needs to send to it: the
      rehearsal reads the rule's deliveries from it, one event per message;
    - a kept resource's reference to the function's ARN (BatchOperationsRole's
      lambda:InvokeFunction), by the ARN a function named <stack>-CreateThumbnailFunction would
      have: IAM stores it as text, and LocalStack does not enforce it anyway.
    Raises RehearsalTemplateError if anything else still refers to a removed resource: the
    template has changed, and this function must be taught the change, not guess.
    """
    template = copy.deepcopy(translated)
    resources = template["Resources"]
    functions = {n for n, r in resources.items() if r["Type"] == "AWS::Lambda::Function"}
    removed = function_resources(template)
    for name in removed:
        del resources[name]
    for resource in resources.values():
        if resource["Type"] == "AWS::S3::Bucket":
            resource.get("Properties", {}).get("NotificationConfiguration", {}).pop(
                "LambdaConfigurations", None
            )
    _swap_rule_targets(template, functions)
    _replace_function_arns(template, functions)
    template["Outputs"] = {
        name: output
        for name, output in template.get("Outputs", {}).items()
        if not references(output) & removed
    }
    _check_no_reference(template, removed)
    return template


def _is_function_arn(node: Any, functions: set[str]) -> bool:
    """{"Fn::GetAtt": [function, "Arn"]}, the only way the template names a function's ARN."""
    if not (isinstance(node, dict) and set(node) == {"Fn::GetAtt"}):
        return False
    target = node["Fn::GetAtt"]
    name, attribute = target if isinstance(target, list) else str(target).split(".", 1)
    return name in functions and attribute == "Arn"


def _swap_rule_targets(template: Template, functions: set[str]) -> None:
    resources = template["Resources"]
    rules = []
    for name, resource in list(resources.items()):
        if resource["Type"] != "AWS::Events::Rule":
            continue
        for target in resource.get("Properties", {}).get("Targets", []):
            if _is_function_arn(target.get("Arn"), functions):
                target["Arn"] = {"Fn::GetAtt": [EVENTS_QUEUE, "Arn"]}
                rules.append((name, resource.get("Condition")))
    if not rules:
        return
    conditions = {condition for _, condition in rules}
    if len(conditions) != 1:
        raise RehearsalTemplateError(
            f"rules under different conditions target the function: {rules}"
        )
    condition = {"Condition": c} if (c := conditions.pop()) else {}
    queue_arn = {"Fn::GetAtt": [EVENTS_QUEUE, "Arn"]}
    resources[EVENTS_QUEUE] = {"Type": "AWS::SQS::Queue", **condition}
    resources[EVENTS_QUEUE_POLICY] = {
        "Type": "AWS::SQS::QueuePolicy",
        **condition,
        "Properties": {
            "Queues": [{"Ref": EVENTS_QUEUE}],
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{
                    "Sid": "RuleDeliveries",
                    "Effect": "Allow",
                    "Principal": {"Service": "events.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                    "Condition": {"ArnEquals": {
                        "aws:SourceArn": [{"Fn::GetAtt": [name, "Arn"]} for name, _ in rules],
                    }},
                }],
            },
        },
    }  # fmt: skip


def _replace_function_arns(template: Template, functions: set[str]) -> None:
    stand_in = {
        "Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:"
        "${AWS::StackName}-CreateThumbnailFunction"
    }

    def walk(node: Any) -> Any:
        if _is_function_arn(node, functions):
            return stand_in
        if isinstance(node, dict):
            return {key: walk(value) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    template["Resources"] = walk(template["Resources"])


def _check_no_reference(template: Template, removed: set[str]) -> None:
    left = []
    for name, resource in template["Resources"].items():
        depends = resource.get("DependsOn", [])
        depends = {depends} if isinstance(depends, str) else set(depends)
        if hit := (references(resource) | depends) & removed:
            left.append(f"{name} -> {sorted(hit)}")
    if left:
        raise RehearsalTemplateError(
            "still refers to removed resources (teach rehearsal_template the change): "
            + "; ".join(left)
        )


def create_stack(
    cloudformation: Any,
    name: str,
    template: Template,
    parameters: dict[str, str],
    limit_s: float = 180.0,
) -> Stack:
    """Creates the stack and waits for CREATE_COMPLETE; raises StackError with every failed
    resource's reason otherwise (what LocalStack's CloudFormation rejected, and why)."""
    started = time.monotonic()
    cloudformation.create_stack(
        StackName=name,
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_IAM"],  # samconfig.toml's: a role without a fixed name
    )
    deadline = started + limit_s
    while True:
        stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
        status = stack["StackStatus"]
        if not status.endswith("_IN_PROGRESS"):
            break
        if time.monotonic() > deadline:
            raise StackError(f"{name}: still {status} after {limit_s:.0f} s")
        time.sleep(0.25)
    if status != "CREATE_COMPLETE":
        raise StackError(f"{name}: {status}\n" + "\n".join(_failures(cloudformation, name)))
    listed = cloudformation.describe_stack_resources(StackName=name)["StackResources"]
    return Stack(
        name,
        {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])},
        {r["LogicalResourceId"]: r.get("PhysicalResourceId", "") for r in listed},
        time.monotonic() - started,
    )


def delete_stack(cloudformation: Any, name: str, limit_s: float = 120.0) -> float:
    """Deletes the stack, as `sam delete` asks CloudFormation to, and waits until it is gone;
    returns the seconds taken. Raises StackError if CloudFormation could not delete it."""
    started = time.monotonic()
    cloudformation.delete_stack(StackName=name)
    while True:
        try:
            status = cloudformation.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
        except ClientError as error:  # a deleted stack is no longer found by its name
            if "does not exist" not in str(error):
                raise
            break
        if status == "DELETE_COMPLETE":
            break
        if not status.endswith("_IN_PROGRESS"):
            raise StackError(f"{name}: {status}\n" + "\n".join(_failures(cloudformation, name)))
        if time.monotonic() > started + limit_s:
            raise StackError(f"{name}: still {status} after {limit_s:.0f} s")
        time.sleep(0.25)
    return time.monotonic() - started


def _failures(cloudformation: Any, name: str) -> Iterable[str]:
    for event in cloudformation.describe_stack_events(StackName=name)["StackEvents"]:
        if event["ResourceStatus"].endswith("_FAILED") and event["LogicalResourceId"] != name:
            yield (
                f"  {event['LogicalResourceId']} ({event.get('ResourceType')}): "
                f"{event.get('ResourceStatusReason')}"
            )
