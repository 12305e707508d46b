/**
 * The delay proxy run in a worker thread, with an async version of its interface.
 *
 * @module
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { DelayProxyOptions, ProxyCounts } from './delay-proxy.js';
import { benchBuildDir } from './report.js';

/** A delay proxy running in a worker thread. */
export interface WorkerProxy {
  readonly port: number;
  counts(): Promise<ProxyCounts>;
  reset(): Promise<void>;
  close(): Promise<void>;
}

/** Start a delay proxy on its own thread (the bundle `.tmp/bench/proxy-worker.mjs`). */
export async function startProxyInWorker(options: DelayProxyOptions): Promise<WorkerProxy> {
  const worker = new Worker(join(benchBuildDir(), 'proxy-worker.mjs'), { workerData: options });
  const pending = new Map<number, (value: { counts?: ProxyCounts }) => void>();
  let nextId = 1;
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (message: { ready: number }) => resolve(message.ready));
  });
  worker.on('message', (message: { id?: number; counts?: ProxyCounts }) => {
    if (message.id === undefined) return;
    pending.get(message.id)?.(message);
    pending.delete(message.id);
  });
  const ask = (op: 'counts' | 'reset' | 'close') =>
    new Promise<{ counts?: ProxyCounts }>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      worker.postMessage({ id, op });
    });
  return {
    port,
    counts: async () => {
      const { counts } = await ask('counts');
      if (counts === undefined) throw new Error('proxy worker sent no counts');
      return counts;
    },
    reset: async () => {
      await ask('reset');
    },
    close: async () => {
      await ask('close');
      await worker.terminate();
    },
  };
}
