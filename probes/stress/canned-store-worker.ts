// Worker-thread entry: a REST store stand-in that answers every query at once with an empty page, to measure the generator alone.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parentPort } from 'node:worker_threads';

const port = parentPort;
if (port === null) throw new Error('canned-store-worker.ts runs as a worker thread only');
const body = JSON.stringify({ requestId: '', statusCode: 200, statusDesc: 'OK', messages: [] });
const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
const server = createServer((request, response) => {
  request.resume();
  response.writeHead(200, headers);
  response.end(body);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  port.postMessage({ port: (server.address() as AddressInfo).port });
});
port.on('message', (message: string) => {
  if (message === 'close') {
    server.closeAllConnections();
    server.close(() => port.close());
  }
});
