"""The source keys a storm works on: chosen so that a naming, encoding or decoding slip makes
two keys meet, and the judge sees one key's thumbnails lost or owned by the other."""

from __future__ import annotations

# In the order they are taken: a storm of n keys uses the first n, so even a small one has pairs.
TRICKY_KEYS: tuple[str, ...] = (
    "a.png",  # a JPEG stored here, named by appending its format, is a.png.jpg: the next key
    "a.png.jpg",
    "x.jpg",  # and the other way round: a PNG stored here is x.jpg.png
    "x.jpg.png",
    "a b.jpg",  # a space: '+' in a notification, literal in EventBridge
    "a%20b.jpg",  # ... and its percent-encoding, as a literal key of its own
    "c+d.png",  # a plus: '%2B' in a notification; decoding it as a form turns it into the next key
    "c d.png",
    "ünïcødé/café ☃.jpg",  # not ASCII: metadata must carry it percent-encoded
    "photos/2026/summer.jpg",  # a key in a "folder"
)


def storm_keys(count: int) -> tuple[str, ...]:
    """The first count tricky keys, then plain ones in a folder of their own if more are asked."""
    if count < 1:
        raise ValueError(f"a storm needs at least one key, not {count}")
    extra = count - len(TRICKY_KEYS)
    plain = tuple(f"more/{n:04d}.{'png' if n % 3 == 2 else 'jpg'}" for n in range(max(0, extra)))
    return (TRICKY_KEYS + plain)[:count]
