// A front for s3rver that enforces S3's conditional writes (If-None-Match: * and If-Match on PUT), which s3rver itself ignores.
import { createServer, request } from 'node:http';
import { listen, type RunningService } from './json-service.ts';

const PRECONDITION_FAILED = `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>`;

/**
 * Every request goes through to s3rver, one at a time per key; this front remembers each object's ETag from the answers
 * to PUT and DELETE (it is the bucket's only way in, and the bucket starts empty), and checks a
 * conditional PUT against it. PUTs to one key run one at a time, so the check and the write are one
 * step, as on S3.
 */
export async function startConditionalS3Front(options: {
  port: number;
  s3rverUrl: string;
}): Promise<RunningService & { readonly refusedWrites: number }> {
  const target = new URL(options.s3rverUrl);
  const etags = new Map<string, string>();
  const queues = new Map<string, Promise<void>>();
  let refused = 0;
  const server = createServer((req, res) => {
    const key = (req.url ?? '/').split('?')[0] as string;
    const conditional =
      req.method === 'PUT' &&
      (req.headers['if-none-match'] !== undefined || req.headers['if-match'] !== undefined);
    const forward = () =>
      new Promise<void>((resolve) => {
        const upstream = request(
          {
            host: target.hostname,
            port: target.port,
            method: req.method,
            path: req.url,
            headers: req.headers,
          },
          (answer) => {
            const etag = answer.headers.etag;
            if ((answer.statusCode ?? 500) < 300) {
              // A multipart part's ETag is not the object's.
              if (req.method === 'PUT' && etag && !(req.url ?? '').includes('uploadId=')) {
                etags.set(key, etag);
              }
              if (req.method === 'DELETE') etags.delete(key);
            }
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
            answer.on('end', resolve);
            answer.on('error', resolve);
          },
        );
        upstream.on('error', (error) => {
          if (res.headersSent) res.destroy(error);
          else {
            res.writeHead(502);
            res.end(error.message);
          }
          resolve();
        });
        req.pipe(upstream);
      });
    // s3rver rewrites an object in place; S3 replaces it atomically. Requests to one key take
    // turns, so no reader sees half a write.
    const previous = queues.get(key) ?? Promise.resolve();
    if (!conditional) {
      const run = previous.then(forward);
      queues.set(key, run);
      return;
    }
    const run = previous.then(async () => {
      const current = etags.get(key);
      const ifNoneMatch = req.headers['if-none-match'];
      const ifMatch = req.headers['if-match'];
      const holds =
        (ifNoneMatch === undefined || (ifNoneMatch === '*' && current === undefined)) &&
        (ifMatch === undefined || ifMatch === current);
      if (!holds) {
        refused += 1;
        req.resume();
        res.writeHead(412, { 'content-type': 'application/xml' });
        res.end(PRECONDITION_FAILED);
        return;
      }
      await forward();
    });
    queues.set(key, run);
  });
  const running = await listen(server, options.port);
  return {
    ...running,
    get refusedWrites() {
      return refused;
    },
  };
}
