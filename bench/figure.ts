// What every figure hands back to bench/run.ts: table rows, notes and the raw numbers for the JSON twin.

export type Verdict = 'yes' | 'no' | 'n/a' | 'not measured';

export interface FigureRow {
  figure: string;
  storefleet: string;
  peer: string;
  /** storefleet relative to the peer, oriented so that above 1 is better for storefleet. */
  ratio: string;
  target: string;
  met: Verdict;
}

export interface FigureResult {
  rows: FigureRow[];
  /** Method, caveats and, where a target is missed, why. */
  notes: string[];
  raw: unknown;
}

export interface BenchContext {
  quick: boolean;
  log: (line: string) => void;
}

export interface Figure {
  /** Short id for --only and the JSON twin, e.g. `controller`. */
  id: string;
  /** Its number in the list, which orders the table. */
  number: number;
  title: string;
  run(context: BenchContext): Promise<FigureResult>;
}

/** A figure that could not be measured still takes its place in the table, saying why. */
export function notMeasured(figure: string, target: string, reason: string): FigureRow {
  return {
    figure,
    storefleet: `not measured: ${reason}`,
    peer: '-',
    ratio: '-',
    target,
    met: 'not measured',
  };
}

export function verdict(met: boolean): Verdict {
  return met ? 'yes' : 'no';
}

/** Runs both sides of one repeat, alternating who goes first so that a drift in machine load favours neither. */
export async function runAlternating(
  repeat: number,
  ours: () => Promise<void>,
  peer: () => Promise<void>,
): Promise<void> {
  const [first, second] = repeat % 2 === 0 ? [ours, peer] : [peer, ours];
  await first();
  await second();
}
