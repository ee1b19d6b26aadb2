// sharp as a benchmark contender, driven by benchmarks/contenders.py: one JSON request a line on
// stdin, one JSON reply a line on stdout, in order. Timing is taken in here, warm, so neither
// Node's start nor the pipe is in it; memory is VmHWM after resetting it through
// /proc/self/clear_refs. A failed request answers {"error": ...} and the worker stays up.
//
//   load  {key, path}                  -> {ok, bytes}: the input, held in memory
//   run   {key, sides, variant?, out?} -> {ms, bytes}: one timed call (out: a folder that gets
//                                         <side>.bin)
//   peak  {key, sides, variant?}       -> {rss_kb, hwm_kb, ms, bytes}
//   quit  {}                           -> {ok}, then the worker exits
//
// Variants, for several boxes from one input buffer:
//   pipelines  one sharp(buffer) pipeline per box: what the Serverless Image Handler does;
//   once       one decode, straight to the largest box (shrink-on-load), kept as raw pixels;
//              every box is then resized and encoded from those: a single decode, as ours does.
// (sharp's clone() is no third way: each clone runs its own pipeline from the input, decode
// included, and copies the input buffer, so it is never faster than pipelines.)
import { readFileSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import sharp from "sharp";

sharp.concurrency(1); // a function below 1769 MB has less than one vCPU
sharp.cache(false); // every invocation sees new bytes: no cached decode may hide the work

const FIT = { fit: "inside", withoutEnlargement: true };
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const sources = new Map();

function statusKb(field) {
  const lines = readFileSync("/proc/self/status", "utf8").split("\n");
  return Number(lines.find((line) => line.startsWith(field)).split(/\s+/)[1]);
}

// Sniffed from the magic bytes, as ours does, rather than by metadata(): a header parse that is
// not part of the thumbnail call.
function formatOf(data) {
  if (data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) return "jpeg";
  if (data.subarray(0, 8).equals(PNG_SIGNATURE)) return "png";
  throw new Error("neither JPEG nor PNG");
}

// Our defaults: JPEG quality 85 (4:2:0, optimised Huffman tables, sharp's defaults), PNG zlib
// level 3. Metadata is dropped (sharp's default), as ours drops EXIF.
function encode(pipeline, format) {
  return format === "jpeg"
    ? pipeline.jpeg({ quality: 85, mozjpeg: false })
    : pipeline.png({ compressionLevel: 3 });
}

async function pipelines(data, sides, format) {
  const made = [];
  for (const side of sides) {
    made.push(await encode(sharp(data).rotate().resize(side, side, FIT), format).toBuffer());
  }
  return made;
}

async function once(data, sides, format) {
  const largest = Math.max(...sides);
  const { data: pixels, info } = await sharp(data).rotate().resize(largest, largest, FIT)
    .raw().toBuffer({ resolveWithObject: true });
  const raw = { width: info.width, height: info.height, channels: info.channels };
  const made = [];
  for (const side of sides) {
    made.push(await encode(sharp(pixels, { raw }).resize(side, side, FIT), format).toBuffer());
  }
  return made;
}

const VARIANTS = { pipelines, once };

function thumbnails(request) {
  const data = sources.get(request.key);
  if (data === undefined) throw new Error(`no input loaded as ${JSON.stringify(request.key)}`);
  const variant = VARIANTS[request.variant ?? "pipelines"];
  if (variant === undefined) throw new Error(`unknown variant ${JSON.stringify(request.variant)}`);
  if (!Array.isArray(request.sides) || request.sides.length === 0) {
    throw new Error("sides: a non-empty list of box sides");
  }
  const format = formatOf(data);
  return { format, call: () => variant(data, request.sides, format) };
}

async function timed(call) {
  const started = process.hrtime.bigint();
  const made = await call();
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, made };
}

async function answer(request) {
  switch (request.op) {
    case "load": {
      const data = readFileSync(request.path);
      sources.set(request.key, data);
      return { ok: true, bytes: data.length };
    }
    case "quit":
      return { ok: true };
    case "run": {
      const { call } = thumbnails(request);
      globalThis.gc?.();
      const { ms, made } = await timed(call);
      if (request.out) {
        request.sides.forEach((side, i) => writeFileSync(`${request.out}/${side}.bin`, made[i]));
      }
      return { ms, bytes: made.map((m) => m.length) };
    }
    case "peak": {
      const { call } = thumbnails(request);
      globalThis.gc?.(); // needs --expose-gc: else earlier garbage counts as held "before"
      const rssKb = statusKb("VmRSS:");
      writeFileSync("/proc/self/clear_refs", "5"); // VmHWM := VmRSS now
      const { ms, made } = await timed(call);
      const hwmKb = statusKb("VmHWM:");
      const bytes = made.map((m) => m.length);
      return { rss_kb: rssKb, hwm_kb: hwmKb, ms, bytes };
    }
    default:
      throw new Error(`unknown op ${JSON.stringify(request.op)}`);
  }
}

for await (const line of createInterface({ input: process.stdin })) {
  let request = {};
  let reply;
  try {
    request = JSON.parse(line);
    reply = await answer(request);
  } catch (error) {
    reply = { error: String(error?.message ?? error) };
  }
  process.stdout.write(JSON.stringify(reply) + "\n"); // synchronous for a pipe on Linux
  if (request?.op === "quit") process.exit(0); // else the open stdin keeps Node running
}
