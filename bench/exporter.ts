// Prometheus blackbox_exporter (Debian package) in its own process, with one HTTP module, on a free loopback port.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopChild } from './local-node.ts';

const EXPORTER_START_TIMEOUT_MS = 15_000;
/** The probe timeout both sides use. */
export const PROBE_TIMEOUT_MS = 2000;

export interface BlackboxExporter {
  pid: number;
  /** /probe URL for `target` with the http_2xx module. */
  probeUrl(target: string): string;
  stop(): Promise<void>;
}

/** A port that was free a moment ago: the exporter takes a fixed port, not 0. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export async function startBlackboxExporter(): Promise<BlackboxExporter> {
  const dir = mkdtempSync(join(tmpdir(), 'storefleet-bench-blackbox-'));
  const configFile = join(dir, 'blackbox.yml');
  writeFileSync(
    configFile,
    [
      'modules:',
      '  http_2xx:',
      '    prober: http',
      `    timeout: ${PROBE_TIMEOUT_MS / 1000}s`,
      '    http:',
      '      method: GET',
      '      valid_status_codes: [200]',
      '      preferred_ip_protocol: ip4',
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const child: ChildProcess = spawn(
    'prometheus-blackbox-exporter',
    [`--config.file=${configFile}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=error'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-2000);
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = performance.now() + EXPORTER_START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`blackbox_exporter exited: ${stderr}`);
    try {
      const response = await fetch(`${base}/-/healthy`);
      if (response.ok) break;
    } catch {
      // Not listening yet.
    }
    if (performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(
        `blackbox_exporter did not answer within ${EXPORTER_START_TIMEOUT_MS} ms: ${stderr}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    pid: child.pid as number,
    probeUrl: (target) => `${base}/probe?module=http_2xx&target=${encodeURIComponent(target)}`,
    stop: async () => {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
