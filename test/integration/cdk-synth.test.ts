/**
 * The CDK example as `npm run cdk:synth` builds it: synthesized once (esbuild bundles the
 * handler, no Docker, no AWS credentials), linted with cfn-lint, and checked for the ESM bundle
 * the construct promises. Also: the package root and the adapters never pull in the CDK.
 */
import { spawnSync } from 'node:child_process';
import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';
import { build as tsup, type Options } from 'tsup';
import tsupConfig from '../../tsup.config.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthExample } from '../../scripts/cdk-synth.mjs';

const ROOT = join(import.meta.dirname, '..', '..');
const STACK = 'DdbCacheSyncExample';

interface Resource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

/**
 * Warnings the CDK framework itself emits, which our code cannot avoid, each with its reason.
 * cfn-lint reports nothing else for this template.
 */
const FRAMEWORK_WARNINGS: Record<string, string> = {
  // The Lambda Function construct adds DependsOn on its role (and the role's policy) for VPC
  // functions, so network interfaces can be cleaned up on delete; the Role GetAtt already
  // orders them, which cfn-lint calls redundant.
  W3005: 'redundant DependsOn that aws-cdk-lib adds to VPC functions',
};

function hasCfnLint(): boolean {
  return spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' }).status === 0;
}

let outdir: string;
let template: { Resources: Record<string, Resource> };

beforeAll(async () => {
  outdir = await synthExample(join(ROOT, '.tmp', 'cdk-synth-test', 'cdk.out'));
  template = JSON.parse(await readFile(join(outdir, `${STACK}.template.json`), 'utf8')) as typeof template;
}, 300_000);

describe('the CDK example app', () => {
  it('synthesizes the full stack: table with stream and PITR, VPC, cache, function, mapping, queue, alarms', () => {
    const types = Object.values(template.Resources).map((resource) => resource.Type);
    for (const type of [
      'AWS::DynamoDB::GlobalTable',
      'AWS::EC2::VPC',
      'AWS::ElastiCache::ServerlessCache',
      'AWS::Lambda::Function',
      'AWS::Lambda::EventSourceMapping',
      'AWS::SQS::Queue',
      'AWS::CloudWatch::Alarm',
    ]) {
      expect(types).toContain(type);
    }
    const table = Object.values(template.Resources).find((resource) => resource.Type === 'AWS::DynamoDB::GlobalTable');
    expect(table?.Properties).toMatchObject({ StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' } });
    expect(JSON.stringify(table?.Properties)).toContain('"PointInTimeRecoveryEnabled":true');
  });

  it('bundles the handler and the monitor as ESM with the createRequire banner, ioredis included', async () => {
    const assets = (await readdir(outdir)).filter((name) => name.startsWith('asset.'));
    const bundles = await Promise.all(
      assets.map(async (asset) => {
        const files = await readdir(join(outdir, asset));
        return files.includes('index.mjs') ? readFile(join(outdir, asset, 'index.mjs'), 'utf8') : undefined;
      }),
    );
    const found = bundles.filter((text): text is string => text !== undefined);
    expect(found).toHaveLength(2);
    const monitor = found.find((text) => text.includes('MONITOR_GRACE_MS'));
    const bundle = found.find((text) => text !== monitor);
    for (const text of [bundle, monitor]) {
      expect(text?.startsWith("import { createRequire } from 'module'; const require = createRequire(import.meta.url);")).toBe(true);
      expect(text).toContain('ioredis');
    }
    // SDK clients come from the runtime; the library's utilities travel with the bundle.
    const sdkImports = (text: string | undefined): Array<string | undefined> =>
      [...(text ?? '').matchAll(/from\s*"(@aws-sdk\/[a-z-]+)"/g)].map((match) => match[1]);
    expect(sdkImports(bundle)).toEqual(['@aws-sdk/client-secrets-manager']);
    // The monitor reads the table with the runtime's DynamoDB client.
    expect(new Set(sdkImports(monitor))).toEqual(new Set(['@aws-sdk/client-secrets-manager', '@aws-sdk/client-dynamodb']));
  });

  it('lints clean with cfn-lint, apart from the named framework warnings', { timeout: 180_000 }, (context) => {
    if (!hasCfnLint()) {
      if (process.env['CI']) throw new Error('cfn-lint is missing: pip install cfn-lint');
      context.skip('cfn-lint is not installed (pip install cfn-lint)');
    }
    const file = join(outdir, `${STACK}.template.json`);
    // One run (cfn-lint is slow): every finding must be a named framework warning, and every
    // named warning must still occur, or the list above is stale.
    const lint = spawnSync('cfn-lint', [file, '--format', 'parseable'], { encoding: 'utf8' });
    expect(lint.stderr).toBe('');
    const findings = lint.stdout.split('\n').filter((line) => line.trim() !== '');
    const unexplained = findings.filter((line) => !Object.keys(FRAMEWORK_WARNINGS).some((code) => line.includes(`:${code}:`)));
    expect(unexplained).toEqual([]);
    const found = new Set(findings.map((line) => /:([EWI]\d{4}):/.exec(line)?.[1]));
    expect([...found].sort()).toEqual(Object.keys(FRAMEWORK_WARNINGS).sort());
  });
});

describe('the package root and the adapters', () => {
  it.each([
    ['root', 'src/index.ts'],
    ['redis', 'src/adapters/redis/index.ts'],
    ['memcached', 'src/adapters/memcached/index.ts'],
  ])('%s never loads aws-cdk-lib, constructs or src/cdk', async (_name, entry) => {
    const result = await build({
      entryPoints: [join(ROOT, entry)],
      bundle: true,
      write: false,
      metafile: true,
      platform: 'node',
      format: 'esm',
      // Only what the bundle itself contains matters; peers stay out, as in dist.
      external: ['ioredis', 'memjs', '@aws-sdk/client-dynamodb', '@aws-sdk/client-dynamodb-streams'],
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((input) => /aws-cdk-lib|node_modules\/constructs\/|src\/cdk\//.test(input))).toEqual([]);
    const imports = Object.values(result.metafile.outputs).flatMap((output) => output.imports.map((imported) => imported.path));
    expect(imports.filter((path) => /^(aws-cdk-lib|constructs)(\/|$)/.test(path))).toEqual([]);
  });

  it('are built byte-identical with and without the cdk build in tsup', async () => {
    const configs = tsupConfig as Options[];
    const isCdk = (config: Options) => typeof config.entry === 'object' && config.entry !== null && 'cdk' in config.entry;
    const library = configs.filter((config) => !isCdk(config));
    const cdk = configs.filter(isCdk);
    expect(library).toHaveLength(1);
    expect(cdk).toHaveLength(1);
    const out = join(ROOT, '.tmp', 'cdk-tsup');
    // The package's own tsup.config.ts without types (dts changes nothing in the JavaScript compared here).
    const options = (config: Options, outDir: string): Options => ({ ...config, outDir, dts: false, silent: true, config: false });
    await rm(out, { recursive: true, force: true });
    for (const config of library) await tsup(options(config, join(out, 'without')));
    // As `npm run build` does: the builds side by side, into one dist.
    await Promise.all(configs.map((config) => tsup(options(config, join(out, 'with')))));
    const without = (await readdir(join(out, 'without'))).sort();
    const withCdk = (await readdir(join(out, 'with'))).sort();
    expect(withCdk.filter((name) => !without.includes(name))).toEqual(['cdk.cjs', 'cdk.cjs.map', 'cdk.js', 'cdk.js.map']);
    expect(without.filter((name) => !withCdk.includes(name))).toEqual([]);
    for (const name of without) {
      const [before, after] = await Promise.all([readFile(join(out, 'without', name)), readFile(join(out, 'with', name))]);
      expect(after.equals(before), name).toBe(true);
    }
  }, 120_000);
});
