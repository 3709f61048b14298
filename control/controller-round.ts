// The controller's round: gather the vantage points' reports of round N (a quorum, or whatever arrived by the deadline), decide, perform, publish.
import type { FleetConfig } from '../fleet/config.ts';
import { fleetReputations } from '../fleet/controller.ts';
import type { FleetAction } from '../fleet/failover/actions.ts';
import { METRICS } from '../fleet/metrics.ts';
import type { ProbeRound } from '../fleet/observations.ts';
import type {
  AlarmSink,
  Clock,
  FleetStateStore,
  MetricsSink,
  NodeRuntime,
  ObservationSource,
  OperatorDrains,
  StructuredLog,
  TaskState,
} from '../fleet/ports.ts';
import { type FleetState, initialFleetState } from '../fleet/state.ts';
import { type DecidedRound, decideRound, reportingVantageIds } from './decide-round.ts';
import { registryListing } from './listing.ts';
import { drainByOperator, type OperatorDrainChange, undrainByOperator } from './operator-drains.ts';
import { type PerformedActions, performActions } from './perform-actions.ts';
import type { PublicationOutcome, RegistryPublication } from './publication.ts';

/** How often the controller looks for reports while it waits for a quorum. */
export const REPORT_POLL_MS = 100;

export interface ControllerPorts {
  state: FleetStateStore<FleetState>;
  observations: ObservationSource;
  runtime: NodeRuntime;
  drains: OperatorDrains;
  publication: RegistryPublication;
  alarms: AlarmSink;
  metrics: MetricsSink;
  log: StructuredLog;
  clock: Clock;
  /** Told of each action this run claimed, before it is performed (the local event log). */
  onClaimed?(action: FleetAction): void;
}

export interface GatherOptions {
  round: number;
  quorum: number;
  /** Stop waiting at this time and decide on what arrived. */
  deadlineAtMs: number;
  clock: Clock;
  /** @default REPORT_POLL_MS */
  pollMs?: number;
}

/**
 * The reports of `round`, as soon as `quorum` distinct vantage points have reported, or at the
 * deadline with whatever arrived (possibly nothing: the round is then inconclusive for every node).
 * @example const reports = await gatherReports(store, { round, quorum: 2, deadlineAtMs, clock });
 */
export async function gatherReports(
  observations: Pick<ObservationSource, 'probeRounds'>,
  options: GatherOptions,
): Promise<ProbeRound[]> {
  const pollMs = options.pollMs ?? REPORT_POLL_MS;
  for (;;) {
    const reports = await observations.probeRounds(options.round);
    if (reportingVantageIds(reports).length >= options.quorum) return reports;
    const leftMs = options.deadlineAtMs - options.clock.nowMs();
    if (leftMs <= 0) return reports;
    await options.clock.sleep(Math.min(pollMs, leftMs));
  }
}

export interface ControllerRoundOutcome {
  round: number;
  decided: DecidedRound;
  reports: ProbeRound[];
  reportingVantageIds: string[];
  /** Undefined when the runtime could not be asked: the round was decided from probes alone. */
  taskStates: ReadonlyMap<string, TaskState> | undefined;
  performed: PerformedActions;
  publication: PublicationOutcome;
  durationMs: number;
}

/**
 * The long-running controller: it keeps the fleet state and its version between rounds (re-read
 * only when another run saved first), and serves operator drains and the fleet view from them.
 * @example
 * const controller = await FleetController.open(config, ports);
 * const outcome = await controller.runRound(42, { deadlineAtMs: clock.nowMs() + config.probe.roundDeadlineMs });
 */
export class FleetController {
  readonly config: FleetConfig;
  readonly #ports: ControllerPorts;
  #current: { state: FleetState; version: number };

  private constructor(
    config: FleetConfig,
    ports: ControllerPorts,
    current: { state: FleetState; version: number },
  ) {
    this.config = config;
    this.#ports = ports;
    this.#current = current;
  }

  static async open(config: FleetConfig, ports: ControllerPorts): Promise<FleetController> {
    const loaded = await ports.state.loadFleetState();
    return new FleetController(config, ports, {
      state: loaded.state ?? initialFleetState(config),
      version: loaded.version,
    });
  }

  get state(): FleetState {
    return this.#current.state;
  }

  get stateVersion(): number {
    return this.#current.version;
  }

  async runRound(
    round: number,
    options: { deadlineAtMs: number },
  ): Promise<ControllerRoundOutcome> {
    const { clock, observations, runtime, log, metrics } = this.#ports;
    const startedAtMs = clock.nowMs();
    const reports = await gatherReports(observations, {
      round,
      quorum: this.config.failover.quorum,
      deadlineAtMs: options.deadlineAtMs,
      clock,
    });
    const nodeIds = this.config.nodes.map((node) => node.id);
    const [taskStates, completeness, stress] = await Promise.all([
      runtime.taskStates().catch((error: unknown) => {
        // Without the runtime's view the controller still decides from probes alone.
        log.warn('could not read task states', { error: (error as Error).message });
        return undefined;
      }),
      observations.latestCompleteness(nodeIds),
      observations.latestStress(nodeIds),
    ]);
    const nowMs = clock.nowMs();
    const decided = await decideRound({
      config: this.config,
      store: this.#ports.state,
      round,
      probeRounds: reports,
      nowMs,
      completeness,
      stress,
      ...(taskStates ? { taskStates } : {}),
      current: this.#current,
    });
    this.#current = { state: decided.state, version: decided.version };
    const performed = await performActions(decided.actions, {
      claimAction: (key, atMs) => this.#ports.state.claimAction(key, atMs),
      runtime,
      alarms: this.#ports.alarms,
      nowMs,
      log,
      ...(this.#ports.onClaimed ? { onClaimed: this.#ports.onClaimed } : {}),
    });
    const publication = await this.#ports.publication.publishIfDue(decided.state, nowMs);
    const reporting = reportingVantageIds(reports);
    const durationMs = clock.nowMs() - startedAtMs;
    await this.#recordFleetFigures(round, decided.state, reporting, durationMs);
    await metrics.flush();
    return {
      round,
      decided,
      reports,
      reportingVantageIds: reporting,
      taskStates,
      performed,
      publication,
      durationMs,
    };
  }

  /** Fleet-level metrics, one value each per round; each node's figures go to one log line. */
  async #recordFleetFigures(
    round: number,
    state: FleetState,
    reporting: readonly string[],
    durationMs: number,
  ): Promise<void> {
    const { metrics, log } = this.#ports;
    const nodes = Object.values(state.nodes);
    const listed = registryListing(this.config, state, await this.#ports.drains.drained());
    metrics.record(METRICS.reportingVantagePoints, reporting.length, 'Count');
    metrics.record(
      METRICS.blindVantagePoints,
      Object.values(state.vantagePoints).filter((vantage) => vantage.blind).length,
      'Count',
    );
    metrics.record(METRICS.listedNodes, listed.length, 'Count');
    metrics.record(
      METRICS.healthyListedNodes,
      listed.filter((nodeId) => state.nodes[nodeId]?.status === 'active').length,
      'Count',
    );
    metrics.record(
      METRICS.drainsDeferred,
      nodes.filter((node) => node.heldBack === 'drain-cap').length,
      'Count',
    );
    metrics.record(
      METRICS.escalatedNodes,
      nodes.filter((node) => node.status === 'escalated').length,
      'Count',
    );
    metrics.record(METRICS.roundDurationMs, durationMs, 'Milliseconds');
    log.info('controller round', {
      round,
      reportingVantageIds: reporting,
      listed,
      nodes: Object.fromEntries(
        fleetReputations(this.config, state).map((rep) => [
          rep.nodeId,
          { status: state.nodes[rep.nodeId]?.status ?? 'active', reputation: rep.composite },
        ]),
      ),
    });
  }

  /** Takes a node out of fleets.json by hand and publishes at once (never below minHealthy). */
  async drainByOperator(
    nodeId: string,
  ): Promise<{ change: OperatorDrainChange; publication?: PublicationOutcome }> {
    const change = await drainByOperator(this.config, this.state, this.#ports.drains, nodeId);
    if (!change.changed) return { change };
    return { change, publication: await this.#republishNow() };
  }

  /** Gives a node back to the controller and publishes at once. */
  async undrainByOperator(
    nodeId: string,
  ): Promise<{ change: OperatorDrainChange; publication: PublicationOutcome }> {
    const change = await undrainByOperator(this.#ports.drains, nodeId);
    return { change, publication: await this.#republishNow() };
  }

  /** Publishes if the listed set changed or the version is due, without deciding a round. */
  publishIfDue(): Promise<PublicationOutcome> {
    return this.#republishNow();
  }

  #republishNow(): Promise<PublicationOutcome> {
    return this.#ports.publication.publishIfDue(this.state, this.#ports.clock.nowMs());
  }
}
