#!/usr/bin/env node
/**
 * Bundles the example Lambda handlers (examples/handler) into deployment zips:
 *
 *   dist-example/handler.zip            examples/handler/index.ts      (Valkey/Redis, stack.yaml)
 *   dist-example/handler-memcached.zip  examples/handler/memcached.ts  (stack-memcached.yaml)
 *   dist-example/monitor.zip            examples/handler/monitor.ts    (stack.yaml, EnableConsistencyMonitor)
 *   dist-example/monitor-memcached.zip  examples/handler/monitor-memcached.ts (stack-memcached.yaml, idem)
 *
 * Each zip holds one minified CommonJS file, `index.cjs` (handler `index.handler`: the Lambda
 * runtime resolves `index` to index.js, index.mjs or index.cjs), bundled from `src/` with the
 * Lambda options of esbuild-options.mjs (`@aws-sdk/client-*` external). `.cjs`, not `.js`, so the
 * file is CommonJS wherever it lands, whatever the nearest package.json's `type` says (this
 * package, and many users' projects, are `"type": "module"`). ESM bundles work too
 * (docs/deploy.md, "Bundling as ESM"); the tests build them with `bundleHandler(entry, { format: 'esm' })`.
 * The zip is deterministic (fixed timestamps), so an unchanged handler keeps its S3 key
 * (scripts/example-code-params.mjs).
 *
 * Usage: node scripts/package-example.mjs [--out <dir>]
 *
 * @module
 */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { deflateRawSync } from 'node:zlib';
import { build } from 'esbuild';
import { lambdaBundleOptions } from './esbuild-options.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The file name of the bundle inside each zip. */
export const BUNDLE_FILE = 'index.cjs';

/** The handlers to package: source entry -> zip name. */
export const EXAMPLES = [
  { entry: 'examples/handler/index.ts', zip: 'handler.zip' },
  { entry: 'examples/handler/memcached.ts', zip: 'handler-memcached.zip' },
  { entry: 'examples/handler/monitor.ts', zip: 'monitor.zip' },
  { entry: 'examples/handler/monitor-memcached.ts', zip: 'monitor-memcached.zip' },
];

/**
 * Bundle one handler to a single string, CommonJS unless told otherwise (the tests also bundle
 * as ESM, with and without the createRequire banner, as CDK and SAM users do).
 * @param {string} entry path of the handler source, relative to the repository root
 * @param {{ format?: 'cjs' | 'esm', banner?: string }} [options]
 * @returns {Promise<string>}
 */
export async function bundleHandler(entry, { format = 'cjs', banner } = {}) {
  const result = await build({ ...lambdaBundleOptions(root, entry), format, ...(banner === undefined ? {} : { banner: { js: banner } }), logLevel: 'warning' });
  const [file] = result.outputFiles;
  if (file === undefined) throw new Error(`esbuild produced no output for ${entry}`);
  return file.text;
}

// --- A minimal, deterministic zip writer (deflate, one directory level) --------------------

const CRC_TABLE = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** @param {Uint8Array} bytes */
function crc32(bytes) {
  let c = 0xffffffff;
  for (const byte of bytes) c = (CRC_TABLE[(c ^ byte) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// 1980-01-01 00:00, the earliest DOS date: fixed so equal inputs give equal zips.
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;

/**
 * Write the fields the local file header and the central directory header share, in the same
 * order in both, starting at `at` (4 in a local header, 6 in a central one).
 * @param {Buffer} header
 * @param {number} at
 * @param {{ crc: number, compressedSize: number, size: number, nameLength: number }} entry
 */
function writeSharedFields(header, at, { crc, compressedSize, size, nameLength }) {
  header.writeUInt16LE(20, at); // version needed: 2.0 (deflate)
  header.writeUInt16LE(0x0800, at + 2); // flags: UTF-8 names
  header.writeUInt16LE(8, at + 4); // method: deflate
  header.writeUInt16LE(DOS_TIME, at + 6);
  header.writeUInt16LE(DOS_DATE, at + 8);
  header.writeUInt32LE(crc, at + 10);
  header.writeUInt32LE(compressedSize, at + 14);
  header.writeUInt32LE(size, at + 18);
  header.writeUInt16LE(nameLength, at + 22);
  header.writeUInt16LE(0, at + 24); // extra field length
}

/**
 * Build a zip archive.
 * @param {{ name: string, data: Uint8Array }[]} files
 * @returns {Buffer}
 */
export function zip(files) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const { name, data } of files) {
    const nameBytes = Buffer.from(name, 'utf8');
    const compressed = deflateRawSync(data, { level: 9 });
    const entry = { crc: crc32(data), compressedSize: compressed.length, size: data.length, nameLength: nameBytes.length };
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0); // local file header signature
    writeSharedFields(local, 4, entry);
    locals.push(local, nameBytes, compressed);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0); // central directory header signature
    central.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix, spec 2.0 (so the mode below counts)
    writeSharedFields(central, 6, entry);
    central.writeUInt16LE(0, 32); // comment
    central.writeUInt16LE(0, 34); // disk number
    central.writeUInt16LE(0, 36); // internal attributes
    // Regular file, rw-r--r--: Lambda's runtime user must be able to read the file.
    central.writeUInt32LE((0o100644 << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + compressed.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); // end of central directory signature
  end.writeUInt16LE(0, 4);
  end.writeUInt16LE(0, 6);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  end.writeUInt16LE(0, 20);
  return Buffer.concat([...locals, directory, end]);
}

/**
 * Bundle every example handler and write its zip.
 * @param {{ outDir?: string }} [options]
 * @returns {Promise<{ entry: string, zipPath: string, bundleBytes: number, zipBytes: number }[]>}
 */
export async function packageExamples(options = {}) {
  const outDir = resolve(root, options.outDir ?? 'dist-example');
  await mkdir(outDir, { recursive: true });
  const results = [];
  for (const { entry, zip: zipName } of EXAMPLES) {
    const exists = await stat(join(root, entry)).then(
      () => true,
      () => false,
    );
    if (!exists) continue;
    const code = Buffer.from(await bundleHandler(entry), 'utf8');
    const archive = zip([{ name: BUNDLE_FILE, data: code }]);
    const zipPath = join(outDir, zipName);
    await writeFile(zipPath, archive);
    results.push({ entry, zipPath, bundleBytes: code.length, zipBytes: archive.length });
  }
  return results;
}

function kib(bytes) {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

async function main(argv) {
  const outIndex = argv.indexOf('--out');
  const outDir = outIndex >= 0 ? argv[outIndex + 1] : undefined;
  if (outIndex >= 0 && outDir === undefined) throw new Error('--out needs a directory');
  const results = await packageExamples({ outDir: outDir === undefined ? undefined : resolve(process.cwd(), outDir) });
  for (const r of results) {
    console.log(`${r.zipPath}: ${kib(r.zipBytes)} zipped (${BUNDLE_FILE} ${kib(r.bundleBytes)}) from ${r.entry}`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
