#!/usr/bin/env bash
# Replaces the FFmpeg that PyAV's wheel bundles with a decode-only one built here, for the layer
# in SITE (PyAV's locked wheel already installed there, by the Makefile).
#
# Why: the wheel's FFmpeg is linked with libx264 and libx265 (GPL) and carries encoders, SVT-AV1
# and vmaf the function never calls: 95 MB unzipped. This build is FFmpeg alone, LGPL-2.1-or-later,
# with dav1d (BSD-2-Clause) for AV1: the decoders, demuxers and parsers the video reader uses, and
# nothing that opens a file, a device or a socket by name. PyAV's compiled modules stay as they
# are: they name FFmpeg's libraries by soname, and this is the same FFmpeg release (ABI), so only
# those names are rewritten.
#
# Usage: decode-only.sh SITE ARCH, ARCH aarch64 or x86_64. Needs a C compiler for ARCH (on
# another host, e.g. Debian's gcc-aarch64-linux-gnu), curl, pkg-config, make, and nasm for
# x86_64; meson, ninja and patchelf come from build-tools.txt (hash-locked). Sources are fetched
# once into DECODE_ONLY_CACHE and checked against the sha256 below.
set -euo pipefail

SITE=$(realpath "$1")
ARCH=$2
PYTHON=${PYTHON:-python3}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${DECODE_ONLY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/create-thumbnail/decode-only}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# The upstream release tarballs; Debian's orig tarballs are the same bytes (signed upstream).
FFMPEG_VERSION=9.0.2
FFMPEG_SHA256=8c3850283eb25fa026482078a04051e0be17347b09ef81a0849bec15a96e002e
FFMPEG_URLS=(
    "https://ffmpeg.org/releases/ffmpeg-$FFMPEG_VERSION.tar.xz"
    "http://deb.debian.org/debian/pool/main/f/ffmpeg/ffmpeg_$FFMPEG_VERSION.orig.tar.xz"
)
DAV1D_VERSION=1.5.4
DAV1D_SHA256=686616b7c69eb88d44459391ab25cac13b6647a3b288835c5784e71c1514a5c5
DAV1D_URLS=(
    "https://downloads.videolan.org/pub/videolan/dav1d/$DAV1D_VERSION/dav1d-$DAV1D_VERSION.tar.xz"
    "http://deb.debian.org/debian/pool/main/d/dav1d/dav1d_$DAV1D_VERSION.orig.tar.xz"
)

# What the video reader can meet: sniff.movie_demuxer's demuxers, and the codecs of the clips
# tests/fixtures/video holds (tests/build checks both lists against those).
DECODERS=h264,hevc,vp8,vp9,libdav1d,mpeg4,h263,mpeg1video,mpeg2video,prores,mjpeg
DEMUXERS=mov,matroska,avi,mpegts
PARSERS=h264,hevc,vp8,vp9,av1,mpeg4video,mpegvideo,mjpeg,h263

# Lambda's python3.13 runtime (Amazon Linux 2023) has glibc 2.34; nothing may need a later one.
MAX_GLIBC=2.34

die() { echo "decode-only.sh: $*" >&2; exit 1; }

fetch() {  # fetch NAME SHA256 URL...: the tarball, from the cache or the first URL that answers
    local name=$1 sha=$2 url
    shift 2
    mkdir -p "$CACHE"
    if [[ -f "$CACHE/$name" ]] && echo "$sha  $CACHE/$name" | sha256sum -c --status; then
        return
    fi
    for url in "$@"; do
        if curl -fsSL -m 600 -o "$CACHE/$name.part" "$url" \
            && echo "$sha  $CACHE/$name.part" | sha256sum -c --status; then
            mv "$CACHE/$name.part" "$CACHE/$name"
            return
        fi
        echo "decode-only.sh: $url: unreachable or not the pinned bytes" >&2
    done
    rm -f "$CACHE/$name.part"
    die "could not fetch $name (sha256 $sha) from any of: $*"
}

if [[ "$(uname -m)" == "$ARCH" ]]; then CROSS=; else CROSS="$ARCH-linux-gnu-"; fi
command -v "${CROSS}gcc" >/dev/null \
    || die "no C compiler for $ARCH (${CROSS}gcc): install it (Debian: gcc-${ARCH//_/-}-linux-gnu) or build on an $ARCH host"
for tool in curl pkg-config make; do
    command -v "$tool" >/dev/null || die "$tool is needed"
done
if [[ "$ARCH" == x86_64 ]] && ! command -v nasm >/dev/null; then
    die "nasm is needed for FFmpeg's and dav1d's x86_64 assembly (Debian: nasm)"
fi

"$PYTHON" -m pip install --quiet --disable-pip-version-check --target "$WORK/tools" \
    --require-hashes --requirement "$HERE/build-tools.txt"
export PATH="$WORK/tools/bin:$PATH" PYTHONPATH="$WORK/tools"

fetch "ffmpeg-$FFMPEG_VERSION.tar.xz" "$FFMPEG_SHA256" "${FFMPEG_URLS[@]}"
fetch "dav1d-$DAV1D_VERSION.tar.xz" "$DAV1D_SHA256" "${DAV1D_URLS[@]}"
tar -xf "$CACHE/ffmpeg-$FFMPEG_VERSION.tar.xz" -C "$WORK"
tar -xf "$CACHE/dav1d-$DAV1D_VERSION.tar.xz" -C "$WORK"
PREFIX="$WORK/prefix"
JOBS=$(nproc)

# glibc 2.35 gave hypot a new version; bind FFmpeg to the one 2.34 has (each architecture's first).
cat >"$WORK/glibc-2.34.h" <<'EOF'
#if defined(__aarch64__) && !defined(__ASSEMBLER__)
__asm__(".symver hypot,hypot@GLIBC_2.17");
#elif defined(__x86_64__) && !defined(__ASSEMBLER__)
__asm__(".symver hypot,hypot@GLIBC_2.2.5");
#endif
EOF

cross_file=()
if [[ -n "$CROSS" ]]; then
    cat >"$WORK/cross.ini" <<EOF
[binaries]
c = '${CROSS}gcc'
ar = '${CROSS}ar'
strip = '${CROSS}strip'
[host_machine]
system = 'linux'
cpu_family = '$ARCH'
cpu = '$ARCH'
endian = 'little'
EOF
    cross_file=(--cross-file "$WORK/cross.ini")
fi
meson setup "$WORK/dav1d-build" "$WORK/dav1d-$DAV1D_VERSION" "${cross_file[@]}" \
    --prefix="$PREFIX" --libdir=lib --buildtype=release -Ddefault_library=shared \
    -Denable_tools=false -Denable_tests=false >"$WORK/dav1d.log" 2>&1 \
    || { tail -30 "$WORK/dav1d.log"; die "dav1d: meson setup failed"; }
ninja -C "$WORK/dav1d-build" install >>"$WORK/dav1d.log" 2>&1 \
    || { tail -30 "$WORK/dav1d.log"; die "dav1d: build failed"; }

cross_args=()
if [[ -n "$CROSS" ]]; then
    cross_args=(--enable-cross-compile --arch="$ARCH" --target-os=linux --cross-prefix="$CROSS")
fi
mkdir "$WORK/ffmpeg-build"
(
    cd "$WORK/ffmpeg-build"
    PKG_CONFIG_LIBDIR="$PREFIX/lib/pkgconfig" "$WORK/ffmpeg-$FFMPEG_VERSION/configure" \
        --prefix="$PREFIX" "${cross_args[@]}" --pkg-config=pkg-config \
        --extra-cflags="-include $WORK/glibc-2.34.h" \
        --enable-shared --disable-static --enable-pic --disable-debug \
        --disable-programs --disable-doc --disable-autodetect --disable-network \
        --disable-everything --enable-libdav1d \
        --enable-decoder="$DECODERS" --enable-demuxer="$DEMUXERS" --enable-parser="$PARSERS" \
        --enable-swscale --enable-swresample >"$WORK/ffmpeg.log" 2>&1 \
        || { tail -n 30 "$WORK/ffmpeg.log" ffbuild/config.log; die "FFmpeg: configure failed"; }
    make -j"$JOBS" install >>"$WORK/ffmpeg.log" 2>&1 || { tail -30 "$WORK/ffmpeg.log"; die "FFmpeg: build failed"; }
)
license=$(sed -n 's/^#define FFMPEG_LICENSE "\(.*\)"$/\1/p' "$WORK/ffmpeg-build/config.h")
[[ "$license" == "LGPL version 2.1 or later" ]] || die "FFmpeg was configured as '$license', not LGPL 2.1 or later"

# PyAV's modules name the wheel's copies (libavcodec-1a2b3c4d.so.63.1.102); the copies go, and
# each name becomes this build's soname (libavcodec.so.63), found beside them through $ORIGIN.
libs="$SITE/av.libs"
[[ -d "$libs" ]] || die "$libs: install PyAV's wheel into $SITE first"
rm -f "$libs"/*
for lib in $(find "$PREFIX/lib" -maxdepth 1 -type f -name 'lib*.so.*'); do
    soname=$(patchelf --print-soname "$lib")
    cp "$lib" "$libs/$soname"
    "${CROSS}strip" --strip-unneeded "$libs/$soname"
    patchelf --set-rpath '$ORIGIN' "$libs/$soname"
done
# PyAV's modules carry their debug information: 20 of their 60 MB.
find "$SITE/av" -name '*.so' -print0 | while IFS= read -r -d '' module; do
    "${CROSS}strip" --strip-unneeded "$module"
    for needed in $(patchelf --print-needed "$module"); do
        if [[ "$needed" =~ ^(lib[a-z0-9]+)-[0-9a-f]{8}\.so\.([0-9]+) ]]; then
            soname="${BASH_REMATCH[1]}.so.${BASH_REMATCH[2]}"
            [[ -f "$libs/$soname" ]] || die "$module needs $needed, and this build has no $soname"
            patchelf --replace-needed "$needed" "$soname" "$module"
        fi
    done
done

# Every library the layer's code needs is in av.libs or is glibc's, at a version Lambda has.
mapfile -t elfs < <(find "$SITE/av" "$libs" -name '*.so*' -type f)
for elf in "${elfs[@]}"; do
    for needed in $(patchelf --print-needed "$elf"); do
        case "$needed" in
            libc.so.6 | libm.so.6 | libpthread.so.0 | libdl.so.2 | ld-linux-*.so.*) ;;
            *) [[ -f "$libs/$needed" ]] || die "$elf needs $needed, which the layer does not hold" ;;
        esac
    done
done
newest=$("${CROSS}objdump" -T "${elfs[@]}" \
    | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)
[[ "$(printf '%s\n%s\n' "$newest" "$MAX_GLIBC" | sort -V | tail -1)" == "$MAX_GLIBC" ]] \
    || die "the build needs glibc $newest; Lambda's runtime has $MAX_GLIBC"

# The licences travel with the binaries (LGPL-2.1 and BSD-2-Clause both ask for it); PyAV's is
# in its dist-info already.
mkdir "$libs/licenses"
cp "$WORK/ffmpeg-$FFMPEG_VERSION/LICENSE.md" "$libs/licenses/FFmpeg-LICENSE.md"
cp "$WORK/ffmpeg-$FFMPEG_VERSION/COPYING.LGPLv2.1" "$libs/licenses/FFmpeg-COPYING.LGPLv2.1"
cp "$WORK/dav1d-$DAV1D_VERSION/COPYING" "$libs/licenses/dav1d-COPYING"

# What this layer holds and where its sources are, for anyone who must answer for its licence.
cat >"$libs/FFMPEG-BUILD.txt" <<EOF
FFmpeg $FFMPEG_VERSION, $license; dav1d $DAV1D_VERSION, BSD-2-Clause (their texts: licenses/). Built for $ARCH by
layers/video/decode-only.sh (VIDEO_DECODER_BUILD=decode-only), replacing the FFmpeg that PyAV's
wheel bundles. Newest glibc symbol needed: $newest.

Sources (the upstream release tarballs):
  ffmpeg-$FFMPEG_VERSION.tar.xz sha256 $FFMPEG_SHA256
    ${FFMPEG_URLS[*]}
  dav1d-$DAV1D_VERSION.tar.xz sha256 $DAV1D_SHA256
    ${DAV1D_URLS[*]}

Decoders: $DECODERS
Demuxers: $DEMUXERS
Parsers: $PARSERS

FFmpeg configuration: $(sed -n 's/^#define FFMPEG_CONFIGURATION "\(.*\)"$/\1/p' "$WORK/ffmpeg-build/config.h" | sed "s|$WORK|<build>|g")
EOF
