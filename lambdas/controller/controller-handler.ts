// The controller function: once per probe round, after the round deadline, decide, act, and ask the publisher for a new registry when the listed set changed.
import { type DecisionStore, decideRound } from '../../control/decide-round.ts';
import { type AlarmSink, performActions } from '../../control/perform-actions.ts';
import { roundNumber, roundStartMs } from '../../control/rounds.ts';
import type { FleetConfig } from '../../fleet/config.ts';
import { fleetReputations } from '../../fleet/controller.ts';
import type { DeploymentTopology } from '../../fleet/function-environment.ts';
import { METRIC_DIMENSIONS, METRICS } from '../../fleet/metrics.ts';
import type { MetricsSink, NodeRuntime, StateStore, TaskState } from '../../fleet/ports.ts';
import { type FleetState, initialFleetState } from '../../fleet/state.ts';
import type { ControlPlaneSource } from '../shared/control-plane.ts';
import type { HandlerLog, InvocationContext, LoopClock } from '../shared/invocation.ts';
import type { ObservationReader } from '../shared/observation-reader.ts';

/** Probe reports are written right after the round deadline; wait this much longer for them to land. */
export const ROUND_SETTLE_MS = 1500;
/** Time a batch of decisions, its actions and the publisher request may take; no batch starts with less left. */
export const DECISION_BUDGET_MS = 8000;
/** Rounds missed while no controller ran are decided on the next start, up to this many. */
export const MAX_CATCH_UP_ROUNDS = 12;

export interface ControllerHandlerDeps {
  /** How long one invocation keeps deciding rounds; the function's timeout also bounds it. */
  loopSeconds: number;
  controlPlane: ControlPlaneSource;
  store: DecisionStore & Pick<StateStore<FleetState>, 'claimAction'>;
  observations: ObservationReader;
  /** The node runtime for this deployment (EcsNodeRuntime on AWS). */
  runtimeFor(config: FleetConfig, topology: DeploymentTopology): NodeRuntime;
  /** Asks the publisher for a new registry version without waiting for it (Lambda Event invocation). */
  invokePublisher(request: { round: number; listedNodeIds: string[] }): Promise<void>;
  clock: LoopClock;
  metrics: MetricsSink;
  log: HandlerLog;
}

export interface ControllerInvocationResult {
  /** Rounds decided, in order. */
  rounds: number[];
  /** Idempotency keys of the actions performed by this invocation. */
  performed: string[];
  publisherInvocations: number;
}

/**
 * @example
 * export const handler = createControllerHandler(defaultControllerDependencies());
 */
export function createControllerHandler(deps: ControllerHandlerDeps) {
  return async function controllerHandler(
    _event: unknown,
    context: InvocationContext,
  ): Promise<ControllerInvocationResult> {
    const startMs = deps.clock.nowMs();
    const loopEndMs = startMs + deps.loopSeconds * 1000;
    const { config, topology } = await deps.controlPlane.load();
    const runtime = deps.runtimeFor(config, topology);
    const intervalSeconds = config.probe.intervalSeconds;
    const lagMs = config.probe.roundDeadlineMs + ROUND_SETTLE_MS;
    const result: ControllerInvocationResult = {
      rounds: [],
      performed: [],
      publisherInvocations: 0,
    };
    let current: { state: FleetState; version: number } | undefined;
    const alarms = alarmLog(deps.log);

    for (;;) {
      const latest = roundNumber(deps.clock.nowMs() - lagMs, intervalSeconds);
      if (!current) {
        const loaded = await deps.store.loadFleetState();
        current = { state: loaded.state ?? initialFleetState(config), version: loaded.version };
      }
      const lastProcessed = current.state.lastProcessedRound;
      const first = Math.max(
        lastProcessed === null ? latest : lastProcessed + 1,
        latest - MAX_CATCH_UP_ROUNDS + 1,
      );
      if (first <= latest) {
        const nodeIds = config.nodes.map((node) => node.id);
        const [taskStates, completeness, stress] = await Promise.all([
          readTaskStates(runtime, deps.log),
          deps.observations.latestCompleteness(nodeIds),
          deps.observations.latestStress(nodeIds),
        ]);
        let listedChanged = false;
        let listed: string[] = [];
        for (let round = first; round <= latest; round++) {
          const nowMs = deps.clock.nowMs();
          const decided = await decideRound({
            config,
            store: deps.store,
            round,
            nowMs,
            completeness,
            stress,
            ...(taskStates ? { taskStates } : {}),
            current,
          });
          current = { state: decided.state, version: decided.version };
          const outcome = await performActions(decided.actions, {
            claimAction: (key, atMs) => deps.store.claimAction(key, atMs),
            runtime,
            alarms,
            nowMs,
            log: deps.log,
          });
          result.performed.push(...outcome.performed.map((action) => action.idempotencyKey));
          if (!sameList(decided.previousListedNodeIds, decided.listedNodeIds)) listedChanged = true;
          listed = decided.listedNodeIds;
          recordStateMetrics(deps.metrics, config, decided.state);
          result.rounds.push(round);
        }
        if (listedChanged) {
          await deps.invokePublisher({ round: latest, listedNodeIds: listed });
          result.publisherInvocations += 1;
        }
        await deps.metrics.flush();
      }
      const readyAtMs = roundStartMs(latest + 1, intervalSeconds) + lagMs;
      const waitMs = Math.max(0, readyAtMs - deps.clock.nowMs());
      if (
        readyAtMs >= loopEndMs ||
        context.getRemainingTimeInMillis() - waitMs < DECISION_BUDGET_MS
      )
        break;
      await deps.clock.sleep(waitMs);
    }
    return result;
  };
}

async function readTaskStates(
  runtime: NodeRuntime,
  log: HandlerLog,
): Promise<ReadonlyMap<string, TaskState> | undefined> {
  try {
    return await runtime.taskStates();
  } catch (error) {
    // Without the runtime's view the controller still decides from probes alone.
    log.warn('could not read task states', { error: (error as Error).message });
    return undefined;
  }
}

/** On AWS the alarms read metrics; raised and cleared alarm actions go to the log for the on-call trail. */
function alarmLog(log: HandlerLog): AlarmSink {
  return {
    raise: (action) =>
      log.warn(`alarm ${action.alarm} raised`, {
        alarm: action.alarm,
        severity: action.severity,
        subject: action.subject,
        reason: action.reason,
        runbook: action.runbook,
      }),
    clear: (action) =>
      log.info(`alarm ${action.alarm} cleared`, {
        alarm: action.alarm,
        subject: action.subject,
        reason: action.reason,
      }),
  };
}

/** The gauges the CloudWatch alarms read, from the state just saved. */
function recordStateMetrics(metrics: MetricsSink, config: FleetConfig, state: FleetState): void {
  const nodes = Object.values(state.nodes);
  metrics.record(
    METRICS.blindVantagePoints,
    Object.values(state.vantagePoints).filter((vantage) => vantage.blind).length,
    'Count',
  );
  metrics.record(
    METRICS.escalatedNodes,
    nodes.filter((node) => node.status === 'escalated').length,
    'Count',
  );
  metrics.record(
    METRICS.drainsDeferred,
    nodes.filter((node) => node.heldBack === 'drain-cap').length,
    'Count',
  );
  for (const reputation of fleetReputations(config, state)) {
    if (reputation.composite === null) continue;
    metrics.record(METRICS.reputationScore, reputation.composite, 'None', {
      [METRIC_DIMENSIONS.node]: reputation.nodeId,
    });
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}
