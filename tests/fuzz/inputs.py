"""Which inputs a run feeds, and how one is rebuilt from its name alone: an input is
(mutation class, seed, number), and its bytes follow from those and MASTER_SEED."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from tests.fuzz import (
    gif_frames,
    jxl_edits,
    metadata,
    mutations,
    pdf_edits,
    raw_edits,
    structure,
    svg_edits,
    tiff_tags,
    video_edits,
)
from tests.fuzz.container_edits import large_ispe, length_field, mid_ispe, size_field, ten_bit_alpha, walkable
from tests.fuzz.limits import INPUTS_PER_CLASS, MASTER_SEED, MEMORY_MB
from tests.fuzz.seeds import JPEG, PDF, PNG, SEED_BY_NAME, SEEDS, SIXTEEN_BIT_MODES, TIFF, Seed, seed_bytes


@dataclass(frozen=True, slots=True)
class InputSpec:
    mutation: str
    seed: str
    number: int

    def rng(self) -> random.Random:
        return random.Random(f"{MASTER_SEED}/{self.mutation}/{self.seed}/{self.number}")

    def __str__(self) -> str:
        return f"{self.mutation} {self.seed} #{self.number}"

    @property
    def reproduce(self) -> str:
        return f"python -m tests.fuzz.reproduce {self.mutation} {self.seed} {self.number}"


@dataclass(frozen=True, slots=True)
class Mutation:
    name: str
    apply: Callable[[bytes, Seed, random.Random], tuple[bytes, str]]
    accepts: Callable[[Seed], bool]
    count: int = INPUTS_PER_CLASS  # inputs of this class in a run
    # The function's memory for this class: smaller where the memory budget, not the pixel
    # limit, must decide which inputs are decoded, so that an estimate below the real peak shows.
    memory_mb: int = MEMORY_MB


def _any(seed: Seed) -> bool:
    return True


def _jpeg(seed: Seed) -> bool:
    return seed.format == JPEG


def _png(seed: Seed) -> bool:
    return seed.format == PNG


def _progressive(seed: Seed) -> bool:
    return seed.format == JPEG and structure.is_progressive(seed_bytes(seed.name))


def _sixteen_bit(seed: Seed) -> bool:
    return seed.format == PNG and seed.mode in SIXTEEN_BIT_MODES


def _tiff(seed: Seed) -> bool:
    return seed.format == TIFF


def _pdf(seed: Seed) -> bool:
    return seed.format == PDF


MUTATIONS: tuple[Mutation, ...] = (
    Mutation("byte-flip", mutations.flip_bytes, _any, 4 * INPUTS_PER_CLASS),
    Mutation("truncate", mutations.truncate, _any, 2 * INPUTS_PER_CLASS),
    Mutation("append-junk", mutations.append_junk, _any),
    Mutation("png-ihdr-size", structure.png_header_size, _png),
    Mutation("png-ihdr-size-bad-crc", structure.png_header_size_bad_crc, _png),
    Mutation("png-ihdr-format", structure.png_header_format, _png),
    Mutation("jpeg-sof-size", structure.jpeg_frame_size, _jpeg),
    Mutation("size-field", size_field, walkable, 2 * INPUTS_PER_CLASS),
    Mutation("png-chunk-length", structure.png_chunk_length, _png),
    Mutation("jpeg-segment-length", structure.jpeg_segment_length, _jpeg),
    Mutation("length-field", length_field, walkable, 2 * INPUTS_PER_CLASS),
    Mutation("exif-orientation", metadata.exif_orientation, metadata.carries_orientation),
    Mutation("exif-malformed", metadata.exif_malformed, metadata.carries_raw_exif),
    Mutation("icc-giant", metadata.icc_giant, metadata.carries_metadata),
    Mutation("icc-truncated", metadata.icc_truncated, metadata.carries_metadata),
    Mutation("icc-bad-header", metadata.icc_bad_header, metadata.carries_metadata),
    Mutation("icc-tag-outside", metadata.icc_tag_outside, metadata.carries_metadata),
    Mutation("icc-tag-bytes", metadata.icc_tag_bytes, metadata.carries_metadata),
    Mutation("icc-device-class", metadata.icc_device_class, metadata.carries_metadata),
    Mutation("icc-mismatch", metadata.icc_mismatch, metadata.carries_metadata),
    Mutation("icc-without-colorants", metadata.icc_without_colorants, metadata.carries_metadata),
    Mutation("png-text-bomb", metadata.png_text_bomb, _png),
    Mutation("jpeg-many-scans", structure.jpeg_many_scans, _progressive),
    Mutation("jpeg-frame-type", structure.jpeg_frame_type, _jpeg),
    Mutation("png-16-bit-trns", structure.png_sixteen_bit_trns, _sixteen_bit),
    Mutation("gif-frame-grows-canvas", gif_frames.frame_grows_canvas, gif_frames.is_animated),
    Mutation("gif-frames-far-apart", gif_frames.frames_far_apart, gif_frames.accepts_gif, INPUTS_PER_CLASS // 2),
    Mutation("gif-identical-long-frames", gif_frames.identical_long_frames, gif_frames.accepts_gif, INPUTS_PER_CLASS // 2),
    Mutation("gif-short-control-block", gif_frames.short_control_block, gif_frames.has_control_block, INPUTS_PER_CLASS // 4),
    Mutation("tiff-colormap-overflow", tiff_tags.colormap_overflow, _tiff, INPUTS_PER_CLASS // 2),
    Mutation("tiff-tile-overflow", tiff_tags.tile_overflow, _tiff, INPUTS_PER_CLASS // 2),
    Mutation("large-ispe-10-bit-alpha", large_ispe, ten_bit_alpha, INPUTS_PER_CLASS // 8),
    Mutation("large-ispe-10-bit-alpha-at-512-mb", mid_ispe, ten_bit_alpha, INPUTS_PER_CLASS // 4, memory_mb=512),
    # A PDF is rendered at the largest box (1024 px here): ~0.15 s an input, so fewer of each.
    Mutation("pdf-xref", pdf_edits.xref, _pdf, INPUTS_PER_CLASS // 4),
    Mutation("pdf-mediabox", pdf_edits.mediabox, _pdf, INPUTS_PER_CLASS // 4),
    Mutation("pdf-rotate", pdf_edits.rotate, _pdf, INPUTS_PER_CLASS // 8),
    Mutation("pdf-deep-nesting", pdf_edits.deep_nesting, _pdf, INPUTS_PER_CLASS // 4),
    Mutation("pdf-image-size", pdf_edits.image_size, pdf_edits.has_image, INPUTS_PER_CLASS // 4),
    Mutation("pdf-image-size-at-512-mb", pdf_edits.image_size, pdf_edits.has_image, INPUTS_PER_CLASS // 8, memory_mb=512),
    Mutation("svg-root-size", svg_edits.root_size, svg_edits.is_svg, INPUTS_PER_CLASS // 4),
    Mutation("svg-deep-nesting", svg_edits.deep_nesting, svg_edits.is_svg, INPUTS_PER_CLASS // 8),
    Mutation("svg-use-chain", svg_edits.use_chain, svg_edits.is_svg, INPUTS_PER_CLASS // 16),
    # Most of these end at the render's 5 s CPU limit (svg.py): few, to keep the run short.
    Mutation("svg-giant-filter", svg_edits.giant_filter, svg_edits.is_svg, INPUTS_PER_CLASS // 40),
    Mutation("svg-entities", svg_edits.entities, svg_edits.is_svg, INPUTS_PER_CLASS // 8),
    Mutation("svg-embedded-image", svg_edits.embedded_image, svg_edits.is_svg, INPUTS_PER_CLASS // 16),
    # Camera RAWs: the TIFF walk and the preview's JPEG header; ~60 ms of CPU an input here.
    Mutation("raw-sensor-size", raw_edits.sensor_size, raw_edits.accepts, INPUTS_PER_CLASS // 4),
    Mutation("raw-preview-pointer", raw_edits.preview_pointer, raw_edits.accepts, INPUTS_PER_CLASS // 4),
    Mutation("raw-orientation", raw_edits.orientation, raw_edits.accepts, INPUTS_PER_CLASS // 8),
    Mutation("raw-ifd-loop", raw_edits.ifd_loop, raw_edits.accepts, INPUTS_PER_CLASS // 8),
    Mutation("raw-entry-count", raw_edits.entry_count, raw_edits.accepts, INPUTS_PER_CLASS // 8),
    Mutation("raw-preview-bytes", raw_edits.preview_bytes, raw_edits.has_preview, INPUTS_PER_CLASS // 4),
    # A video is demuxed and a frame or more decoded by FFmpeg: ~20-100 ms an input.
    Mutation("mp4-box-length", video_edits.mp4_box_length, video_edits.is_mp4, INPUTS_PER_CLASS // 2),
    Mutation("mp4-picture-size", video_edits.mp4_picture_size, video_edits.is_mp4, INPUTS_PER_CLASS // 4),
    Mutation("mp4-matrix", video_edits.mp4_matrix, video_edits.is_mp4, INPUTS_PER_CLASS // 8),
    Mutation("mp4-sample-table", video_edits.mp4_sample_table, video_edits.is_mp4, INPUTS_PER_CLASS // 2),
    Mutation("webm-element-size", video_edits.webm_element_size, video_edits.is_webm, INPUTS_PER_CLASS // 4),
    Mutation("webm-picture-size", video_edits.webm_picture_size, video_edits.is_webm, INPUTS_PER_CLASS // 8),
    Mutation("avi-chunk-size", video_edits.avi_chunk_size, video_edits.is_avi, INPUTS_PER_CLASS // 4),
    Mutation("ts-packet-field", video_edits.ts_packet_field, video_edits.is_transport_stream, INPUTS_PER_CLASS // 4),
    # JPEG XL: libjxl decodes whole, ~5-50 ms an input here, so fewer of each.
    Mutation("jxl-size-header", jxl_edits.size_header, jxl_edits.is_bare, INPUTS_PER_CLASS // 4),
    Mutation("jxl-orientation", jxl_edits.orientation, jxl_edits.is_bare, INPUTS_PER_CLASS // 8),
    Mutation("jxl-header-bits", jxl_edits.header_bits, jxl_edits.is_jxl, INPUTS_PER_CLASS // 4),
    Mutation("jxl-box-size", jxl_edits.box_size, jxl_edits.is_container, INPUTS_PER_CLASS // 8),
    # What the walk to an animation's first frame reads (readers/jxl_frames.py).
    Mutation("jxl-frame-header-bits", jxl_edits.frame_header_bits, jxl_edits.is_bare_animation, INPUTS_PER_CLASS // 2),
    Mutation("jxl-toc-entry", jxl_edits.toc_entry, jxl_edits.is_bare_animation, INPUTS_PER_CLASS // 4),
    Mutation("jxl-frames-cut", jxl_edits.frames_cut, jxl_edits.is_bare_animation, INPUTS_PER_CLASS // 4),
)
SEED_CLASS = Mutation("seed", mutations.unchanged, _any, 1)
MUTATION_BY_NAME = {m.name: m for m in (SEED_CLASS, *MUTATIONS)}


def schedule() -> list[InputSpec]:
    """Every seed once as itself, then each class's inputs, spread round-robin over the seeds it
    accepts (never a hostile one: those are judged as they are); shuffled with MASTER_SEED so
    that slow classes do not bunch up."""
    specs = [InputSpec(SEED_CLASS.name, seed.name, 0) for seed in SEEDS]
    for mutation in MUTATIONS:
        accepted = [seed.name for seed in SEEDS if seed.expect is None and mutation.accepts(seed)]
        specs += [
            InputSpec(mutation.name, accepted[n % len(accepted)], n) for n in range(mutation.count)
        ]
    random.Random(MASTER_SEED).shuffle(specs)
    return specs


def memory_mb(spec: InputSpec) -> int:
    """The function's memory the input runs at."""
    return MUTATION_BY_NAME[spec.mutation].memory_mb


def build_input(spec: InputSpec) -> tuple[bytes, str]:
    """The input's bytes and a short description of what was done to the seed."""
    seed = SEED_BY_NAME[spec.seed]
    return MUTATION_BY_NAME[spec.mutation].apply(seed_bytes(seed.name), seed, spec.rng())
