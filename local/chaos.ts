// Chaos for demos and tests: kill, stall, slow, hole or flap a node; blind a vantage point; clear faults.
import type { FleetConfig } from '../fleet/config.ts';
import type { FleetState } from '../fleet/state.ts';
import { type ChaosRequest, UnknownNodeError } from './api.ts';
import type { EventLog } from './event-log.ts';
import type { ProcessRuntime } from './process-runtime.ts';

/** A flapping node stalls again once it has been back and healthy for this many rounds. */
export const FLAP_HEALTHY_ROUNDS = 2;
/** Share of new messages a node with a hole drops from its archive. */
const HOLE_DROP_RATE = 0.6;

/** Exact node id, or a unique prefix such as `store-01.us-east`. */
export function resolveNodeId(config: Pick<FleetConfig, 'nodes'>, nodeId: string): string {
  const ids = config.nodes.map((node) => node.id);
  if (ids.includes(nodeId)) return nodeId;
  const matches = ids.filter((id) => id.startsWith(`${nodeId}.`) || id.startsWith(nodeId));
  if (matches.length === 1) return matches[0] as string;
  throw new UnknownNodeError(nodeId);
}

/**
 * @example
 * const chaos = new FleetChaos({ config, runtime, events });
 * await chaos.apply({ action: 'kill', nodeId: 'store-01.us-east' });
 */
export class FleetChaos {
  readonly #config: FleetConfig;
  readonly #runtime: ProcessRuntime;
  readonly #events: EventLog;
  readonly #blindVantages = new Set<string>();
  readonly #flapping = new Set<string>();

  constructor(options: { config: FleetConfig; runtime: ProcessRuntime; events: EventLog }) {
    this.#config = options.config;
    this.#runtime = options.runtime;
    this.#events = options.events;
  }

  isBlind(vantageId: string): boolean {
    return this.#blindVantages.has(vantageId);
  }

  async apply(request: ChaosRequest): Promise<string> {
    switch (request.action) {
      case 'blind': {
        if (!this.#config.vantagePoints.some((vantage) => vantage.id === request.vantageId)) {
          throw new UnknownNodeError(`vantage point ${request.vantageId}`);
        }
        this.#blindVantages.add(request.vantageId);
        return this.#note(`vantage point ${request.vantageId} blinded: its probes now fail`);
      }
      case 'clear':
        return this.#clear(request.target);
      default: {
        const nodeId = resolveNodeId(this.#config, request.nodeId);
        switch (request.action) {
          case 'kill':
            this.#runtime.killNode(nodeId);
            return this.#note(`killed ${nodeId} (SIGKILL)`, nodeId);
          case 'stall':
            await this.#runtime.setFaults(nodeId, { stall: true });
            return this.#note(`${nodeId} stalls: accepts connections, never answers`, nodeId);
          case 'slow': {
            const latencyMs = Math.round(this.#config.probe.pingTimeoutMs / 2);
            await this.#runtime.setFaults(nodeId, { latencyMs });
            return this.#note(`${nodeId} answers ${latencyMs} ms late`, nodeId);
          }
          case 'hole':
            await this.#runtime.setFaults(nodeId, { dropArchiveRate: HOLE_DROP_RATE });
            return this.#note(
              `${nodeId} drops ${HOLE_DROP_RATE * 100} % of new messages from its archive`,
              nodeId,
            );
          case 'flap':
            this.#flapping.add(nodeId);
            await this.#runtime.setFaults(nodeId, { stall: true });
            return this.#note(
              `${nodeId} flaps: it stalls, and stalls again each time it has been back for ${FLAP_HEALTHY_ROUNDS} good rounds`,
              nodeId,
            );
        }
      }
    }
  }

  /**
   * A replacement starts a process without faults; a flapping node fails again soon after it is
   * back, which is what makes the controller lengthen its probation. Called after every round.
   */
  flapAgain(state: FleetState): void {
    for (const nodeId of this.#flapping) {
      const node = state.nodes[nodeId];
      if (node?.status === 'active' && node.goodStreak >= FLAP_HEALTHY_ROUNDS) {
        this.#runtime.setFaults(nodeId, { stall: true }).catch(() => {
          // Down or being replaced: the next round tries again.
        });
      }
    }
  }

  #note(message: string, nodeId: string | null = null): string {
    this.#events.record('action', 'Chaos', 'warning', nodeId, message);
    return message;
  }

  async #clear(target: string | undefined): Promise<string> {
    const cleared: string[] = [];
    for (const vantage of [...this.#blindVantages]) {
      if (target === undefined || target === vantage) {
        this.#blindVantages.delete(vantage);
        cleared.push(vantage);
      }
    }
    const nodeIds =
      target === undefined
        ? this.#config.nodes.map((node) => node.id)
        : cleared.includes(target)
          ? []
          : [resolveNodeId(this.#config, target)];
    for (const nodeId of nodeIds) {
      this.#flapping.delete(nodeId);
      const running = this.#runtime.taskStatesNow().get(nodeId) === 'running';
      if (running) {
        await this.#runtime.clearFaults(nodeId).catch(() => {});
        cleared.push(nodeId);
      }
    }
    return this.#note(`cleared faults on ${cleared.length ? cleared.join(', ') : 'nothing'}`);
  }
}
