import { describe, expect, it } from 'vitest';
import { startDynamoDbLocal } from '../../src/local/dynamodb-local.js';
import { JavaNotFoundError } from '../../src/local/errors.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('startDynamoDbLocal', () => {
  it('answers on a loopback endpoint and leaves no process behind after stop()', async () => {
    const db = await startDynamoDbLocal();
    expect(db.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(alive(db.pid)).toBe(true);
    const response = await fetch(db.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.ListTables',
        authorization: 'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x',
      },
      body: '{}',
    });
    expect(await response.json()).toEqual({ TableNames: [] });
    await db.stop();
    expect(alive(db.pid)).toBe(false);
  });

  it('runs two servers side by side on different ports', async () => {
    const [a, b] = await Promise.all([startDynamoDbLocal(), startDynamoDbLocal()]);
    try {
      expect(a.port).not.toBe(b.port);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('says plainly that Java is missing', async () => {
    const attempt = startDynamoDbLocal({ javaPath: '/nonexistent/bin/java' });
    await expect(attempt).rejects.toBeInstanceOf(JavaNotFoundError);
    await expect(startDynamoDbLocal({ javaPath: '/nonexistent/bin/java' })).rejects.toThrow(/Java 17/);
  });
});
