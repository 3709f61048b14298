// Stress progress on stderr: a bar on a terminal, a line a second otherwise.
import type { OpenModelProgress } from '../../../probes/stress/open-model.ts';

/** Plain progress lines (no terminal) are printed at most this often. */
const PLAIN_PROGRESS_INTERVAL_MS = 1000;

export /** Progress on stderr: a bar on a terminal, a line a second otherwise. */
async function progressReporter(scheduled: number): Promise<{
  update: (progress: OpenModelProgress) => void;
  stop: () => void;
}> {
  if (process.stderr.isTTY) {
    const { SingleBar, Presets } = (await import('cli-progress')).default;
    const bar = new SingleBar(
      {
        stream: process.stderr,
        format:
          '{bar} {percentage}% | {elapsed}s/{total_s}s | sent {sent} ok {ok} failed {failed} dropped {dropped} in flight {inflight}',
        hideCursor: true,
      },
      Presets.shades_classic,
    );
    bar.start(scheduled, 0, { sent: 0, ok: 0, failed: 0, dropped: 0, inflight: 0, elapsed: 0 });
    return {
      update: (p) =>
        bar.update(p.sent + p.dropped, {
          sent: p.sent,
          ok: p.succeeded,
          failed: p.failed,
          dropped: p.dropped,
          inflight: p.inFlight,
          elapsed: (p.elapsedMs / 1000).toFixed(1),
          total_s: (p.durationMs / 1000).toFixed(0),
        }),
      stop: () => bar.stop(),
    };
  }
  let lastPrintedAt = 0;
  return {
    update: (p) => {
      if (p.elapsedMs - lastPrintedAt < PLAIN_PROGRESS_INTERVAL_MS) return;
      lastPrintedAt = p.elapsedMs;
      console.error(
        `${(p.elapsedMs / 1000).toFixed(1)}s: sent ${p.sent}/${p.scheduled}, ok ${p.succeeded}, failed ${p.failed}, dropped ${p.dropped}, in flight ${p.inFlight}`,
      );
    },
    stop: () => {},
  };
}
