"""What a storm does to the source bucket: a seeded sequence of operations, planned before any
request is sent, then performed one by one on a real S3 API (moto's server over HTTP).

Planning is pure, so a seed always makes the same sequence whatever S3 answers: each key's
versions are modelled as a stack (oldest first) of objects and delete markers, and operations
name a version by its position in that stack, since real version IDs only exist once S3 has
answered. The performer keeps the real IDs in the same positions and records every answer.

On an unversioned bucket a key holds at most one object: put (the key is absent), overwrite
(different bytes, sometimes the other format: a PNG under a .jpg key changes the thumbnail's
name) and delete. On a versioned bucket a delete leaves a delete marker, and three more
operations change what is current without any creation: deleting a noncurrent version (nothing
current changes), deleting the current version by its VersionId (the one below becomes
current, or a marker, or nothing) and deleting a delete marker (an undelete: the version under
it is current again). S3 tells the function of each only with an ObjectRemoved event.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Literal

from storm.errors import HarnessError
from storm.images import FORMATS, content_type, source_image

Kind = Literal["put", "overwrite", "delete", "delete_noncurrent", "delete_current_version",
               "undelete"]  # fmt: skip
KINDS: tuple[Kind, ...] = ("put", "overwrite", "delete", "delete_noncurrent",
                           "delete_current_version", "undelete")  # fmt: skip
# How often a put stores the format the key's extension does not claim (a PNG named .jpg), and
# how often an overwrite switches format.
OTHER_FORMAT = 0.3


@dataclass(frozen=True, slots=True)
class Operation:
    """One planned change. position: for the version deletes, the version's place in the key's
    stack (0 = oldest). variant: which image of image_format a put uploads; every put of a run
    has its own, so an overwrite always changes the bytes."""

    index: int
    kind: Kind
    key: str
    image_format: str | None = None
    variant: int | None = None
    position: int | None = None


@dataclass(frozen=True, slots=True)
class Performed:
    """An operation and what S3 answered. version_id: the new version (put), the new delete
    marker (delete, versioned) or the version removed (the version deletes). etag and size:
    puts only. delete_marker: S3's x-amz-delete-marker answer, as given (moto leaves it out when
    a marker is removed, so `removed_marker` says what the plan knows)."""

    operation: Operation
    version_id: str | None
    etag: str | None
    size: int | None
    delete_marker: bool
    removed_marker: bool


@dataclass(frozen=True, slots=True)
class _Entry:
    marker: bool
    image_format: str | None = None


def plan_operations(
    seed: int, keys: Sequence[str], count: int, versioned: bool
) -> list[Operation]:
    """count operations over keys, each applicable to the key's state at that point."""
    rng = random.Random(f"storm-operations:{seed}")
    stacks: dict[str, list[_Entry]] = {key: [] for key in keys}
    plan = []
    for index in range(count):
        key = rng.choice(list(keys))
        kind = _choose_kind(rng, stacks[key], versioned)
        operation = _operation(rng, index, kind, key, stacks[key])
        _apply(stacks[key], operation, versioned)
        plan.append(operation)
    return plan


def _choose_kind(rng: random.Random, stack: list[_Entry], versioned: bool) -> Kind:
    live = bool(stack) and not stack[-1].marker
    weights: dict[Kind, float] = {}
    if not live:
        weights["put"] = 3
        if stack:  # a delete marker on top
            weights["undelete"] = 2
    else:
        weights["overwrite"] = 3
        weights["delete"] = 2
        if versioned:
            weights["delete_current_version"] = 1.5
    if versioned and _noncurrent_objects(stack):
        weights["delete_noncurrent"] = 1.5
    kinds = list(weights)
    return rng.choices(kinds, [weights[kind] for kind in kinds])[0]


def _noncurrent_objects(stack: list[_Entry]) -> list[int]:
    return [n for n, entry in enumerate(stack[:-1]) if not entry.marker]


def _operation(
    rng: random.Random, index: int, kind: Kind, key: str, stack: list[_Entry]
) -> Operation:
    if kind in ("put", "overwrite"):
        return Operation(index, kind, key, _format_for(rng, kind, key, stack), variant=index)
    if kind == "delete_noncurrent":
        return Operation(index, kind, key, position=rng.choice(_noncurrent_objects(stack)))
    if kind in ("delete_current_version", "undelete"):
        return Operation(index, kind, key, position=len(stack) - 1)
    return Operation(index, kind, key)


def _format_for(rng: random.Random, kind: Kind, key: str, stack: list[_Entry]) -> str:
    """Mostly the format the extension claims (a put) or the one stored (an overwrite)."""
    if kind == "overwrite" and stack[-1].image_format:
        usual = stack[-1].image_format
    else:
        usual = "PNG" if PurePosixPath(key).suffix.lower() == ".png" else "JPEG"
    other = next(fmt for fmt in FORMATS if fmt != usual)
    return other if rng.random() < OTHER_FORMAT else usual


def _apply(stack: list[_Entry], operation: Operation, versioned: bool) -> None:
    """The plan's model of S3: what each operation does to the key's version stack."""
    if operation.kind in ("put", "overwrite"):
        if not versioned:
            stack.clear()
        stack.append(_Entry(False, operation.image_format))
    elif operation.kind == "delete":
        if versioned:
            stack.append(_Entry(True))
        else:
            stack.clear()
    else:
        assert operation.position is not None
        del stack[operation.position]


class Performer:
    """Performs planned operations on one bucket, keeping each key's real version IDs (and the
    ETag of each object version) in the positions the plan names."""

    def __init__(self, s3: Any, bucket: str, versioned: bool) -> None:
        self._s3 = s3
        self.bucket = bucket
        self.versioned = versioned
        self._stacks: dict[str, list[tuple[str | None, str | None]]] = {}  # (version, etag)

    def perform(self, operation: Operation) -> Performed:
        stack = self._stacks.setdefault(operation.key, [])
        if operation.kind in ("put", "overwrite"):
            return self._put(operation, stack)
        if operation.kind == "delete":
            answer = self._s3.delete_object(Bucket=self.bucket, Key=operation.key)
            version = answer.get("VersionId") if self.versioned else None
            if self.versioned:
                if not version:
                    raise HarnessError(f"a delete of {operation.key!r} made no delete marker")
                stack.append((version, None))
            else:
                stack.clear()
            return Performed(operation, version, None, None, bool(answer.get("DeleteMarker")),
                             removed_marker=False)  # fmt: skip
        assert operation.position is not None
        version, etag = stack.pop(operation.position)
        answer = self._s3.delete_object(Bucket=self.bucket, Key=operation.key, VersionId=version)
        return Performed(operation, answer.get("VersionId") or version, None, None,
                         bool(answer.get("DeleteMarker")), removed_marker=etag is None)  # fmt: skip

    def _put(self, operation: Operation, stack: list[tuple[str | None, str | None]]) -> Performed:
        assert operation.image_format is not None and operation.variant is not None
        body = source_image(operation.image_format, operation.variant)
        answer = self._s3.put_object(
            Bucket=self.bucket, Key=operation.key, Body=body,
            ContentType=content_type(operation.image_format),
        )  # fmt: skip
        version = answer.get("VersionId") if self.versioned else None
        etag = answer["ETag"].strip('"')
        if not self.versioned:
            stack.clear()
        stack.append((version, etag))
        return Performed(operation, version, etag, len(body), False, False)

    def expected_current(self) -> dict[str, tuple[str, str | None]]:
        """key -> (ETag, VersionId) of what the operations left current, by the plan's model of
        S3: the judge's reading of the bucket must agree, or the emulator is not the S3 the
        storm assumes."""
        current: dict[str, tuple[str, str | None]] = {}
        for key, stack in self._stacks.items():
            version, etag = stack[-1] if stack else (None, None)
            if etag is not None:
                current[key] = (etag, version)
        return current


def operation_counts(operations: Sequence[Operation]) -> dict[str, int]:
    counts = dict.fromkeys(KINDS, 0)
    for operation in operations:
        counts[operation.kind] += 1
    return {kind: n for kind, n in counts.items() if n}
