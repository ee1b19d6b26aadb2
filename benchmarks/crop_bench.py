"""Where cover boxes crop: our attention gravity against libvips' smartcrop (interesting=attention,
the engine of sharp and imgproxy) and both against plain centring, on scenes generated with one
small salient object at a known place. Prints, never asserts.

    ./scripts/bench crop          # or: .venv/bin/python benchmarks/crop_bench.py [--scenes N]

A scene is 1200 x 800 (or 800 x 1200): a plain or a textured (noise, blurred) background, and
one object, a disc 6-10% of the long side across, of a saturated colour, a skin tone, or a
grey-on-grey patch of fine stripes (detail, no colour), placed anywhere. The crop is the square
(1:1) and the 16:9 cover crop of the scene; a hit is a crop that holds the whole object. Times
are per crop decision on the decoded scene (ours: crop.attention_centre, from the scene; libvips:
smartcrop on the same pixels, from memory), medians.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from dataclasses import dataclass

from common import ROOT, print_table, section

sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tools")]

from PIL import Image, ImageDraw, ImageFilter  # noqa: E402

from create_thumbnail.crop import CENTRE, attention_centre, cover_region  # noqa: E402

ASPECTS = {"1:1": (1, 1), "16:9": (16, 9)}
SKIN = [(224, 172, 140), (198, 134, 100), (141, 85, 60), (241, 194, 160)]


@dataclass(frozen=True)
class Scene:
    image: Image.Image
    box: tuple[int, int, int, int]  # the object's bounding box
    kind: str


def scene(rng: random.Random) -> Scene:
    size = (1200, 800) if rng.random() < 0.5 else (800, 1200)
    if rng.random() < 0.5:
        background = Image.new("RGB", size, tuple(rng.randint(90, 170) for _ in range(3)))
        ground = "plain"
    else:
        noise = Image.effect_noise(size, rng.randint(20, 50)).filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 2)))
        tint = Image.new("RGB", size, tuple(rng.randint(80, 170) for _ in range(3)))
        background, ground = Image.blend(tint, noise.convert("RGB"), 0.5), "textured"
    radius = round(max(size) * rng.uniform(0.03, 0.05))
    x, y = rng.randint(radius, size[0] - radius), rng.randint(radius, size[1] - radius)
    box = (x - radius, y - radius, x + radius, y + radius)
    kind = rng.choice(["colour", "skin", "detail"])
    draw = ImageDraw.Draw(background)
    if kind == "colour":
        draw.ellipse(box, fill=rng.choice([(220, 30, 30), (30, 60, 220), (240, 200, 0), (20, 180, 60)]))
    elif kind == "skin":
        draw.ellipse(box, fill=rng.choice(SKIN))
    else:
        for stripe in range(box[0], box[2], 4):
            draw.line((stripe, box[1], stripe, box[3]), fill=(20, 20, 20), width=2)
    return Scene(background, box, f"{kind} on {ground}")


def contains(region: tuple[int, int, int, int], box: tuple[int, int, int, int]) -> bool:
    return region[0] <= box[0] and region[1] <= box[1] and box[2] <= region[2] and box[3] <= region[3]


def ours(image: Image.Image, aspect: tuple[int, int]) -> tuple[int, int, int, int]:
    return cover_region(image.size, aspect, attention_centre(image, aspect))


def centred(image: Image.Image, aspect: tuple[int, int]) -> tuple[int, int, int, int]:
    return cover_region(image.size, aspect, CENTRE)


def libvips(image: Image.Image, aspect: tuple[int, int]) -> tuple[int, int, int, int]:
    import pyvips

    region = cover_region(image.size, aspect)  # libvips crops to a size we give it
    width, height = region[2] - region[0], region[3] - region[1]
    vips = pyvips.Image.new_from_memory(image.tobytes(), image.width, image.height, 3, "uchar")
    _, found = vips.smartcrop(width, height, interesting="attention", attention_x=True, attention_y=True)
    # libvips centres the crop on its attention point, clamped to the image, as cover_region does.
    x, y = found["attention_x"], found["attention_y"]
    return cover_region(image.size, aspect, (x / image.width, y / image.height))


def measure(count: int, seed: int) -> None:
    rng = random.Random(seed)
    scenes = [scene(rng) for _ in range(count)]
    contenders = {"ours (attention)": ours, "libvips smartcrop attention": libvips, "centre": centred}
    section(f"cover crops holding the whole object: {count} scenes (seed {seed}) x 2 aspect ratios")
    rows = []
    for name, crop in contenders.items():
        for aspect_name, aspect in ASPECTS.items():
            hits, times, by_kind = 0, [], {}
            for item in scenes:
                started = time.perf_counter()
                region = crop(item.image, aspect)
                times.append((time.perf_counter() - started) * 1000)
                hit = contains(region, item.box)
                hits += hit
                kind = item.kind.split()[0]
                done, total = by_kind.get(kind, (0, 0))
                by_kind[kind] = (done + hit, total + 1)
            kinds = "  ".join(f"{k} {100 * d / t:.0f}%" for k, (d, t) in sorted(by_kind.items()))
            rows.append((name, aspect_name, f"{100 * hits / count:.1f}%", kinds, f"{statistics.median(times):.2f}"))
    print_table(("crop", "aspect", "hit rate", "by object", "ms"), rows, right_from=2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7, help="the gravity was tuned on seed 2026; 7 is held out")
    args = parser.parse_args()
    measure(args.scenes, args.seed)


if __name__ == "__main__":
    main()
