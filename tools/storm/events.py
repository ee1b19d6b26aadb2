"""The event S3 sends for each performed operation, in one of two shapes, templated on the
payloads in events/ (put.json, delete.json, eventbridge-object-created.json,
eventbridge-object-deleted.json) and filled in as AWS documents them.

S3 notification (one record per message, as S3 sends them): `ObjectCreated:Put` with the key
form-encoded (quote_plus: a space is '+', a plus '%2B', '/' kept), size, eTag, versionId on a
versioned bucket, and sequencer; `ObjectRemoved:Delete` for a delete on an unversioned bucket
and for every delete of a specific version (noncurrent, current, or a delete marker: removing
a marker is an ObjectRemoved:Delete naming the marker's version, never a creation);
`ObjectRemoved:DeleteMarkerCreated` naming the new marker's version. Removals carry no eTag
and no size. (User guide: "Event message structure" and "Supported event types".)

EventBridge: "Object Created" with reason PutObject, "Object Deleted" with reason
DeleteObject and deletion-type "Delete Marker Created" (a marker was made) or "Permanently
Deleted" (an unversioned delete, or a version deleted by its ID); detail.object.key is the key
as it is, never encoded, and `version-id` names the version as above. AWS's example of a
delete-marker event carries the empty body's MD5 as its etag; so do these. (User guide:
"EventBridge event message structure", the deletion-type field.)

Every event of a key carries a sequencer, an 18-digit hex string that grows with each
operation on that key, as S3's do (they order one key's events only). A re-delivered event is
the same event: same sequencer, same EventBridge id.

Why not moto's own notifications: moto 5 sends a record with key, size and eTag only (no
versionId, no sequencer), sends nothing when a delete marker is made or when a version is
deleted while others remain, and delivers synchronously, in order, exactly once. A storm needs
every removal S3 reports, with the version it names, delivered late, twice and shuffled.
(On LocalStack the storm takes the events its S3 sent instead: storm/sent_events.py.)

label_of names what any event says happened, built here or sent by an emulator, and
documented_label what AWS documents for each operation: the LocalStack storm compares them.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from local_run.inputs.s3_events import encode_key, eventbridge_event, load_event, put_record

from storm.operations import Kind, Performed
from storm.sources import Arrival

if TYPE_CHECKING:
    from storm.run import StormConfig

Shape = Literal["s3", "eventbridge"]
SHAPES: tuple[Shape, ...] = ("s3", "eventbridge")
# What AWS's example "Object Deleted" (delete marker created) carries as etag: MD5 of nothing.
EMPTY_MD5 = "d41d8cd98f00b204e9800998ecf8427e"
TEST_EVENT = "s3:TestEvent"


def label_of(event: dict[str, Any]) -> str:
    """What an event says happened: the notification's eventName ("ObjectRemoved:Delete"),
    "s3:TestEvent", or the EventBridge detail-type with its deletion-type or reason
    ("Object Deleted (Delete Marker Created)", "Object Created (PutObject)")."""
    if event.get("Event") == TEST_EVENT:
        return TEST_EVENT
    if "Records" in event:
        return " + ".join(str(record.get("eventName")) for record in event["Records"])
    detail = event.get("detail") or {}
    why = detail.get("deletion-type") or detail.get("reason")
    return f"{event.get('detail-type')} ({why})" if why else str(event.get("detail-type"))


def documented_label(kind: Kind, versioned: bool, shape: Shape) -> str:
    """label_of the event AWS documents for an operation (module docstring)."""
    created = kind in ("put", "overwrite")
    marker = kind == "delete" and versioned
    if shape == "s3":
        if created:
            return "ObjectCreated:Put"
        return "ObjectRemoved:DeleteMarkerCreated" if marker else "ObjectRemoved:Delete"
    if created:
        return "Object Created (PutObject)"
    return f"Object Deleted ({'Delete Marker Created' if marker else 'Permanently Deleted'})"


class EventFactory:
    """Builds each operation's event in the order operations are performed, since the per-key
    sequencer is S3's record of that order. Seeded: a seed makes the same sequencers and ids."""

    def __init__(self, shape: Shape, bucket: str, versioned: bool, seed: int) -> None:
        self.shape = shape
        self.bucket = bucket
        self.versioned = versioned
        self._rng = random.Random(f"storm-events:{seed}")  # request and event ids
        self._sequencer_rng = random.Random(f"storm-sequencers:{seed}")  # the same in both shapes
        self._sequencers: dict[str, int] = {}

    def event_for(self, done: Performed) -> dict[str, Any]:
        sequencer = self._next_sequencer(done.operation.key)
        if self.shape == "s3":
            return {"Records": [self._record(done, sequencer)]}
        return self._eventbridge(done, sequencer)

    def _next_sequencer(self, key: str) -> str:
        if key not in self._sequencers:  # each key starts somewhere of its own
            self._sequencers[key] = self._sequencer_rng.getrandbits(56) << 8
        self._sequencers[key] += self._sequencer_rng.randint(1, 1 << 20)
        return f"{self._sequencers[key]:018X}"

    def _record(self, done: Performed, sequencer: str) -> dict[str, Any]:
        key = done.operation.key
        if done.etag is not None:  # a creation
            record = put_record(self.bucket, key, done.size or 0, done.etag, sequencer)
        else:
            record = load_event("delete.json")["Records"][0]
            record["eventName"] = "ObjectRemoved:" + (
                "DeleteMarkerCreated" if self._made_marker(done) else "Delete"
            )
            record["s3"]["bucket"].update(name=self.bucket, arn=f"arn:aws:s3:::{self.bucket}")
            record["s3"]["object"] = {"key": encode_key(key), "sequencer": sequencer}
        if self.versioned and done.version_id:
            record["s3"]["object"]["versionId"] = done.version_id
        record["eventTime"] = _now(milliseconds=True)
        record["responseElements"]["x-amz-request-id"] = f"{self._rng.getrandbits(64):016X}"
        return record

    def _eventbridge(self, done: Performed, sequencer: str) -> dict[str, Any]:
        key = done.operation.key
        if done.etag is not None:
            event = eventbridge_event(self.bucket, key, done.size or 0, done.etag, sequencer)
        else:
            event = load_event("eventbridge-object-deleted.json")
            event["resources"] = [f"arn:aws:s3:::{self.bucket}"]
            event["detail"]["bucket"]["name"] = self.bucket
            event["detail"]["object"] = {"key": key, "sequencer": sequencer}
            marker = self._made_marker(done)
            if marker:
                event["detail"]["object"]["etag"] = EMPTY_MD5
            event["detail"]["reason"] = "DeleteObject"
            event["detail"]["deletion-type"] = (
                "Delete Marker Created" if marker else "Permanently Deleted"
            )
        if self.versioned and done.version_id:
            event["detail"]["object"]["version-id"] = done.version_id
        event["id"] = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
        event["time"] = _now(milliseconds=False)
        event["detail"]["request-id"] = f"{self._rng.getrandbits(64):016X}"
        return event

    def _made_marker(self, done: Performed) -> bool:
        """A plain delete on a versioned bucket: known from the plan, whatever S3 answered."""
        return done.operation.kind == "delete" and self.versioned


class BuiltEvents:
    """The event source of the moto storm: each operation's event, built here, arrives right
    after its operation (storm/sources.py)."""

    def __init__(self, factory: EventFactory) -> None:
        self._factory = factory

    def after(self, done: Performed) -> list[Arrival]:
        event = self._factory.event_for(done)
        index = done.operation.index
        return [Arrival(event, done.operation.key, label_of(event), index, index)]

    def rest(self, operations: int) -> list[Arrival]:
        return []

    def close(self) -> None:
        pass


def built_events(config: StormConfig, bucket: str) -> BuiltEvents:
    return BuiltEvents(EventFactory(config.shape, bucket, config.versioned, config.seed))


def _now(milliseconds: bool) -> str:
    now = datetime.now(UTC)
    if milliseconds:
        return now.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return now.strftime("%Y-%m-%dT%H:%M:%SZ")
