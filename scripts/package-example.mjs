#!/usr/bin/env node
/**
 * Bundles the example Lambda handlers (examples/handler) into deployment zips:
 *
 *   dist-example/handler.zip            examples/handler/index.ts      (Valkey/Redis, stack.yaml)
 *   dist-example/handler-memcached.zip  examples/handler/memcached.ts  (stack-memcached.yaml)
 *
 * Each zip holds one minified `index.js` (handler `index.handler`). Choices:
 * - CommonJS: ioredis and memjs are CommonJS and `require()` Node built-ins, which a CommonJS
 *   bundle serves as is. ESM bundles work too (docs/deploy.md, "Bundling as ESM"); the tests
 *   build them with `bundleHandler(entry, { format: 'esm' })`.
 * - `@aws-sdk/client-*` stays external: the Lambda Node.js runtime ships SDK v3 clients.
 *   Utilities the library needs (`@aws-sdk/util-dynamodb`) are bundled, pinned to our version.
 * - The library is bundled from `src/` (no `npm run build` needed): `ddb-cache-sync` and its
 *   subpaths resolve to their TypeScript sources.
 * - The zip is deterministic (fixed timestamps), so `aws cloudformation package` uploads a
 *   new object only when the code changed.
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

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Package subpaths -> source files, mirroring package.json `exports`. */
const LIBRARY_SOURCES = {
  'ddb-cache-sync': 'src/index.ts',
  'ddb-cache-sync/redis': 'src/adapters/redis/index.ts',
  'ddb-cache-sync/memcached': 'src/adapters/memcached/index.ts',
};

/** The handlers to package: source entry -> zip name. */
export const EXAMPLES = [
  { entry: 'examples/handler/index.ts', zip: 'handler.zip' },
  { entry: 'examples/handler/memcached.ts', zip: 'handler-memcached.zip' },
];

const librarySourcePlugin = {
  name: 'ddb-cache-sync-from-source',
  setup(builder) {
    builder.onResolve({ filter: /^ddb-cache-sync(\/.*)?$/ }, (args) => {
      const source = LIBRARY_SOURCES[args.path];
      if (source === undefined) return { errors: [{ text: `unknown ddb-cache-sync subpath ${args.path}` }] };
      return { path: join(root, source) };
    });
  },
};

/**
 * Bundle one handler to a single string, CommonJS unless told otherwise (the tests also bundle
 * as ESM, with and without the createRequire banner, as CDK and SAM users do).
 * @param {string} entry path of the handler source, relative to the repository root
 * @param {{ format?: 'cjs' | 'esm', banner?: string }} [options]
 * @returns {Promise<string>}
 */
export async function bundleHandler(entry, { format = 'cjs', banner } = {}) {
  const result = await build({
    entryPoints: [join(root, entry)],
    bundle: true,
    write: false,
    platform: 'node',
    target: 'node22',
    format,
    ...(banner === undefined ? {} : { banner: { js: banner } }),
    minify: true,
    legalComments: 'none',
    // Clients come from the runtime; small utilities such as @aws-sdk/util-dynamodb are
    // bundled: the runtime's SDK copy may be older than the version this library needs.
    external: ['@aws-sdk/client-*'],
    plugins: [librarySourcePlugin],
    logLevel: 'warning',
  });
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
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0); // local file header signature
    local.writeUInt16LE(20, 4); // version needed: 2.0 (deflate)
    local.writeUInt16LE(0x0800, 6); // flags: UTF-8 names
    local.writeUInt16LE(8, 8); // method: deflate
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(0, 28); // extra field length
    locals.push(local, nameBytes, compressed);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0); // central directory header signature
    central.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix, spec 2.0 (so the mode below counts)
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt16LE(DOS_TIME, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(compressed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt16LE(0, 30); // extra
    central.writeUInt16LE(0, 32); // comment
    central.writeUInt16LE(0, 34); // disk number
    central.writeUInt16LE(0, 36); // internal attributes
    // Regular file, rw-r--r--: Lambda's runtime user must be able to read the file.
    central.writeUInt32LE(((0o100644 << 16) >>> 0), 38);
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
    const archive = zip([{ name: 'index.js', data: code }]);
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
    console.log(`${r.zipPath}: ${kib(r.zipBytes)} zipped (index.js ${kib(r.bundleBytes)}) from ${r.entry}`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
