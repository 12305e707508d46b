/**
 * The CDK app of the example: one environment-agnostic stack, so `npm run cdk:synth` needs no
 * AWS credentials, and esbuild bundles the handler locally, so it needs no Docker. Deploy it
 * (or your own app built the same way) with `npx cdk deploy`.
 *
 * @module
 */
import { App } from 'aws-cdk-lib';
import { CacheSyncExampleStack } from './stack.js';

const app = new App();
new CacheSyncExampleStack(app, 'DdbCacheSyncExample', {
  description: 'ddb-cache-sync example: DynamoDB stream -> Lambda -> ElastiCache Serverless (CDK)',
});
app.synth();
