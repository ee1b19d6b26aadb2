"""What template.yaml promises, checked without an AWS account.

- The linters the deploy path trusts (cfn-lint, `sam validate --lint`) accept it.
- The CloudFormation SAM generates from it has no dependency cycle. CloudFormation would refuse
  such a stack only at deploy time, and cfn-lint cannot see it in the SAM source: the cycle
  (bucket -> notification -> permission -> function -> role -> bucket) only exists after the
  transform, between resources SAM creates. The checker's own tests show it finds that cycle.
- The function's role can read the source bucket, check and write the resized one, and send a
  failed event to its queue, and nothing else; the wildcard check's own tests show it can fail.
- Both buckets are private, encrypted, owner-enforced and refuse plain HTTP.
- Failed events end in an encrypted, TLS-only queue watched by an alarm; the function has its
  own log group with retention, recursive-loop detection on, and optional reserved concurrency.
- The function, its trigger and the outputs are the ones the README and scripts rely on.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import botocore.session
import pytest

from create_thumbnail.config import (
    ALL_SOURCE_FORMATS,
    DEFAULT_SOURCE_FORMATS,
    DEFAULT_THUMBNAIL_CACHE_CONTROL,
    MAX_PDF_PAGE,
    Reading,
    Settings,
)
from tests.template.conftest import resolve_conditions, spelled

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
FUNCTION = "CreateThumbnailFunction"
SOURCE_BUCKET_NAME = "${AWS::StackName}-source-${AWS::AccountId}-${AWS::Region}"
SOURCE_BUCKET_ARN = "arn:${AWS::Partition}:s3:::" + SOURCE_BUCKET_NAME
# The stack's own source bucket as one deployment (conftest.PSEUDO) names it.
SOURCE = "create-thumbnail-source-123456789012-eu-west-1"
# An existing-buckets deployment: a bucket of record, a prefix, a bucket of the user's for thumbnails.
EXISTING = {"ExistingSourceBucket": "photos-of-record", "SourceKeyPrefix": "uploads/2026/",
            "ExistingResizedBucket": "photos-thumbnails", "TriggerMode": "EventBridge"}  # fmt: skip


# --- running the command-line tools ------------------------------------------------------------


def run_tool(name: str, *args: str | Path, home: Path) -> subprocess.CompletedProcess[str]:
    """Run a venv executable from the repo root, with no AWS profile, credentials or ~/.aws."""
    home.mkdir(parents=True, exist_ok=True)
    # sam checks PyPI for a newer version once a week; a fresh HOME would make it check now.
    (home / ".aws-sam").mkdir(exist_ok=True)
    (home / ".aws-sam" / "metadata.json").write_text(json.dumps({"lastVersionCheck": time.time()}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        HOME=str(home),
        PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        SAM_CLI_TELEMETRY="0",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
    )
    return subprocess.run(
        [str(VENV_BIN / name), *map(str, args)],
        check=False,
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cfn_lint_accepts_the_template(tmp_path: Path) -> None:
    result = run_tool("cfn-lint", "template.yaml", home=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_sam_validate_lint_accepts_the_template(tmp_path: Path) -> None:
    result = run_tool("sam", "validate", "--lint", "--region", "us-east-1", home=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


# Looked at and accepted: with Tracing=Disabled SAM drops TracingConfig, the parameter's only use.
EXPECTED_LINT = {"Disabled": ["W2001:Parameter Tracing not used."], "Active": []}


@pytest.mark.parametrize("mode", ["S3", "SQS", "EventBridge"])
@pytest.mark.parametrize("tracing", EXPECTED_LINT)
def test_cfn_lint_accepts_the_transformed_template(
    sam_template: dict, translate: Callable[..., dict], tmp_path: Path, tracing: str, mode: str
) -> None:
    cfn = translate(sam_template, {"Tracing": tracing, "TriggerMode": mode})
    # The transform ran for this value, and CloudFormation resolves the template with it: say so,
    # or cfn-lint tries every allowed value in TracingConfig (Disabled is not a Lambda mode).
    cfn["Parameters"]["Tracing"].update(Default=tracing, AllowedValues=[tracing])
    cfn["Parameters"]["TriggerMode"].update(Default=mode, AllowedValues=[mode])
    transformed = tmp_path / "transformed.json"
    transformed.write_text(json.dumps(cfn, indent=2))
    result = run_tool("cfn-lint", "--format", "parseable", transformed, home=tmp_path / "home")
    # Nothing else, not even a warning; a new one deserves a look before it is waved through.
    findings = [line.split(":", 5)[-1] for line in result.stdout.splitlines()]
    assert findings == EXPECTED_LINT[tracing], result.stdout + result.stderr


# --- the dependency graph of the transformed template ------------------------------------------

SUB_VARIABLE = re.compile(r"\$\{(?!!)([^}]+)\}")  # ${Name} or ${Name.Attr}; ${!x} is a literal


def references(value: Any) -> set[str]:
    """Every name value points at via Ref, Fn::GetAtt or Fn::Sub, however deeply nested.

    Names are logical ids, parameters and pseudo parameters alike; the graph keeps resources.
    """
    if isinstance(value, list):
        return set().union(*map(references, value))
    if not isinstance(value, dict):
        return set()
    found: set[str] = set()
    for key, arg in value.items():
        if key == "Ref" and isinstance(arg, str):
            found.add(arg)
        elif key == "Fn::GetAtt":
            if isinstance(arg, str):  # the "Name.Attr" form
                found.add(arg.split(".", 1)[0])
            else:  # [Name, Attr]; Attr itself may be a Ref
                found |= {arg[0]} | references(arg[1:])
        elif key == "Fn::Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
            named = {match.strip().split(".", 1)[0] for match in SUB_VARIABLE.findall(text)}
            found |= (named - variables.keys()) | references(variables)
        else:
            found |= references(arg)
    return found


def dependency_graph(template: dict) -> dict[str, set[str]]:
    """Resource -> the resources CloudFormation must create before it."""
    resources = template["Resources"]
    graph = {}
    for name, resource in resources.items():
        depends_on = resource.get("DependsOn", [])
        depends_on = [depends_on] if isinstance(depends_on, str) else depends_on
        body = {key: value for key, value in resource.items() if key != "DependsOn"}
        graph[name] = (set(depends_on) | references(body)) & resources.keys()
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle as [a, b, ..., a], or None. Depth-first, in sorted order so the answer is stable."""
    done: set[str] = set()
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        path.append(node)
        for target in sorted(graph[node]):
            if target in path:
                return path[path.index(target) :] + [target]
            if target not in done and (cycle := visit(target)):
                return cycle
        path.pop()
        done.add(node)
        return None

    for node in sorted(graph):
        if node not in done and (cycle := visit(node)):
            return cycle
    return None


def starting_at(cycle: list[str], node: str) -> list[str]:
    """The same cycle, read from node: [node, ..., node]."""
    ring = cycle[:-1]
    start = ring.index(node)
    return ring[start:] + ring[:start] + [node]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"Ref": "A"}, {"A"}),
        ({"Fn::GetAtt": ["A", "Arn"]}, {"A"}),
        ({"Fn::GetAtt": "A.Arn"}, {"A"}),
        ({"Fn::Sub": "${A}/${B.Arn}:${AWS::Region}/${!Literal}"}, {"A", "B", "AWS::Region"}),
        ({"Fn::Sub": ["${X}-${C}", {"X": {"Ref": "D"}}]}, {"C", "D"}),
        ({"Fn::Join": ["", [{"Ref": "A"}, {"Fn::If": ["Cond", {"Ref": "B"}, "x"]}]]}, {"A", "B"}),
        ({"Properties": {"Name": "plain text with a $ sign"}}, set()),
    ],
)
def test_references(value: Any, expected: set[str]) -> None:
    assert references(value) == expected


# What the source bucket must wait for in each TriggerMode: the edges that could close a cycle.
BUCKET_WAITS_FOR = {
    "S3": {FUNCTION, "SourceBucketInvokePermission"},
    "SQS": {"UploadsQueue", "UploadsQueuePolicy"},
    "EventBridge": set(),
}


@pytest.mark.parametrize("mode", BUCKET_WAITS_FOR)
def test_transformed_template_has_no_dependency_cycle(mode: str, cfn_template_for: Callable) -> None:
    graph = dependency_graph(cfn_template_for(mode))
    # The edges that would close a cycle are there: the checker sees the SAM-made resources.
    assert BUCKET_WAITS_FOR[mode] <= graph["SourceBucket"]
    assert f"{FUNCTION}Role" in graph[FUNCTION]
    cycle = find_cycle(graph)
    assert cycle is None, "dependency cycle: " + " -> ".join(cycle)


def test_no_cycle_even_with_every_mode_at_once(cfn_template_all: dict) -> None:
    """The union of all modes' edges (conditions ignored) is acyclic too."""
    cycle = find_cycle(dependency_graph(cfn_template_all))
    assert cycle is None, "dependency cycle: " + " -> ".join(cycle)


def source_bucket_resources(make: Callable[[bool], Any]) -> Callable[[dict], None]:
    """An edit naming the source bucket in the function's policy with make(for_objects)."""

    def edit(function: dict) -> None:
        replaced = 0
        for statement in function["Properties"]["Policies"][0]["Statement"]:
            if statement["Sid"] in ("ReadSourceObjects", "TellMissingFromForbidden"):
                statement["Resource"] = make(statement["Sid"] == "ReadSourceObjects")
                replaced += 1
        assert replaced == 2, "the policy no longer names the source bucket as this test expects"

    return edit


SOURCE_ARN = {"Fn::GetAtt": ["SourceBucket", "Arn"]}
CYCLE_MAKING_EDITS = {
    "policy-GetAtt": source_bucket_resources(
        lambda objects: {"Fn::Join": ["", [SOURCE_ARN, "/*"]]} if objects else SOURCE_ARN
    ),
    "policy-Sub": source_bucket_resources(
        lambda objects: {"Fn::Sub": "${SourceBucket.Arn}" + ("/*" if objects else "")}
    ),
    "policy-Sub-list": source_bucket_resources(
        lambda objects: {
            "Fn::Sub": [
                "arn:${AWS::Partition}:s3:::${Name}" + ("/*" if objects else ""),
                {"Name": {"Ref": "SourceBucket"}},
            ]
        }
    ),
    "DependsOn-string": lambda function: function.update(DependsOn="SourceBucket"),
    "DependsOn-list": lambda function: function.update(DependsOn=["ResizedBucket", "SourceBucket"]),
}


@pytest.mark.parametrize("edit", CYCLE_MAKING_EDITS, ids=str)
def test_cycle_check_finds_a_cycle_through_the_source_bucket(
    edit: str, sam_template: dict, translate: Callable[[dict], dict]
) -> None:
    """The check above can fail: name the source bucket by reference, and the cycle appears."""
    template = copy.deepcopy(sam_template)
    CYCLE_MAKING_EDITS[edit](template["Resources"][FUNCTION])
    cycle = find_cycle(dependency_graph(translate(template)))
    assert cycle is not None and "SourceBucket" in cycle, cycle
    cycle = starting_at(cycle, "SourceBucket")
    print(f"{edit}: {' -> '.join(cycle)}")
    # The edited resource closes it: the policy lives on the role, DependsOn on the function.
    assert cycle[-2] == (f"{FUNCTION}Role" if edit.startswith("policy") else FUNCTION), cycle


def test_cfn_lint_reports_that_cycle_too(
    sam_template: dict, translate: Callable[[dict], dict], tmp_path: Path
) -> None:
    """And so can the cfn-lint run on the transformed template (E3004: circular dependency)."""
    template = copy.deepcopy(sam_template)
    CYCLE_MAKING_EDITS["policy-GetAtt"](template["Resources"][FUNCTION])
    transformed = tmp_path / "cyclic.json"
    transformed.write_text(json.dumps(translate(template), indent=2))
    result = run_tool("cfn-lint", "--format", "parseable", transformed, home=tmp_path / "home")
    assert result.returncode != 0
    assert f"E3004:Circular Dependencies for resource {FUNCTION}Role" in result.stdout, (
        result.stdout
    )


# --- least privilege ---------------------------------------------------------------------------


def function_role(cfn_template: dict) -> dict:
    role_ref = cfn_template["Resources"][FUNCTION]["Properties"]["Role"]
    role = cfn_template["Resources"][role_ref["Fn::GetAtt"][0]]
    assert role["Type"] == "AWS::IAM::Role"
    return role


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def role_statements(role: dict) -> list[dict]:
    """Every inline statement, Sid dropped and Action/Resource always lists."""
    return [
        {k: as_list(v) if k in ("Action", "Resource") else v for k, v in s.items() if k != "Sid"}
        for policy in role["Properties"].get("Policies", [])
        for s in policy["PolicyDocument"]["Statement"]
    ]


LOGGING_POLICY = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
# X-Ray's PutTraceSegments and friends take no resource ARN, so this managed policy's "*" is the
# narrowest there is; it comes only with Tracing=Active.
XRAY_POLICY = "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess"


@pytest.mark.parametrize(
    ("tracing", "managed"), [("Disabled", [LOGGING_POLICY]), ("Active", [LOGGING_POLICY, XRAY_POLICY])]
)
def test_role_has_only_the_logging_managed_policy_and_xray_when_tracing(
    sam_template: dict, translate: Callable[..., dict], tracing: str, managed: list[str]
) -> None:
    cfn = translate(sam_template, {"Tracing": tracing})
    assert function_role(cfn)["Properties"].get("ManagedPolicyArns", []) == managed
    tracing_config = cfn["Resources"][FUNCTION]["Properties"].get("TracingConfig")
    assert tracing_config == ({"Mode": {"Ref": "Tracing"}} if tracing == "Active" else None)


def test_tracing_is_off_unless_asked_for(sam_template: dict) -> None:
    assert sam_template["Parameters"]["Tracing"]["Default"] == "Disabled"


def allow(action: str | list[str], resource: str) -> dict:
    return {"Effect": "Allow", "Action": [action] if isinstance(action, str) else action, "Resource": [resource]}


def function_statements(cfn_template_all: dict, parameters: dict[str, str] | None = None) -> list[dict]:
    """The function role's statements in one deployment, every ARN spelled out."""
    deployed = resolve_conditions(cfn_template_all, parameters)
    return sorted(spelled(role_statements(function_role(deployed)), deployed, parameters), key=canonical)


def test_role_policy_is_exactly_what_the_function_does(cfn_template_all: dict) -> None:
    """Read sources as they are now (never a version by its id); read manifests, HEAD, write and delete thumbnails;
    tell missing from forbidden in both buckets; send a failed event to the failure queue. Every resource an exact ARN."""
    expected = [
        allow("s3:GetObject", f"arn:aws:s3:::{SOURCE}/*"),
        allow("s3:ListBucket", f"arn:aws:s3:::{SOURCE}"),
        allow("s3:PutObject", "arn:aws:s3:::<ResizedBucket>/*"),
        allow("s3:DeleteObject", "arn:aws:s3:::<ResizedBucket>/*"),
        allow("s3:GetObject", "arn:aws:s3:::<ResizedBucket>/*"),
        allow("s3:ListBucket", "arn:aws:s3:::<ResizedBucket>"),
        allow("sqs:SendMessage", "<FailedEventsQueue.Arn>"),
    ]
    assert function_statements(cfn_template_all) == sorted(expected, key=canonical)


def test_role_policy_for_existing_buckets_names_only_them_and_the_prefix(cfn_template_all: dict) -> None:
    """The source bucket of record is read under its prefix only; nothing of the stack's own buckets is named."""
    expected = [
        allow("s3:GetObject", "arn:aws:s3:::photos-of-record/uploads/2026/*"),
        allow("s3:ListBucket", "arn:aws:s3:::photos-of-record"),
        allow("s3:PutObject", "arn:aws:s3:::photos-thumbnails/*"),
        allow("s3:DeleteObject", "arn:aws:s3:::photos-thumbnails/*"),
        allow("s3:GetObject", "arn:aws:s3:::photos-thumbnails/*"),
        allow("s3:ListBucket", "arn:aws:s3:::photos-thumbnails"),
        allow("sqs:SendMessage", "<FailedEventsQueue.Arn>"),
    ]
    statements = function_statements(cfn_template_all, EXISTING)
    assert statements == sorted(expected, key=canonical)
    for line in statements:
        print(f"{line['Action'][0]:<18} {line['Resource'][0]}")


def strings_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    return [s for item in value for s in strings_in(item)] if isinstance(value, list) else []


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def wildcards(statements: list[dict]) -> list[str]:
    """Every `*` in an action, and in a resource other than the trailing /* that means "any
    object key"; also Not* elements, which grant everything else."""
    found = []
    for statement in statements:
        found += [f"NotAction/NotResource in {statement}" for k in ("NotAction", "NotResource") if k in statement]
        found += [action for action in statement.get("Action", []) if "*" in action]
        found += [r for r in strings_in(statement.get("Resource", [])) if "*" in r.removesuffix("/*")]
    return found


@pytest.mark.parametrize("parameters", [{}, EXISTING, {**EXISTING, "SourceKeyPrefix": ""}], ids=["own", "existing", "no-prefix"])
def test_role_policy_has_no_wildcards(cfn_template_all: dict, parameters: dict[str, str]) -> None:
    assert wildcards(function_statements(cfn_template_all, parameters)) == []


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"},
        {"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::b/*"},
        {"Effect": "Allow", "Action": "sqs:SendMessage*", "Resource": "arn:aws:sqs:us-east-1:1:q"},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": {"Fn::Sub": "arn:aws:s3:::*/*"}},
        {"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:s3:::b"},
    ],
    ids=["service-wide", "prefix", "sam-template-style", "any-resource", "any-bucket", "NotAction"],
)
def test_wildcard_check_catches_a_broadened_statement(
    statement: dict, sam_template: dict, translate: Callable[..., dict]
) -> None:
    """The check above can fail: add a broad statement to the policy, and it is reported."""
    template = copy.deepcopy(sam_template)
    template["Resources"][FUNCTION]["Properties"]["Policies"][0]["Statement"].append(statement)
    assert wildcards(role_statements(function_role(resolve_conditions(translate(template))))) != []


def test_source_bucket_name_is_the_one_the_policy_names(cfn_template: dict) -> None:
    """The policy cannot Ref the bucket (that is the cycle); it spells the name out instead, so
    the bucket's name and the policy's ARN must be the very same string."""
    bucket_name = cfn_template["Resources"]["SourceBucket"]["Properties"]["BucketName"]
    assert bucket_name == {"Fn::Sub": SOURCE_BUCKET_NAME}
    arn = "arn:${AWS::Partition}:s3:::" + bucket_name["Fn::Sub"]
    policy_resources = [r for s in spelled(role_statements(function_role(cfn_template)), cfn_template) for r in s["Resource"]]
    assert spelled({"Fn::Sub": arn}, cfn_template) == f"arn:aws:s3:::{SOURCE}"
    assert f"arn:aws:s3:::{SOURCE}" in policy_resources
    assert f"arn:aws:s3:::{SOURCE}/*" in policy_resources


def test_source_bucket_name_is_valid_for_the_configured_stack_in_every_region() -> None:
    """S3 names: 3-63 characters, lowercase letters, digits and hyphens. The name comes from the
    stack name, which CloudFormation allows up to 128 characters and in uppercase: this holds
    samconfig.toml's stack name to what the bucket can carry (28 characters, lowercase)."""
    samconfig = tomllib.loads((REPO_ROOT / "samconfig.toml").read_text())
    stack_name = samconfig["default"]["global"]["parameters"]["stack_name"]
    session = botocore.session.get_session()
    partitions = session.get_available_partitions()
    regions = [r for p in partitions for r in session.get_available_regions("s3", p)]
    assert "us-east-1" in regions
    for region in regions:
        name = SOURCE_BUCKET_NAME.replace("${AWS::StackName}", stack_name)
        name = name.replace("${AWS::AccountId}", "123456789012").replace("${AWS::Region}", region)
        assert re.fullmatch(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]", name), name


# --- buckets -----------------------------------------------------------------------------------


@pytest.mark.parametrize("bucket", ["SourceBucket", "ResizedBucket"])
def test_bucket_is_private_encrypted_and_owner_enforced(cfn_template: dict, bucket: str) -> None:
    props = cfn_template["Resources"][bucket]["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    rules = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rules and all(r["ServerSideEncryptionByDefault"]["SSEAlgorithm"] for r in rules)
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]


@pytest.mark.parametrize("bucket", ["SourceBucket", "ResizedBucket"])
def test_bucket_policy_denies_plain_http(cfn_template: dict, bucket: str) -> None:
    policies = [
        r["Properties"]["PolicyDocument"]
        for r in cfn_template["Resources"].values()
        if r["Type"] == "AWS::S3::BucketPolicy" and r["Properties"]["Bucket"] == {"Ref": bucket}
    ]
    assert len(policies) == 1, f"{bucket} should have exactly one bucket policy"

    def secure_transport(statement: dict) -> str:
        return str(statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport"))

    deny_http = [
        s
        for s in policies[0]["Statement"]
        if s["Effect"] == "Deny" and secure_transport(s).lower() == "false"
    ]
    assert len(deny_http) == 1, policies[0]
    statement = deny_http[0]
    assert statement["Principal"] in ("*", {"AWS": "*"})
    assert as_list(statement["Action"]) == ["s3:*"]
    assert {"Fn::GetAtt": [bucket, "Arn"]} in statement["Resource"]
    assert {"Fn::Sub": f"${{{bucket}.Arn}}/*"} in statement["Resource"]


# --- the function, its trigger and the outputs -------------------------------------------------


def test_function_runtime_handler_and_code(sam_template: dict, cfn_template: dict) -> None:
    assert sam_template["Resources"][FUNCTION]["Properties"]["CodeUri"] == "src/"
    props = cfn_template["Resources"][FUNCTION]["Properties"]  # Globals merged in
    assert props["Runtime"] == "python3.13"
    assert props["Architectures"] == ["arm64"]
    assert props["Handler"] == "create_thumbnail.app.lambda_handler"


# The formats whose decoder is a layer, and the layer each attaches (template.yaml's Conditions).
DECODER_LAYERS = {"video": "VideoDecoderLayer", "jxl": "JxlDecoderLayer"}


def source_format_names(sam_template: dict) -> list[str]:
    """The names SourceFormats' pattern allows, in its order."""
    pattern = sam_template["Parameters"]["SourceFormats"]["AllowedPattern"]
    [names] = set(re.findall(r"\(((?:[a-z]+\|)+[a-z]+)\)", pattern))
    return names.split("|")


def test_source_formats_parameter_allows_exactly_what_the_function_reads(sam_template: dict) -> None:
    assert source_format_names(sam_template) == list(ALL_SOURCE_FORMATS)
    assert sam_template["Parameters"]["SourceFormats"]["Default"] == ",".join(DEFAULT_SOURCE_FORMATS)


def test_no_other_format_name_contains_a_layered_formats_name(sam_template: dict) -> None:
    """ReadsVideo and ReadsJxl ask whether removing the name from SourceFormats changes it (CloudFormation has no
    'contains'): a format named, say, 'jxl2' would attach the layer without jxl."""
    names = source_format_names(sam_template)
    for layered in DECODER_LAYERS:
        assert [name for name in names if layered in name] == [layered]


def layer_ids(template: dict, logical_id: str) -> list[str]:
    """The transformed LayerVersions made from logical_id (SAM appends a hash of the content)."""
    return [name for name in template["Resources"] if name.startswith(logical_id)]


@pytest.mark.parametrize(("formats", "layered"), [
    ("jpeg,png", set()), ("webp,gif,tiff,heif,avif,pdf,svg,raw", set()), ("video", {"video"}),
    ("jpeg,png,video", {"video"}), ("jxl", {"jxl"}), (" jpeg , jxl ", {"jxl"}), ("jxl,video,png", {"jxl", "video"}),
])  # fmt: skip
def test_a_decoder_layer_is_made_and_attached_only_when_source_formats_names_its_format(
    cfn_template_all: dict, formats: str, layered: set[str]
) -> None:
    stack = resolve_conditions(cfn_template_all, {"SourceFormats": formats})
    attached = stack["Resources"][FUNCTION]["Properties"].get("Layers", [])
    for name, logical_id in DECODER_LAYERS.items():
        made = layer_ids(stack, logical_id)
        if name in layered:
            assert len(made) == 1 and {"Ref": made[0]} in attached, (name, formats)
        else:
            assert not made and not any(ref["Ref"].startswith(logical_id) for ref in attached), (name, formats)
    assert len(attached) == len(layered)


@pytest.mark.parametrize(("name", "logical_id"), DECODER_LAYERS.items())
def test_each_decoder_layer_is_built_by_its_own_makefile_for_the_functions_runtime(
    sam_template: dict, name: str, logical_id: str
) -> None:
    layer = sam_template["Resources"][logical_id]
    assert layer["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": "arm64"}
    props = layer["Properties"]
    assert props["ContentUri"] == f"layers/{name}/"
    assert props["CompatibleRuntimes"] == [sam_template["Globals"]["Function"]["Runtime"]]
    assert props["CompatibleArchitectures"] == sam_template["Globals"]["Function"]["Architectures"]
    assert "GPL" in props["LicenseInfo"]  # both carry GPL code: the reason they are layers
    makefile = (REPO_ROOT / "layers" / name / "Makefile").read_text()
    assert re.search(rf"^build-{logical_id}:$", makefile, re.MULTILINE)


def test_function_writes_to_the_resized_bucket(cfn_template: dict) -> None:
    variables = cfn_template["Resources"][FUNCTION]["Properties"]["Environment"]["Variables"]
    assert variables["DESTINATION_BUCKET"] == {"Ref": "ResizedBucket"}
    assert "SourceBucket" not in references(variables)
    assert (variables["SOURCE_KEY_PREFIX"], variables["DELIVERY_BASE_URL"]) == ({"Ref": "SourceKeyPrefix"}, "")


def test_s3_mode_notifies_the_function_of_uploads_and_removals_in_the_source_bucket_only(
    cfn_template: dict,
) -> None:
    resources = cfn_template["Resources"]
    function_arn = {"Fn::Select": [0, [{"Fn::GetAtt": [FUNCTION, "Arn"]}, {"Ref": "SourceBucketInvokePermission"}]]}
    assert resources["SourceBucket"]["Properties"]["NotificationConfiguration"] == {
        "LambdaConfigurations": [
            {"Event": event, "Function": function_arn}
            for event in ("s3:ObjectCreated:*", "s3:ObjectRemoved:*", "s3:LifecycleExpiration:*")
        ]
    }
    # A thumbnail written to the resized bucket must never call the function again.
    assert "NotificationConfiguration" not in resources["ResizedBucket"]["Properties"]
    permission = resources["SourceBucketInvokePermission"]["Properties"]
    assert permission["Principal"] == "s3.amazonaws.com"
    assert permission["SourceAccount"] == {"Ref": "AWS::AccountId"}
    assert permission["SourceArn"] == {"Fn::Sub": SOURCE_BUCKET_ARN}
    assert not {"UploadsQueue", "UploadsEventSourceMapping", "SourceBucketEventsRule"} & set(resources)


def test_sqs_mode_goes_through_a_queue_with_partial_batch_replies(cfn_template_for: Callable) -> None:
    resources = cfn_template_for("SQS")["Resources"]
    notification = resources["SourceBucket"]["Properties"]["NotificationConfiguration"]
    assert list(notification) == ["QueueConfigurations"]
    events = [config["Event"] for config in notification["QueueConfigurations"]]
    assert events == ["s3:ObjectCreated:*", "s3:ObjectRemoved:*", "s3:LifecycleExpiration:*"]
    mapping = resources["UploadsEventSourceMapping"]["Properties"]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert (mapping["BatchSize"], mapping["MaximumBatchingWindowInSeconds"]) == (10, 5)
    queue = resources["UploadsQueue"]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["UploadsDeadLetterQueue", "Arn"]}
    assert queue["VisibilityTimeout"] >= 6 * 60 and queue["SqsManagedSseEnabled"] is True
    [allow, deny] = resources["UploadsQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert allow["Condition"]["ArnEquals"] == {"aws:SourceArn": {"Fn::Sub": SOURCE_BUCKET_ARN}}
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": False}}
    statements = role_statements(function_role(cfn_template_for("SQS")))
    consume = [s for s in statements if "sqs:ReceiveMessage" in s["Action"]]
    assert consume == [{"Effect": "Allow", "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage",
                        "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"],
                        "Resource": [{"Fn::GetAtt": ["UploadsQueue", "Arn"]}]}]  # fmt: skip
    assert "SourceBucketInvokePermission" not in resources


def test_eventbridge_mode_routes_only_this_buckets_object_events(cfn_template_for: Callable) -> None:
    resources = cfn_template_for("EventBridge")["Resources"]
    notification = resources["SourceBucket"]["Properties"]["NotificationConfiguration"]
    assert notification == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}
    pattern = resources["SourceBucketEventsRule"]["Properties"]["EventPattern"]
    assert pattern == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created", "Object Deleted"],
        "detail": {"bucket": {"name": [{"Fn::Sub": SOURCE_BUCKET_NAME}]}},
    }
    permission = resources["SourceBucketEventsPermission"]["Properties"]
    assert permission["SourceArn"] == {"Fn::GetAtt": ["SourceBucketEventsRule", "Arn"]}


def test_existing_source_bucket_is_only_listened_to(cfn_template_all: dict) -> None:
    """No bucket, bucket policy or notification of the stack's own; the rule matches that bucket
    and prefix; the function writes to the existing resized bucket; the outputs name both."""
    deployed = resolve_conditions(cfn_template_all, EXISTING)
    resources = deployed["Resources"]
    assert not [name for name, r in resources.items() if r["Type"].startswith("AWS::S3::")]
    pattern = spelled(resources["SourceBucketEventsRule"]["Properties"]["EventPattern"], deployed, EXISTING)
    assert pattern == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created", "Object Deleted"],
        "detail": {"bucket": {"name": ["photos-of-record"]}, "object": {"key": [{"prefix": "uploads/2026/"}]}},
    }
    variables = spelled(resources[FUNCTION]["Properties"]["Environment"]["Variables"], deployed, EXISTING)
    assert (variables["DESTINATION_BUCKET"], variables["SOURCE_KEY_PREFIX"]) == ("photos-thumbnails", "uploads/2026/")
    outputs = spelled({name: o["Value"] for name, o in deployed["Outputs"].items()}, deployed, EXISTING)
    assert (outputs["SourceBucketName"], outputs["ResizedBucketName"]) == ("photos-of-record", "photos-thumbnails")
    assert outputs["SourceBucketEventBridge"] == "thumbnail-local enable-eventbridge --bucket photos-of-record"


def test_rules_refuse_what_cannot_work(sam_template: dict) -> None:
    """CloudFormation checks Rules before it creates anything: each refusal names its parameters."""
    rules = sam_template["Rules"]
    assert rules["ResizedBucketIsNotTheSource"]["Assertions"][0]["Assert"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "ExistingResizedBucket"}, {"Ref": "ExistingSourceBucket"}]}]
    }
    assert rules["ExistingSourceBucketThroughEventBridge"]["Assertions"][0]["Assert"] == {
        "Fn::Equals": [{"Ref": "TriggerMode"}, "EventBridge"]
    }
    for rule in rules.values():
        [assertion] = rule["Assertions"]
        words = assertion["AssertDescription"]
        assert len(words.split()) >= 10 and any(name in words for name in sam_template["Parameters"]), words


def test_delivery_serves_the_private_bucket_over_https_through_origin_access_control(cfn_template_all: dict) -> None:
    parameters = {"Delivery": "CloudFront"}
    deployed = resolve_conditions(cfn_template_all, parameters)
    resources = deployed["Resources"]
    config = spelled(resources["ThumbnailDistribution"]["Properties"]["DistributionConfig"], deployed, parameters)
    [origin] = config["Origins"]
    assert origin["DomainName"] == "<ResizedBucket.RegionalDomainName>"
    assert origin["OriginAccessControlId"] == "<ResizedBucketOriginAccessControl.Id>"
    behaviour = config["DefaultCacheBehavior"]
    assert behaviour["ViewerProtocolPolicy"] == "https-only"
    assert behaviour["AllowedMethods"] == ["GET", "HEAD"]
    control = resources["ResizedBucketOriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
    assert (control["SigningBehavior"], control["SigningProtocol"]) == ("always", "sigv4")
    # The bucket stays private: one service principal, one distribution, objects but not the backfill records.
    assert all(resources["ResizedBucket"]["Properties"]["PublicAccessBlockConfiguration"].values())
    [policy] = [r["Properties"] for r in resources.values()
                if r["Type"] == "AWS::S3::BucketPolicy" and r["Properties"]["Bucket"] == {"Ref": "ResizedBucket"}]  # fmt: skip
    statements = {s["Sid"]: s for s in spelled(policy["PolicyDocument"]["Statement"], deployed, parameters)}
    serve = statements["ServeThroughCloudFront"]
    assert (serve["Effect"], serve["Principal"], serve["Action"]) == ("Allow", {"Service": "cloudfront.amazonaws.com"}, "s3:GetObject")
    assert serve["Resource"] == "arn:aws:s3:::<ResizedBucket>/*"
    assert serve["Condition"] == {
        "StringEquals": {"aws:SourceArn": "arn:aws:cloudfront::123456789012:distribution/<ThumbnailDistribution>"}
    }
    assert statements["KeepBackfillRecordsOffTheWeb"]["Effect"] == "Deny"
    variables = spelled(resources[FUNCTION]["Properties"]["Environment"]["Variables"], deployed, parameters)
    assert variables["DELIVERY_BASE_URL"] == "https://<ThumbnailDistribution.DomainName>"
    assert spelled(deployed["Outputs"]["ThumbnailBaseUrl"]["Value"], deployed) == "https://<ThumbnailDistribution.DomainName>"
    assert "ThumbnailDistribution" not in resolve_conditions(cfn_template_all)["Resources"]


def test_outputs(cfn_template: dict) -> None:
    outputs = {name: output["Value"] for name, output in cfn_template["Outputs"].items()}
    assert outputs["SourceBucketName"] == {"Ref": "SourceBucket"}
    assert outputs["ResizedBucketName"] == {"Ref": "ResizedBucket"}
    assert outputs["CreateThumbnailFunctionArn"] == {"Fn::GetAtt": [FUNCTION, "Arn"]}
    assert outputs["FailedEventsQueueUrl"] == {"Ref": "FailedEventsQueue"}  # thumbnail-replay's input
    assert outputs["FailedEventsAlarmName"] == {"Ref": "FailedEventsAlarm"}
    assert outputs["CreateThumbnailLogGroupName"] == {"Ref": "CreateThumbnailLogGroup"}


# --- failures, logs and limits ------------------------------------------------------------------


def test_failed_events_go_to_an_encrypted_queue_after_lambdas_retries(cfn_template: dict) -> None:
    resources = cfn_template["Resources"]
    [config] = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Lambda::EventInvokeConfig"]
    assert config["FunctionName"] == {"Ref": FUNCTION}
    assert config["Qualifier"] == "$LATEST"
    assert (config["MaximumRetryAttempts"], config["MaximumEventAgeInSeconds"]) == (2, 21600)
    assert config["DestinationConfig"] == {
        "OnFailure": {"Destination": {"Fn::GetAtt": ["FailedEventsQueue", "Arn"]}}
    }
    queue = resources["FailedEventsQueue"]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_failed_events_queue_refuses_plain_http(cfn_template: dict) -> None:
    [policy] = [
        r["Properties"]
        for r in cfn_template["Resources"].values()
        if r["Type"] == "AWS::SQS::QueuePolicy"
    ]
    assert policy["Queues"] == [{"Ref": "FailedEventsQueue"}]
    [statement] = policy["PolicyDocument"]["Statement"]
    assert (statement["Effect"], statement["Principal"], statement["Action"]) == ("Deny", "*", "sqs:*")
    assert statement["Resource"] == {"Fn::GetAtt": ["FailedEventsQueue", "Arn"]}
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": False}}


def test_an_alarm_fires_while_the_failed_events_queue_holds_a_message(cfn_template_all: dict) -> None:
    alarm = cfn_template_all["Resources"]["FailedEventsAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["FailedEventsQueue", "QueueName"]}}
    ]
    assert (alarm["Statistic"], alarm["ComparisonOperator"], alarm["Threshold"]) == (
        "Maximum", "GreaterThanThreshold", 0
    )
    assert alarm["TreatMissingData"] == "notBreaching"  # an idle queue sends no data points
    assert alarm["AlarmActions"] == {
        "Fn::If": ["HasFailureAlarmTopic", [{"Ref": "FailureAlarmTopicArn"}], {"Ref": "AWS::NoValue"}]
    }


def test_function_logs_to_its_own_group_with_retention(cfn_template: dict) -> None:
    resources = cfn_template["Resources"]
    logging = resources[FUNCTION]["Properties"]["LoggingConfig"]
    assert logging == {"LogGroup": {"Ref": "CreateThumbnailLogGroup"}}
    group = resources["CreateThumbnailLogGroup"]["Properties"]
    assert group["RetentionInDays"] == {"Ref": "LogRetentionInDays"}
    assert cfn_template["Parameters"]["LogRetentionInDays"]["Default"] == 30


def test_recursive_loop_detection_stays_on(cfn_template: dict) -> None:
    assert cfn_template["Resources"][FUNCTION]["Properties"]["RecursiveLoop"] == "Terminate"


def test_reserved_concurrency_is_set_only_when_the_parameter_is(cfn_template_all: dict) -> None:
    props = cfn_template_all["Resources"][FUNCTION]["Properties"]
    assert props["ReservedConcurrentExecutions"] == {
        "Fn::If": ["HasReservedConcurrency", {"Ref": "ReservedConcurrency"}, {"Ref": "AWS::NoValue"}]
    }
    assert cfn_template_all["Conditions"]["HasReservedConcurrency"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "ReservedConcurrency"}, ""]}]
    }
    assert cfn_template_all["Parameters"]["ReservedConcurrency"]["Default"] == ""


@pytest.mark.parametrize(
    ("parameter", "good", "bad"),
    [
        ("ReservedConcurrency", ["", "0", "25"], ["-1", "ten", "2.5"]),
        (
            "FailureAlarmTopicArn",
            ["", "arn:aws:sns:eu-west-1:123456789012:ops-alerts"],
            ["ops-alerts", "arn:aws:sqs:eu-west-1:123456789012:q"],
        ),
    ],
)
def test_optional_parameters_accept_blank_and_refuse_nonsense(
    sam_template: dict, parameter: str, good: list[str], bad: list[str]
) -> None:
    pattern = re.compile(sam_template["Parameters"][parameter]["AllowedPattern"])
    assert all(pattern.fullmatch(value) for value in good)
    assert not any(pattern.fullmatch(value) for value in bad)


def test_thumbnail_cache_control_reaches_the_function_with_the_functions_own_default(
    sam_template: dict, cfn_template: dict
) -> None:
    parameter = sam_template["Parameters"]["ThumbnailCacheControl"]
    assert parameter["Default"] == DEFAULT_THUMBNAIL_CACHE_CONTROL == "public, max-age=300"
    variables = cfn_template["Resources"][FUNCTION]["Properties"]["Environment"]["Variables"]
    assert variables["THUMBNAIL_CACHE_CONTROL"] == {"Ref": "ThumbnailCacheControl"}
    pattern = re.compile(parameter["AllowedPattern"])
    assert all(pattern.fullmatch(v) for v in ("", "no-cache", "public, max-age=31536000, immutable", "x" * 256))
    assert not any(pattern.fullmatch(v) for v in ("max-age=300\r\nX-Evil: 1", "max-âge=1", "\tno-cache", "x" * 257))


def test_video_poster_reaches_the_function_and_what_the_stack_lets_through_it_takes(
    sam_template: dict, cfn_template: dict
) -> None:
    parameter = sam_template["Parameters"]["VideoPoster"]
    variables = cfn_template["Resources"][FUNCTION]["Properties"]["Environment"]["Variables"]
    assert variables["VIDEO_POSTER"] == {"Ref": "VideoPoster"}
    pattern = re.compile(parameter["AllowedPattern"])
    good, bad = ["auto", "0", "2", "12.5", "86400", "0.001"], ["", "-1", "2,5", "1e3", "two", "86401.5x", "٢"]
    assert all(pattern.fullmatch(value) for value in good) and not any(pattern.fullmatch(v) for v in bad)
    for value in good:
        settings = Settings.from_env({"DESTINATION_BUCKET": "ok-bucket", "VIDEO_POSTER": value})
        assert settings.reading.poster == (None if value == "auto" else float(value))
    assert Settings.from_env({"DESTINATION_BUCKET": "ok-bucket", "VIDEO_POSTER": parameter["Default"]}).reading == Reading()


def test_pdf_page_reaches_the_function_with_the_functions_own_default(sam_template: dict, cfn_template: dict) -> None:
    parameter = sam_template["Parameters"]["PdfPage"]
    assert parameter["Default"] == str(Reading().page) == "1"
    variables = cfn_template["Resources"][FUNCTION]["Properties"]["Environment"]["Variables"]
    assert variables["PDF_PAGE"] == {"Ref": "PdfPage"}
    pattern = re.compile(parameter["AllowedPattern"])
    good, bad = ["1", "2", "40", str(MAX_PDF_PAGE)], ["", "0", "-1", "01", "two", "2.0", " 2", "1e3", "٢"]
    assert all(pattern.fullmatch(value) for value in good)
    assert not any(pattern.fullmatch(value) for value in bad)
    # what the stack lets through, the function takes (up to PDF's own limit, which it names)
    for value in good:
        assert Settings.from_env({"DESTINATION_BUCKET": "ok-bucket", "PDF_PAGE": value}).reading.page == int(value)


# --- sample events -----------------------------------------------------------------------------

EVENT_FILES = sorted((REPO_ROOT / "events").iterdir())


def test_there_are_sample_events() -> None:
    assert EVENT_FILES


@pytest.mark.parametrize("path", EVENT_FILES, ids=lambda p: p.name)
def test_sample_event_is_valid_json(path: Path) -> None:
    json.loads(path.read_text())


def test_batch_operations_role_invokes_the_function_and_touches_only_backfill_files(cfn_template: dict) -> None:
    role = cfn_template["Resources"]["BatchOperationsRole"]["Properties"]
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "batchoperations.s3.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    [policy] = role["Policies"]
    statements = {s["Sid"]: (s["Action"], s["Resource"]) for s in policy["PolicyDocument"]["Statement"]}
    assert spelled(statements, cfn_template) == {
        "InvokeFunction": ("lambda:InvokeFunction", f"<{FUNCTION}.Arn>"),
        "ReadManifests": (["s3:GetObject", "s3:GetObjectVersion"], "arn:aws:s3:::<ResizedBucket>/_backfill/manifests/*"),
        "WriteReports": ("s3:PutObject", "arn:aws:s3:::<ResizedBucket>/_backfill/reports/*"),
    }
    assert "ManagedPolicyArns" not in role


def test_completion_events_put_on_the_named_bus_only(cfn_template_all: dict, cfn_template: dict) -> None:
    from tests.template.conftest import resolve_conditions

    assert not [s for s in role_statements(function_role(cfn_template)) if "events:PutEvents" in s["Action"]]
    assert cfn_template["Resources"][FUNCTION]["Properties"]["Environment"]["Variables"]["EVENT_BUS_NAME"] == ""
    on = resolve_conditions(cfn_template_all, {"CompletionEvents": "thumbnails"})
    [put] = [s for s in role_statements(function_role(on)) if "events:PutEvents" in s["Action"]]
    assert put == {"Effect": "Allow", "Action": ["events:PutEvents"],
                   "Resource": [{"Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/${CompletionEvents}"}]}  # fmt: skip
    variables = on["Resources"][FUNCTION]["Properties"]["Environment"]["Variables"]
    assert variables["EVENT_BUS_NAME"] == {"Ref": "CompletionEvents"}
