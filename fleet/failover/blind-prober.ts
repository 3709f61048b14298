// Policy: a vantage point is blind when it sees failures nobody else sees, not when the fleet really is down.

/** Below this many listed nodes probed, "most of the fleet failing" says nothing about the prober. */
export const MIN_NODES_TO_JUDGE_BLINDNESS = 3;

export interface VantageRoundTally {
  /** Listed nodes (active or suspect) this vantage point reported on this round. */
  probed: number;
  /** Of those, how many it saw failing without anyone else agreeing (see judgeBlindness). */
  failing: number;
}

/** True when more than `blindFraction` of the listed nodes it probed fail from this vantage point alone. */
export function isProberBlind(tally: VantageRoundTally, blindFraction: number): boolean {
  if (tally.probed < MIN_NODES_TO_JUDGE_BLINDNESS) return false;
  return tally.failing > blindFraction * tally.probed;
}

/** One reporting vantage point's round, as flat arrays indexed like config.nodes. */
export interface VantageSight {
  /** 1 where the vantage point reported on the node. */
  seen: Uint8Array;
  /** 1 where its probes saw the node fail. */
  failed: Uint8Array;
}

export interface BlindnessInput {
  /** Only the vantage points that reported this round. */
  sights: readonly VantageSight[];
  /** 1 where the node was listed before this round: drained nodes are known to be down. */
  listed: Uint8Array;
  /** 1 where the runtime reports the node's task stopped or missing. */
  runtimeDown: Uint8Array;
  blindFraction: number;
}

/**
 * Judges every reporting vantage point at once. A failure a vantage point sees is corroborated
 * when the runtime reports the task down, or when a strict majority of the other vantage points
 * that probed the node saw it fail too; a vantage point is blind when its uncorroborated failures
 * are more than `blindFraction` of the listed nodes it probed. So when four of six nodes really
 * die, every prober and the runtime agree and nobody is blind; when one prober loses its network,
 * it alone sees the failures and is blind; when two of three are cut off, neither is a strict
 * majority for the other and both are blind. Returns, per sight, whether it is blind, and the
 * tally it was judged on.
 * @example judgeBlindness({ sights, listed, runtimeDown, blindFraction: 0.5 })[0].blind
 */
export function judgeBlindness(
  input: BlindnessInput,
): { blind: boolean; tally: VantageRoundTally }[] {
  const { sights, listed, runtimeDown } = input;
  const nodeCount = listed.length;
  const seenCount = new Uint16Array(nodeCount);
  const failCount = new Uint16Array(nodeCount);
  for (const sight of sights) {
    for (let i = 0; i < nodeCount; i++) {
      if (sight.seen[i] !== 1) continue;
      seenCount[i] = (seenCount[i] as number) + 1;
      if (sight.failed[i] === 1) failCount[i] = (failCount[i] as number) + 1;
    }
  }
  return sights.map((sight) => {
    let probed = 0;
    let failing = 0;
    for (let i = 0; i < nodeCount; i++) {
      if (listed[i] !== 1 || sight.seen[i] !== 1) continue;
      probed++;
      if (sight.failed[i] !== 1 || runtimeDown[i] === 1) continue;
      const othersSeen = (seenCount[i] as number) - 1;
      const othersFailing = (failCount[i] as number) - 1;
      if (othersSeen > 0 && othersFailing * 2 > othersSeen) continue;
      failing++;
    }
    const tally = { probed, failing };
    return { blind: isProberBlind(tally, input.blindFraction), tally };
  });
}
