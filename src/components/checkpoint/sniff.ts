/**
 * A first look at a file's opening bytes, before any parsing: wrong files are common (a PyTorch .bin picked
 * by mistake, an HTML error page served instead of the weights, a cut-off download) and each deserves a
 * one-line explanation rather than "invalid header".
 */
import { CheckpointFormatError } from "./errors.js";

/** The first bytes of JSON values other than objects: [ " - 0–9 t f n. */
const JSON_START = new Set([..."[\"-0123456789tfn"].map((c) => c.charCodeAt(0)));

/** The Rust reference implementation refuses headers over 100 MB; so do we (real ones are kilobytes). */
export const MAX_HEADER_BYTES = 100_000_000;

/**
 * Check the first bytes of a file (at least 9 of them when the file has that many) and return the length of
 * its JSON header. `fileSize` is the whole file's size when known. Throws a CheckpointFormatError saying
 * what the file is when it is not safetensors.
 */
export function checkSafetensorsPrefix(prefix: Uint8Array, fileSize?: number): number {
  if (prefix.length === 0) throw new CheckpointFormatError("the file is empty (0 bytes), not a safetensors file");
  if (prefix.length < 8) {
    const recognised = recogniseOtherFormat(prefix);
    if (recognised) throw new CheckpointFormatError(`not a safetensors file: ${recognised}`);
    throw new CheckpointFormatError(`not a safetensors file, or truncated: only ${prefix.length} bytes (safetensors starts with an 8-byte header length)`);
  }
  const length = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  const fits = length <= BigInt(MAX_HEADER_BYTES) && (fileSize === undefined || 8 + Number(length) <= fileSize);
  // A real safetensors file has a small length and its JSON starts with "{". Checking that first matters:
  // a valid length can begin with the bytes of a signature below (0x80 0x03 is the length 896).
  if (fits && prefix.length > 8 && prefix[8] === 0x7b) return Number(length);
  // A header that starts as other JSON would (an array, a string, a number…): the parser says what it is.
  if (fits && prefix.length > 8 && JSON_START.has(prefix[8]) && !recogniseOtherFormat(prefix)) return Number(length);

  const recognised = recogniseOtherFormat(prefix);
  if (recognised) throw new CheckpointFormatError(`not a safetensors file: ${recognised}`);
  if (length > BigInt(MAX_HEADER_BYTES)) {
    throw new CheckpointFormatError(`not a safetensors file: its first 8 bytes give a header length of ${length} bytes, over the ${MAX_HEADER_BYTES / 1e6} MB limit`);
  }
  if (!fits) throw new CheckpointFormatError(`not a safetensors file, or truncated: the header claims ${length} bytes but only ${fileSize! - 8} follow`);
  if (prefix.length === 8) return Number(length); // nothing more to look at; the header parser will judge it
  throw new CheckpointFormatError("not a safetensors file: its header is not JSON (it does not start with '{')");
}

/** What a known non-safetensors file is, in a few words ("this is an HTML page …"), or undefined. */
export function recogniseOtherFormat(prefix: Uint8Array): string | undefined {
  const [b0, b1, b2, b3] = prefix;
  if (b0 === 0x50 && b1 === 0x4b && b2 === 0x03 && b3 === 0x04) {
    return "this is a PyTorch .bin/.pt zip checkpoint; convert it to safetensors";
  }
  // Pickle protocols 2–5 open with PROTO (0x80) and the protocol number; torch.save before PyTorch 1.6 wrote bare pickles.
  if (b0 === 0x80 && b1 >= 2 && b1 <= 5) {
    return "this is a Python pickle (an old PyTorch .bin/.pt/.pkl checkpoint); convert it to safetensors (pickles can run code, so they are never loaded here)";
  }
  if (b0 === 0x1f && b1 === 0x8b) return "this is a gzip-compressed file; decompress it first";
  const text = leadingText(prefix);
  // Hugging Face's /raw/ and /blob/ addresses (and a git clone without LFS) give this small text, not the file.
  if (text.startsWith("version https://git-lfs")) return "this is a Git LFS pointer, not the file itself (on Hugging Face, use the /resolve/ address, not /raw/ or /blob/)";
  if (text.startsWith("<!doctype") || text.startsWith("<html") || text.startsWith("<head") || text.startsWith("<!--")) {
    return "this is an HTML page (an error or login page served instead of the file? check the URL)";
  }
  if (text.startsWith("<?xml")) return "this is an XML document (a storage server's error message? check the URL)";
  if (/^[{[]\s*["{[\]}]/.test(text)) {
    return "this is a JSON file (a sharded checkpoint's .index.json, or a config.json?)";
  }
  return undefined;
}

/** The first bytes as lower-case text, after a byte-order mark and white space (binary bytes become U+FFFD). */
function leadingText(prefix: Uint8Array): string {
  return new TextDecoder() // drops a byte-order mark
    .decode(prefix.subarray(0, 64))
    .trimStart()
    .toLowerCase();
}
