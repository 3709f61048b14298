// Builds candidates.json: each fleet's listed store nodes best first, with the score and the components behind it.
//
// For clients that pick a store node per query (status-go since 2026) rather than cycling through a
// compiled-in list: healthy nodes first, and the evidence, so a client can apply its own back-off.
import * as z from 'zod';
import { byCodeUnits, encodeRegistryDocument } from './encoding.ts';
import { InvalidRegistryError } from './errors.ts';
import type { BuiltRegistryDocument, ListedNode } from './fleets-json.ts';
import { describeRegistryIssues } from './issues.ts';

export const CANDIDATES_FILE = 'candidates.json';

export interface CandidateInput {
  node: ListedNode;
  /** Composite reputation in [0, 1]; null before any evidence (ranked after every scored node). */
  score: number | null;
  components: Readonly<Record<string, number | null>>;
}

export interface BuildCandidatesInput {
  fleet: string;
  hostname: string;
  /** The registry sequence the ranking was built with (fleets.json may be older: rankings refresh every round). */
  sequence: number;
  /** Probe round the scores are from. */
  round?: number | undefined;
  nowMs: number;
  candidates: readonly CandidateInput[];
}

const scoreOrNull = z.number().finite().min(0).max(1).nullable();

export const CandidatesJsonSchema = z.looseObject({
  meta: z.looseObject({
    hostname: z.string().min(1),
    timestamp: z.iso.datetime({ offset: true }),
    sequence: z.number().int().nonnegative(),
    round: z.number().int().nonnegative().optional(),
  }),
  fleets: z.record(
    z.string().min(1),
    z.array(
      z.looseObject({
        id: z.string().min(1),
        score: scoreOrNull,
        components: z.record(z.string().min(1), scoreOrNull),
        addresses: z.looseObject({
          tcp: z.string().min(1),
          wss: z.string().optional(),
          enr: z.string().optional(),
        }),
      }),
    ),
  ),
});
export type CandidatesJson = z.output<typeof CandidatesJsonSchema>;

/** Best first: higher score, unscored last, then by name so equal scores keep one order everywhere. */
function rank(a: CandidateInput, b: CandidateInput): number {
  if (a.score !== b.score) {
    if (a.score === null) return 1;
    if (b.score === null) return -1;
    return b.score - a.score;
  }
  return byCodeUnits(a.node.id, b.node.id);
}

/**
 * @throws InvalidRegistryError when a score is outside [0, 1] or a field is malformed.
 * @example
 * const { bytes } = buildCandidatesJson({ fleet: 'status.prod', hostname: 'storefleet', sequence: 42, nowMs, candidates });
 */
export function buildCandidatesJson(
  input: BuildCandidatesInput,
): BuiltRegistryDocument<CandidatesJson> {
  const ranked = [...input.candidates].sort(rank).map(({ node, score, components }) => ({
    id: node.id,
    score,
    components: Object.fromEntries(
      Object.keys(components)
        .sort(byCodeUnits)
        .map((name) => [name, components[name] ?? null]),
    ),
    addresses: {
      tcp: node.tcp,
      ...(node.wss === undefined ? {} : { wss: node.wss }),
      ...(node.enr === undefined ? {} : { enr: node.enr }),
    },
  }));
  const candidate = {
    meta: {
      hostname: input.hostname,
      timestamp: new Date(input.nowMs).toISOString(),
      sequence: input.sequence,
      ...(input.round === undefined ? {} : { round: input.round }),
    },
    fleets: { [input.fleet]: ranked },
  };
  const result = CandidatesJsonSchema.safeParse(candidate);
  if (!result.success) {
    throw new InvalidRegistryError(
      describeRegistryIssues(result.error, candidate),
      `${CANDIDATES_FILE} for ${input.fleet}`,
    );
  }
  return { document: result.data, bytes: encodeRegistryDocument(candidate) };
}
