#!/usr/bin/env node
/**
 * Builds the example handler zips (scripts/package-example.mjs) and prints, for each, the
 * upload command and the `CodeS3Bucket` / `CodeS3Key` parameter values of its template, so a
 * stack deploys from S3 without `aws cloudformation package`:
 *
 *   node scripts/example-code-params.mjs --bucket my-artifacts [--prefix ddb-cache-sync/]
 *
 * The key carries the zip's SHA-256: CloudFormation updates the function only when its
 * Code properties change, so a new build must get a new key. The zips are deterministic, so
 * an unchanged handler keeps its key and a redeploy leaves the function alone.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageExamples } from './package-example.mjs';

/** Which template each zip belongs to. */
export const TEMPLATES = {
  'handler.zip': 'examples/cloudformation/stack.yaml',
  'handler-memcached.zip': 'examples/cloudformation/stack-memcached.yaml',
  'monitor.zip': 'examples/cloudformation/stack.yaml',
  'monitor-memcached.zip': 'examples/cloudformation/stack-memcached.yaml',
};

/** The template parameter that takes each zip's S3 key (the bucket is always CodeS3Bucket). */
export const KEY_PARAMETERS = {
  'handler.zip': 'CodeS3Key',
  'handler-memcached.zip': 'CodeS3Key',
  'monitor.zip': 'MonitorCodeS3Key',
  'monitor-memcached.zip': 'MonitorCodeS3Key',
};

/**
 * The S3 key and parameter values for one zip.
 * @param {{ zipName: string, sha256: string, bucket: string, prefix: string }} input
 */
export function codeParameters({ zipName, sha256, bucket, prefix }) {
  const key = `${prefix}${zipName.replace(/\.zip$/, '')}-${sha256.slice(0, 16)}.zip`;
  return { CodeS3Bucket: bucket, [KEY_PARAMETERS[zipName] ?? 'CodeS3Key']: key };
}

function parse(argv) {
  const options = { bucket: 'YOUR_ARTIFACT_BUCKET', prefix: 'ddb-cache-sync/' };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if ((flag === '--bucket' || flag === '--prefix') && value !== undefined) {
      options[flag.slice(2)] = value;
      i++;
    } else {
      throw new Error(`unknown option ${flag}; use --bucket NAME [--prefix KEY_PREFIX]`);
    }
  }
  return options;
}

async function main(argv) {
  const { bucket, prefix } = parse(argv);
  for (const { zipPath } of await packageExamples()) {
    const zipName = basename(zipPath);
    const sha256 = createHash('sha256')
      .update(await readFile(zipPath))
      .digest('hex');
    const parameters = codeParameters({ zipName, sha256, bucket, prefix });
    console.log(`# ${TEMPLATES[zipName] ?? zipName}`);
    const keyParameter = KEY_PARAMETERS[zipName] ?? 'CodeS3Key';
    const key = parameters[keyParameter];
    console.log(`aws s3 cp ${zipPath} s3://${parameters.CodeS3Bucket}/${key}`);
    console.log(`CodeS3Bucket=${parameters.CodeS3Bucket} ${keyParameter}=${key}\n`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
