// Runs wrk (the Debian package) against a loopback URL and reads its summary.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { clockTicksPerSecond } from './cpu.ts';

const run = promisify(execFile);
/** wrk stops on its own after the duration; this only guards against a wedged run. */
const WRK_GRACE_MS = 15_000;

export interface WrkResult {
  requests: number;
  durationSeconds: number;
  requestsPerSecond: number;
  /** Answers that were not 2xx or 3xx. */
  non2xx: number;
  socketErrors: number;
  /** wrk's own CPU (user + system), in milliseconds. */
  cpuMs: number;
  raw: string;
}

/**
 * Runs wrk under a shell that prints its own /proc stat once wrk has exited: the shell's
 * cutime/cstime fields then hold wrk's CPU.
 */
const WITH_CHILD_CPU = 'wrk "$@"; status=$?; echo; echo "STAT $(cat /proc/$$/stat)"; exit $status';

function childCpuMs(output: string): number {
  const stat = /^STAT (.*)$/m.exec(output)?.[1];
  if (stat === undefined) return Number.NaN;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / clockTicksPerSecond();
}

export function parseWrkOutput(output: string): WrkResult {
  const total = /(\d+) requests in ([\d.]+)(ms|s|m)/.exec(output);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(output);
  if (!total || !rps) throw new Error(`unexpected wrk output:\n${output}`);
  const unit = total[3];
  const value = Number(total[2]);
  const durationSeconds = unit === 'ms' ? value / 1000 : unit === 'm' ? value * 60 : value;
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(
    output,
  );
  const socketErrors = socket
    ? Number(socket[1]) + Number(socket[2]) + Number(socket[3]) + Number(socket[4])
    : 0;
  return {
    requests: Number(total[1]),
    durationSeconds,
    requestsPerSecond: Number(rps[1]),
    non2xx,
    socketErrors,
    cpuMs: childCpuMs(output),
    raw: output,
  };
}

/**
 * @example
 * const { requestsPerSecond } = await runWrk('http://127.0.0.1:8645/health', { connections: 16, durationSeconds: 3 });
 */
export async function runWrk(
  url: string,
  options: {
    connections: number;
    durationSeconds: number;
    threads?: number;
    timeoutSeconds?: number;
  },
): Promise<WrkResult> {
  const threads = Math.min(options.threads ?? 1, options.connections);
  const { stdout } = await run(
    'sh',
    [
      '-c',
      WITH_CHILD_CPU,
      'sh',
      `-t${threads}`,
      `-c${options.connections}`,
      `-d${Math.max(1, Math.round(options.durationSeconds))}s`,
      `--timeout`,
      `${options.timeoutSeconds ?? 5}s`,
      url,
    ],
    { timeout: options.durationSeconds * 1000 + WRK_GRACE_MS },
  );
  return parseWrkOutput(stdout);
}
