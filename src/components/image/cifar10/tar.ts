/**
 * A minimal tar (ustar) reader and writer.
 *
 * Reader: enough for npm tarballs (node-tar output): regular files and directories, ustar name prefixes,
 * pax ("x") path/size records and GNU long names ("L"); other entry types are skipped. It works on the
 * whole archive in memory and returns views into it (no copies), and it refuses anything damaged with a
 * one-line reason: a bad header checksum, an entry running past the end, or a missing end-of-archive block.
 *
 * Writer: uncompressed ustar with regular files only, the form Framework's archive extractor (tar-stream)
 * reads for `FileAttachment("data/x/member")`. Every header has mtime 0 and uid/gid 0, so the same files always
 * give the same bytes (stable content hashes in dist/). It yields chunks so a caller can stream 150 MB
 * to stdout without building one buffer.
 */
import { Cifar10DataError } from "./errors.js";
import { concatenate } from "../../checkpoint/byte-source.js";

const BLOCK = 512;

export interface TarEntry {
  /** Full path inside the archive, e.g. "package/data_batch_1.png". */
  name: string;
  /** A view into the archive (not a copy). */
  data: Uint8Array;
}

/** Read every regular file of an uncompressed tar archive. `what` names the archive in error messages. */
export function readTar(archive: Uint8Array, what = "tar archive"): TarEntry[] {
  const fail = (reason: string): never => {
    throw new Cifar10DataError(`${what}: ${reason}`);
  };
  const entries: TarEntry[] = [];
  let offset = 0;
  let longName: string | undefined; // from a pax "x" record or a GNU "L" entry, for the next entry
  let paxSize: number | undefined;
  while (true) {
    if (offset + BLOCK > archive.length) fail(`ends at byte ${archive.length} without the end-of-archive block (truncated?)`);
    const header = archive.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) break; // end of archive (what follows is zero padding)
    const stored = parseOctal(header, 148, 8);
    if (stored === undefined || stored !== headerChecksum(header)) fail(`tar header at byte ${offset} has a bad checksum (corrupt or not a tar archive)`);
    const type = String.fromCharCode(header[156] || 48); // NUL means a regular file ("0")
    const size = paxSize ?? parseSize(header, 124);
    if (size === undefined) fail(`tar header at byte ${offset} has an unreadable size`);
    const start = offset + BLOCK;
    const end = start + size!;
    if (end > archive.length) fail(`entry at byte ${offset} needs ${size} bytes but the archive ends ${archive.length - start} bytes later (truncated)`);
    const data = archive.subarray(start, end);
    offset = start + Math.ceil(size! / BLOCK) * BLOCK;

    if (type === "x") {
      const records = parsePax(data);
      longName = records.path ?? longName;
      paxSize = records.size === undefined ? undefined : Number(records.size);
      continue;
    }
    if (type === "L") {
      longName = cString(data, 0, data.length);
      continue;
    }
    if (type === "g") continue; // global pax header: nothing we use
    const name = longName ?? ustarName(header);
    longName = undefined;
    paxSize = undefined;
    // Directories, links, devices are skipped: npm tarballs hold only regular files.
    if (type === "0" || type === "7") entries.push({ name, data });
  }
  return entries;
}

export interface TarFile {
  /** Path inside the archive, at most 100 ASCII bytes (no ustar prefix splitting: we write short names). */
  name: string;
  size: number;
}

/** The 512-byte ustar header of one regular file. */
export function tarHeader(file: TarFile): Uint8Array {
  if (!/^[\x21-\x7e][\x20-\x7e]{0,99}$/.test(file.name) || file.name.length > 100) {
    throw new Cifar10DataError(`tar writer: file name ${JSON.stringify(file.name)} must be 1–100 printable ASCII characters`);
  }
  if (!Number.isSafeInteger(file.size) || file.size < 0 || file.size >= 8 ** 11) {
    throw new Cifar10DataError(`tar writer: size ${file.size} of ${file.name} is not a whole number of bytes below 8 GiB`);
  }
  const header = new Uint8Array(BLOCK);
  const put = (text: string, at: number) => {
    for (let i = 0; i < text.length; i++) header[at + i] = text.charCodeAt(i);
  };
  const octal = (n: number, width: number) => n.toString(8).padStart(width - 1, "0") + "\0";
  put(file.name, 0);
  put(octal(0o644, 8), 100); // mode
  put(octal(0, 8), 108); // uid
  put(octal(0, 8), 116); // gid
  put(octal(file.size, 12), 124);
  put(octal(0, 12), 136); // mtime: fixed, so identical files give identical archives
  put("0", 156); // regular file
  put("ustar\0", 257);
  put("00", 263);
  put(headerChecksum(header).toString(8).padStart(6, "0") + "\0 ", 148);
  return header;
}

/** Zero bytes that pad an entry of `size` bytes to a whole block. */
export function tarPadding(size: number): Uint8Array {
  return new Uint8Array((BLOCK - (size % BLOCK)) % BLOCK);
}

/** The two zero blocks that end an archive. */
export function tarEnd(): Uint8Array {
  return new Uint8Array(2 * BLOCK);
}

/** The chunks of an archive holding `files`, in order: header, data, padding per file, then the end. */
export function* tarChunks(files: Iterable<{ name: string; data: Uint8Array }>): Generator<Uint8Array> {
  for (const file of files) {
    yield tarHeader({ name: file.name, size: file.data.length });
    yield file.data;
    yield tarPadding(file.data.length);
  }
  yield tarEnd();
}

/** A whole archive in one buffer (small archives and tests; stream tarChunks for big ones). */
export function writeTar(files: Iterable<{ name: string; data: Uint8Array }>): Uint8Array {
  return concatenate([...tarChunks(files)]);
}

/** Sum of the header bytes with the checksum field counted as eight spaces (POSIX). */
function headerChecksum(header: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : header[i];
  return sum;
}

function cString(bytes: Uint8Array, start: number, length: number): string {
  let end = start;
  while (end < start + length && bytes[end] !== 0) end++;
  return new TextDecoder().decode(bytes.subarray(start, end));
}

/** An octal field (digits, optionally surrounded by spaces/NULs); undefined if it holds anything else. */
function parseOctal(header: Uint8Array, start: number, length: number): number | undefined {
  const text = cString(header, start, length).trim();
  return /^[0-7]+$/.test(text) ? parseInt(text, 8) : text === "" ? 0 : undefined;
}

/** The size field: octal, or GNU base-256 (high bit set) for entries of 8 GiB and more. */
function parseSize(header: Uint8Array, start: number): number | undefined {
  if (header[start] & 0x80) {
    let n = header[start] & 0x7f;
    for (let i = 1; i < 12; i++) n = n * 256 + header[start + i];
    return Number.isSafeInteger(n) ? n : undefined;
  }
  return parseOctal(header, start, 12);
}

function ustarName(header: Uint8Array): string {
  const name = cString(header, 0, 100);
  const isUstar = cString(header, 257, 6) === "ustar";
  const prefix = isUstar ? cString(header, 345, 155) : "";
  return prefix ? `${prefix}/${name}` : name;
}

/** pax extended header records: "<length> <key>=<value>\n" repeated, the length counting bytes. */
function parsePax(data: Uint8Array): Record<string, string> {
  const decoder = new TextDecoder();
  const records: Record<string, string> = {};
  let at = 0;
  while (at < data.length) {
    let space = at;
    while (space < data.length && data[space] !== 0x20) space++;
    const length = parseInt(decoder.decode(data.subarray(at, space)), 10);
    if (!(length > 0) || at + length > data.length) break;
    const record = decoder.decode(data.subarray(space + 1, at + length - 1)); // without the newline
    const eq = record.indexOf("=");
    if (eq > 0) records[record.slice(0, eq)] = record.slice(eq + 1);
    at += length;
  }
  return records;
}
