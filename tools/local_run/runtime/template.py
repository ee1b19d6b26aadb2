"""template.yaml as `sam local invoke` reads it, and its host-architecture variant.

The function's handler, runtime, timeout, memory and environment come from the SAM CLI's own
providers (Globals merged, parameters and intrinsics resolved exactly as `sam local` resolves
them), not from a parser of ours that could drift from SAM's rules. The one thing sam local does
not do for us is give a bucket a name: `!Ref ResizedBucket` resolves to the logical ID, which is
no valid bucket name, so every AWS::S3::Bucket is handed a local name through the same
logical-ID translation sam uses for parameter overrides.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The SAM CLI is imported where it is used: the in-process demo imports this module for its
# types, and ./scripts/demo installs no SAM CLI (pyproject.toml's demo extra).


class TemplateError(Exception):
    """The template cannot be run locally as asked (no such function, an image function...)."""


@dataclass(frozen=True)
class FunctionSpec:
    """One function as the Lambda service would configure it."""

    logical_id: str
    handler: str
    runtime: str
    timeout_s: int
    memory_mb: int
    architectures: tuple[str, ...]
    code_uri: Path
    variables: Mapping[str, str]
    logging_config: Mapping[str, Any]
    function_id: str
    function_name: str
    full_path: str


def local_bucket_name(logical_id: str) -> str:
    """ResizedBucket -> local-resized-bucket: stable, so a local run's buckets are recognisable."""
    return "local-" + re.sub(r"(?<!^)(?=[A-Z])", "-", logical_id).lower()


def load(path: Path) -> dict[str, Any]:
    """The template with short-form tags as Fn:: dicts, as the SAM CLI loads it."""
    from samcli.yamlhelper import yaml_parse

    return yaml_parse(path.read_text(encoding="utf-8"))


def bucket_names(template: Mapping[str, Any]) -> dict[str, str]:
    """Logical ID -> local name, for every S3 bucket the template declares."""
    return {
        logical_id: local_bucket_name(logical_id)
        for logical_id, resource in template.get("Resources", {}).items()
        if resource.get("Type") == "AWS::S3::Bucket"
    }


def read_function(
    path: Path, function: str | None = None, deployed: Mapping[str, str] | None = None
) -> FunctionSpec:
    """The function named (or the template's only one), with bucket Refs as local names.

    deployed: a stack's parameter values and its resources' physical IDs, by name; the
    environment then resolves as that stack set it (conditions decided from those parameters,
    Refs to its resources as their physical names), by the SAM CLI's rules as before."""
    from samcli.lib.providers.sam_function_provider import SamFunctionProvider
    from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider

    overrides = {**bucket_names(load(path)), **(deployed or {})}
    stacks, _ = SamLocalStackProvider.get_stacks(str(path), parameter_overrides=overrides)
    provider = SamFunctionProvider(stacks, ignore_code_extraction_warnings=True)
    functions = list(provider.get_all())
    if function is None:
        if len(functions) != 1:
            names = ", ".join(f.name for f in functions)
            raise TemplateError(f"{path} has {len(functions)} functions ({names}): name one")
        found = functions[0]
    else:
        found = provider.get(function)
        if found is None:
            raise TemplateError(f"{path} has no function {function!r}")
    if found.packagetype != "Zip" or not found.codeuri:
        raise TemplateError(f"{found.name}: only Zip functions with a CodeUri run locally")
    variables = (found.environment or {}).get("Variables") or {}
    return FunctionSpec(
        logical_id=found.name,
        handler=found.handler,
        runtime=found.runtime,
        timeout_s=int(found.timeout or 3),  # Lambda's defaults when the template sets none
        memory_mb=int(found.memory or 128),
        architectures=tuple(found.architectures or ["x86_64"]),
        code_uri=(path.parent / found.codeuri).resolve(),
        variables={name: _stringify(value) for name, value in variables.items()},
        logging_config=found.logging_config or {},
        function_id=found.function_id,
        function_name=found.functionname,
        full_path=found.full_path,
    )


def _stringify(value: Any) -> str:
    """As sam local: an unresolved intrinsic (a dict or list) or None becomes ''."""
    if isinstance(value, (dict, list, tuple)) or value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def host_variant(path: Path, logical_id: str, architecture: str) -> str:
    """The template's text with the function built for `architecture` and its CodeUri absolute.

    The copy lives in its own build directory, so a relative CodeUri would point nowhere; every
    other property stays as written, so the variant builds exactly what `sam build` would.
    """
    from samcli.yamlhelper import yaml_dump

    template = load(path)
    function_globals = template.get("Globals", {}).get("Function", {})
    if "Architectures" in function_globals:
        function_globals["Architectures"] = [architecture]
    properties = template["Resources"][logical_id].setdefault("Properties", {})
    if "Architectures" in properties or "Architectures" not in function_globals:
        properties["Architectures"] = [architecture]
    code_uri = properties.get("CodeUri", function_globals.get("CodeUri"))
    if isinstance(code_uri, str) and "://" not in code_uri:
        properties["CodeUri"] = str((path.parent / code_uri).resolve())
    return yaml_dump(template)
