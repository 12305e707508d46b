/**
 * Finding the installed package from the CLI's own file, for the files it ships (templates)
 * and its version.
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package root: the nearest folder above this module whose package.json is ours. The
 * module runs from `src/cli/` (tests), from `dist/` after the build, and from
 * `node_modules/ddb-cache-sync/dist/` when installed; the templates sit at the root in all three.
 */
export function packageRoot(start: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = start;
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const parsed: unknown = JSON.parse(readFileSync(manifest, 'utf8'));
      if (typeof parsed === 'object' && parsed !== null && 'name' in parsed && parsed.name === 'ddb-cache-sync') return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the ddb-cache-sync package root above ${start}; reinstall the package`);
    dir = parent;
  }
}

/** The package's version, from its package.json. */
export function packageVersion(): string {
  const parsed: unknown = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8'));
  if (typeof parsed === 'object' && parsed !== null && 'version' in parsed && typeof parsed.version === 'string') return parsed.version;
  throw new Error('the ddb-cache-sync package.json has no version; reinstall the package');
}
