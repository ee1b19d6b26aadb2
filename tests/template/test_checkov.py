"""checkov on template.yaml as written and as the SAM transform expands it (the generated role,
Lambda permission and event invoke config exist only there): no failed check, and every skip
explained in the template and still needed. checkov decides each Condition from the parameters'
defaults, so two more variants make it see the rest: Delivery=CloudFront (the distribution), and
buckets that already exist (the stack then creates neither).

checkov runs from .venv-checkov (scripts/bootstrap.sh test makes it): its own pins of boto3, botocore
and networkx clash with moto's and the SAM CLI's. --skip-download keeps it offline (otherwise it
fetches guidelines from its vendor's API on every run).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.template.conftest import REPO_ROOT, TEMPLATE_PATH

CHECKOV = REPO_ROOT / ".venv-checkov" / "bin" / "checkov"


def run_checkov(path: Path) -> dict[str, Any]:
    if not CHECKOV.exists():
        pytest.fail(f"{CHECKOV} is missing: run scripts/bootstrap.sh test (scripts/test does)", pytrace=False)
    result = subprocess.run(
        [str(CHECKOV), "--file", str(path), "--framework", "cloudformation", "--skip-download",
         "--output", "json"],
        capture_output=True, text=True, check=False, timeout=300, cwd=path.parent,
    )  # fmt: skip
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"checkov gave no JSON report (exit {result.returncode}):\n{result.stderr[-3000:]}")
    assert report["summary"]["parsing_errors"] == 0, report["summary"]
    return report


# Parameter defaults of each variant checkov scans beside the defaults themselves.
VARIANTS: dict[str, dict[str, str]] = {
    "delivery": {"Delivery": "CloudFront"},
    "existing buckets": {"ExistingSourceBucket": "photos-of-record", "SourceKeyPrefix": "uploads/",
                         "ExistingResizedBucket": "photos-thumbnails", "TriggerMode": "EventBridge"},
}  # fmt: skip
REPORTS = ["template.yaml", "transformed", *VARIANTS]


def with_defaults(template: dict, defaults: dict[str, str]) -> dict:
    changed = json.loads(json.dumps(template))
    for name, value in defaults.items():
        changed["Parameters"][name]["Default"] = value
    return changed


@pytest.fixture(scope="session")
def checkov_reports(cfn_template_all: dict, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    folder = tmp_path_factory.mktemp("checkov")
    files = {"transformed": cfn_template_all} | {
        name: with_defaults(cfn_template_all, defaults) for name, defaults in VARIANTS.items()
    }
    reports = {"template.yaml": run_checkov(TEMPLATE_PATH)}
    for name, template in files.items():
        path = folder / f"{name.replace(' ', '-')}.json"
        path.write_text(json.dumps(template, indent=2))
        reports[name] = run_checkov(path)
    return reports


def declared_skips(template: dict) -> dict[tuple[str, str], str]:
    """(resource, check id) -> the comment given for skipping it, from each resource's Metadata."""
    return {
        (name, skip["id"]): skip.get("comment", "")
        for name, resource in template["Resources"].items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    }


def skipped(report: dict) -> set[tuple[str, str]]:
    return {(c["resource"].split(".", 1)[1], c["check_id"]) for c in report["results"]["skipped_checks"]}


@pytest.mark.parametrize("which", REPORTS)
def test_checkov_finds_nothing_failed(checkov_reports: dict[str, dict], which: str) -> None:
    report = checkov_reports[which]
    failed = [f"{c['check_id']} {c['resource']}: {c['check_name']}" for c in report["results"]["failed_checks"]]
    assert failed == []
    assert report["summary"]["passed"] > 10  # it did look: buckets, role, function, queue, logs


def test_every_skip_says_why(sam_template: dict) -> None:
    skips = declared_skips(sam_template)
    assert skips, "no checkov skips found: has the Metadata layout changed?"
    unexplained = [skip for skip, comment in skips.items() if len(comment.split()) < 8]
    assert unexplained == []


def test_every_skip_is_still_needed(checkov_reports: dict[str, dict], sam_template: dict) -> None:
    """A skip checkov no longer applies (renamed check, fixed resource) is a stale excuse."""
    used = set().union(*(skipped(report) for report in checkov_reports.values()))
    assert set(declared_skips(sam_template)) == used


def test_the_variants_reach_what_the_defaults_do_not(checkov_reports: dict[str, dict]) -> None:
    def resources(report: dict) -> set[str]:
        checks = report["results"]["passed_checks"] + report["results"]["skipped_checks"]
        return {check["resource"].split(".", 1)[1] for check in checks}

    assert "ThumbnailDistribution" in resources(checkov_reports["delivery"])
    assert not {"SourceBucket", "ResizedBucket"} & resources(checkov_reports["existing buckets"])


def test_skips_hide_real_failures(sam_template: dict, translate: Callable[..., dict], tmp_path: Path) -> None:
    """Without its Metadata each skipped check fails, so the zero above is the skips' doing and
    checkov really evaluates these resources."""
    template = with_defaults(sam_template, VARIANTS["delivery"])
    for resource in template["Resources"].values():
        resource.get("Metadata", {}).pop("checkov", None)
    bare = tmp_path / "no-skips.json"
    bare.write_text(json.dumps(template, indent=2))
    report = run_checkov(bare)
    failed = {(c["resource"].split(".", 1)[1], c["check_id"]) for c in report["results"]["failed_checks"]}
    assert failed == set(declared_skips(sam_template))
