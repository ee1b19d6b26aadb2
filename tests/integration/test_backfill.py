"""Backfill end to end: locally against moto's HTTP S3 (interrupted, then resumed), and the
deployed path's job creation against stubbed CloudFormation, Lambda, STS and S3 Control (moto
does not serve Batch Operations jobs), with the manifest written to moto's S3."""

from __future__ import annotations

import argparse
import csv
import io
import json
import uuid
from urllib.parse import unquote_plus

import boto3
from botocore.stub import ANY, Stubber
from local_run.backfill.command import backfill_local, backfill_stack
from local_run.backfill.plan import Targets, missing_keys, settings_for
from local_run.cli import main
from local_run.inputs.grid import source_bytes
from local_run.shared import local_s3_client

ARGS = dict(seed=60, batch_size=5, workers=2, dry_run=False, max_batches=None, stale=False)
ENV = {"THUMBNAIL_SIZES": "64x64,128x128"}


def _targets() -> Targets:
    suffix = uuid.uuid4().hex[:10]
    resized = f"bf-resized-{suffix}"
    return Targets(f"bf-source-{suffix}", resized, settings_for(resized, ENV))


def test_interrupted_backfill_resumes_without_redoing_work(s3_endpoint, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the function's log goes to out/ here
    targets = _targets()
    s3 = local_s3_client(s3_endpoint)

    first = backfill_local(s3_endpoint, targets, ENV, argparse.Namespace(**{**ARGS, "max_batches": 2}), io.StringIO())
    assert first == 0
    left = missing_keys(s3, targets)
    # 60 objects: 6 text files, 54 images, 18 thumbnailed by the seed, 10 by the first run.
    assert len(left) == 54 - 18 - 10
    thumbnails_before = _objects(s3, targets.resized_bucket)

    second = backfill_local(s3_endpoint, targets, ENV, argparse.Namespace(**{**ARGS, "seed": 0}), io.StringIO())
    assert second == 0 and missing_keys(s3, targets) == []
    thumbnails_after = _objects(s3, targets.resized_bucket)
    assert len(thumbnails_after) == 54 * 3  # two boxes and a manifest each
    # Nothing made before the interruption was made again: same keys, same ETags.
    assert {k: thumbnails_after[k] for k in thumbnails_before} == thumbnails_before


def _objects(s3, bucket: str) -> dict[str, str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {o["Key"]: o["ETag"] for page in pages for o in page.get("Contents", [])}


def test_deployed_backfill_writes_the_manifest_and_creates_the_job(s3_endpoint, capsys):
    s3 = local_s3_client(s3_endpoint)
    targets = _targets()
    for bucket in (targets.source_bucket, targets.resized_bucket):
        s3.create_bucket(Bucket=bucket)
    for key in ("a.jpg", "b c+d.png", "notes.txt"):
        s3.put_object(Bucket=targets.source_bucket, Key=key, Body=b"x")
    for key in ("64x64/a.jpg", "128x128/a.jpg"):
        s3.put_object(Bucket=targets.resized_bucket, Key=key, Body=b"x")
    function_arn = "arn:aws:lambda:us-east-1:123456789012:function:create-thumbnail"
    clients = {name: boto3.client(name, region_name="us-east-1", aws_access_key_id="testing",
                                  aws_secret_access_key="testing")  # fmt: skip
               for name in ("cloudformation", "lambda", "s3control", "sts")}
    clients["s3"] = s3
    stubs = {name: Stubber(clients[name]) for name in ("cloudformation", "lambda", "s3control", "sts")}
    outputs = {"SourceBucketName": targets.source_bucket, "ResizedBucketName": targets.resized_bucket,
               "CreateThumbnailFunctionArn": function_arn,
               "BatchOperationsRoleArn": "arn:aws:iam::123456789012:role/batch"}  # fmt: skip
    stubs["cloudformation"].add_response("describe_stacks", {"Stacks": [{
        "StackName": "thumbs", "CreationTime": "2026-11-23T00:00:00Z", "StackStatus": "CREATE_COMPLETE",
        "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()]}]}, {"StackName": "thumbs"})  # fmt: skip
    stubs["lambda"].add_response(
        "get_function_configuration", {"Environment": {"Variables": {**ENV, "DESTINATION_BUCKET": "x"}}},
        {"FunctionName": function_arn},
    )
    stubs["sts"].add_response("get_caller_identity", {"Account": "123456789012"}, {})
    stubs["s3control"].add_response("create_job", {"JobId": "job-42"}, {
        "AccountId": "123456789012", "ConfirmationRequired": False, "Priority": 10,
        "Operation": {"LambdaInvoke": {"FunctionArn": function_arn, "InvocationSchemaVersion": "2.0"}},
        "Manifest": ANY, "Report": ANY, "RoleArn": "arn:aws:iam::123456789012:role/batch",
        "ClientRequestToken": ANY, "Description": ANY})  # fmt: skip
    for stub in stubs.values():
        stub.activate()

    assert backfill_stack(clients, "thumbs", dry_run=False, out=io.StringIO()) == 0

    for stub in stubs.values():
        stub.assert_no_pending_responses()
    assert capsys.readouterr().out.strip() == "job-42"
    [manifest] = [k for k in _objects(s3, targets.resized_bucket) if k.startswith("_backfill/manifests/")]
    body = s3.get_object(Bucket=targets.resized_bucket, Key=manifest)["Body"].read().decode()
    rows = list(csv.reader(io.StringIO(body)))
    assert [(bucket, unquote_plus(key)) for bucket, key in rows] == [(targets.source_bucket, "b c+d.png")]


def test_a_rules_change_then_a_stale_backfill_renders_again_exactly_what_it_touched(s3_endpoint, tmp_path, monkeypatch):
    """30 images under photos/, 30 under avatars/, 6 text files: all thumbnailed; then avatars/
    gets a rule of its own (centre gravity, WebP too). --stale finds the 30 avatars, re-renders
    them and finds nothing the second time; photos/ is never touched. A later change of gravity
    alone leaves every key in place, and only the digest the thumbnails record finds them."""
    monkeypatch.chdir(tmp_path)
    targets = _targets()
    s3 = local_s3_client(s3_endpoint)
    for bucket in (targets.source_bucket, targets.resized_bucket):
        s3.create_bucket(Bucket=bucket)
    for index in range(66):
        folder = ("photos", "avatars")[index % 2]
        key = f"{folder}/{index:03d}.jpg" if index < 60 else f"notes/{index}.txt"
        s3.put_object(Bucket=targets.source_bucket, Key=key, Body=source_bytes("RGB", (160, 120), "JPEG") if index < 60 else b"text")
    args = argparse.Namespace(**{**ARGS, "seed": 0, "stale": True})
    assert backfill_local(s3_endpoint, targets, ENV, args, io.StringIO()) == 0
    before = _objects(s3, targets.resized_bucket)
    assert len(before) == 60 * 3 and missing_keys(s3, targets, stale=True) == []

    rules = json.dumps({"avatars/": {"gravity": "centre", "formats": "source,webp"}})
    changed_env = {**ENV, "THUMBNAIL_RULES": rules}
    changed = Targets(targets.source_bucket, targets.resized_bucket, settings_for(targets.resized_bucket, changed_env))
    stale = missing_keys(s3, changed, stale=True)
    assert sorted(stale) == sorted(f"avatars/{i:03d}.jpg" for i in range(1, 60, 2))
    assert missing_keys(s3, changed) == stale  # all lack their new .webp
    out = io.StringIO()
    assert backfill_local(s3_endpoint, changed, changed_env, args, out) == 0
    assert "30 source objects" in out.getvalue()
    after = _objects(s3, targets.resized_bucket)
    assert {k: v for k, v in after.items() if "/photos/" in k} == {k: v for k, v in before.items() if "/photos/" in k}
    assert len([k for k in after if k.endswith(".webp")]) == 60
    assert missing_keys(s3, changed, stale=True) == []

    only_gravity = {**changed_env, "THUMBNAIL_RULES": json.dumps({"avatars/": {"gravity": "attention", "formats": "source,webp"}})}
    regravity = Targets(targets.source_bucket, targets.resized_bucket, settings_for(targets.resized_bucket, only_gravity))
    assert missing_keys(s3, regravity) == []  # every key is there: only the digest tells
    assert len(missing_keys(s3, regravity, stale=True)) == 30


def test_a_shared_bucket_is_backfilled_under_the_source_key_prefix_only(s3_endpoint, tmp_path, monkeypatch):
    """ExistingSourceBucket with SourceKeyPrefix: the function reads only under the prefix, so the
    plan lists only there (anything else would be a failed task per object outside it)."""
    monkeypatch.chdir(tmp_path)
    suffix = uuid.uuid4().hex[:10]
    source, resized = f"bf-shared-{suffix}", f"bf-resized-{suffix}"
    env = {**ENV, "SOURCE_KEY_PREFIX": "photos/"}
    s3 = local_s3_client(s3_endpoint)
    for bucket in (source, resized):
        s3.create_bucket(Bucket=bucket)
    photo = source_bytes("RGB", (120, 90), "JPEG")
    for key in ("photos/a.jpg", "photos/2026/b.jpg", "private/c.jpg", "photosphere.jpg"):
        s3.put_object(Bucket=source, Key=key, Body=photo)
    targets = Targets(source, resized, settings_for(resized, env))
    assert missing_keys(s3, targets) == ["photos/2026/b.jpg", "photos/a.jpg"]
    assert backfill_local(s3_endpoint, targets, env, argparse.Namespace(**{**ARGS, "seed": 0}), io.StringIO()) == 0
    assert sorted(k for k in _objects(s3, resized) if not k.startswith("manifests/")) == [
        "128x128/photos/2026/b.jpg", "128x128/photos/a.jpg", "64x64/photos/2026/b.jpg", "64x64/photos/a.jpg"]


def test_the_command_takes_source_key_prefix_from_the_shell_with_the_other_settings(
    s3_endpoint, tmp_path, monkeypatch, capsys
):
    """`SOURCE_KEY_PREFIX=photos/ thumbnail-local backfill --endpoint-url ...`: the plan lists
    under the prefix, as the function reads, instead of counting every other key as missing."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOURCE_KEY_PREFIX", "photos/")
    suffix = uuid.uuid4().hex[:10]
    source, resized = f"bf-cli-{suffix}", f"bf-cli-resized-{suffix}"
    s3 = local_s3_client(s3_endpoint)
    for bucket in (source, resized):
        s3.create_bucket(Bucket=bucket)
    photo = source_bytes("RGB", (120, 90), "JPEG")
    for key in ("photos/a.jpg", "private/c.jpg", "photosphere.jpg"):
        s3.put_object(Bucket=source, Key=key, Body=photo)
    argv = ["backfill", "--endpoint-url", s3_endpoint, "--source-bucket", source,
            "--resized-bucket", resized]  # fmt: skip
    assert main(argv) == 0
    assert f"1 source objects in {source} lack thumbnails" in capsys.readouterr().err
    assert [k for k in _objects(s3, resized) if not k.startswith("manifests/")] == ["256x256/photos/a.jpg"]
