/**
 * Worker-thread entry for the delay proxy, so its polling and copying run on their own thread
 * and are not billed to the client being timed. Started by {@link startProxyInWorker}.
 *
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads';
import { startDelayProxy, type DelayProxyOptions } from './delay-proxy.js';

/** Messages the main thread sends. */
export type ProxyRequest = { readonly id: number; readonly op: 'counts' | 'reset' | 'close' };

const port = parentPort;
if (port !== null) {
  const proxy = await startDelayProxy(workerData as DelayProxyOptions);
  port.postMessage({ ready: proxy.port });
  port.on('message', (message: ProxyRequest) => {
    if (message.op === 'counts') port.postMessage({ id: message.id, counts: proxy.counts() });
    else if (message.op === 'reset') {
      proxy.reset();
      port.postMessage({ id: message.id });
    } else {
      void proxy.close().then(() => {
        port.postMessage({ id: message.id });
        port.close();
      });
    }
  });
}
