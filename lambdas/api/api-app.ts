// The fleet's HTTP API on Lambda: control/'s fleet view with each node's ECS task state, operator drains as conditional writes, CloudWatch alarm states, and stress tests on demand.
import {
  type CloudWatchClient,
  DescribeAlarmsCommand,
  type MetricAlarm,
} from '@aws-sdk/client-cloudwatch';
import { type Context, Hono } from 'hono';
import { fleetView } from '../../control/fleet-view.ts';
import {
  drainByOperator,
  OperatorDrainRefusedError,
  undrainByOperator,
} from '../../control/operator-drains.ts';
import { type StressTestRequest, stressRequestSchema } from '../../control/stress-request.ts';
import { ALARMS } from '../../fleet/alarms.ts';
import { describeIssues } from '../../fleet/config.ts';
import type { NodeRuntime, OperatorDrains, StateStore, TaskState } from '../../fleet/ports.ts';
import { StaleStateError } from '../../fleet/ports.ts';
import { type FleetState, initialFleetState } from '../../fleet/state.ts';
import { callAws } from '../adapters/aws-call-error.ts';
import type { ControlPlaneSource } from '../shared/control-plane.ts';
import { withOperatorRetry } from '../shared/control-records.ts';

export interface ApiDeps {
  controlPlane: ControlPlaneSource;
  store: Pick<StateStore<FleetState>, 'loadFleetState'>;
  /** A fresh drains object per request: its write is conditional on its own read. */
  drains(): OperatorDrains;
  /** ECS DescribeServices, for each node's taskState. */
  runtime: Pick<NodeRuntime, 'taskStates'>;
  /** CloudWatch in the control region, read-only (DescribeAlarms). */
  cloudWatch: CloudWatchClient;
  /** Starts a stress test without waiting for it (the stress function, InvocationType Event). */
  invokeStress(request: StressTestRequest): Promise<void>;
  /** @default Date.now */
  nowMs?: () => number;
}

/** One CloudWatch alarm as `GET /api/alarms` shows it, with the runbook of its condition. */
export interface ApiAlarmView {
  name: string;
  state: string;
  reason: string | null;
  updatedAt: string | null;
  runbook: string | null;
}

/** The dashboard's words for the controller's states. */
function displayState(status: string, operatorDrained: boolean, listed: boolean): string {
  if (operatorDrained && !listed) return 'drained';
  return status === 'active' ? 'healthy' : status;
}

/** `status.prod-ProberBlind-vp-us` -> the ProberBlind runbook. */
function runbookOf(fleet: string, alarmName: string): string | null {
  const name = alarmName.startsWith(`${fleet}-`) ? alarmName.slice(fleet.length + 1) : alarmName;
  const definition = Object.values(ALARMS).find(
    (candidate) => name === candidate.name || name.startsWith(`${candidate.name}-`),
  );
  return definition?.runbook ?? null;
}

/**
 * Mutations are not authenticated here: the function URL requires SigV4 (AWS_IAM) and CloudFront
 * forwards only GET and HEAD (infra/FleetApi.ts).
 * @example
 * const app = createApiApp(deps);
 * const res = await app.request('/api/nodes');
 */
export function createApiApp(deps: ApiDeps): Hono {
  const app = new Hono();
  const nowMs = deps.nowMs ?? Date.now;

  const load = async () => {
    const { config } = await deps.controlPlane.load();
    const loaded = await deps.store.loadFleetState();
    return { config, state: loaded.state ?? initialFleetState(config) };
  };

  const nodesView = async () => {
    const { config, state } = await load();
    const [drained, taskStates] = await Promise.all([
      deps.drains().drained(),
      deps.runtime.taskStates().catch((): ReadonlyMap<string, TaskState> => new Map()),
    ]);
    const view = fleetView(config, state, drained);
    return {
      config,
      view: {
        ...view,
        atMs: nowMs(),
        nodes: view.nodes.map((node) => ({
          ...node,
          state: displayState(node.status, node.operatorDrained, node.listed),
          taskState: taskStates.get(node.id) ?? 'missing',
          completeness: node.components.completeness,
          rttMs: null,
          freshnessAgeMs: null,
          lastError: null,
        })),
      },
    };
  };

  const unknownNode = (c: Context, nodeId: string) =>
    c.json({ error: `no node "${nodeId}" in this fleet` }, 404);

  app.get('/api/nodes', async (c) => c.json((await nodesView()).view));

  app.get('/api/nodes/:id', async (c) => {
    const nodeId = c.req.param('id');
    const node = (await nodesView()).view.nodes.find((candidate) => candidate.id === nodeId);
    // History stays in the logs on AWS (Logs Insights); the node's current view is all there is here.
    return node ? c.json({ node, history: [] }) : unknownNode(c, nodeId);
  });

  app.get('/api/alarms', async (c) => {
    const { config } = await deps.controlPlane.load();
    const alarms: MetricAlarm[] = [];
    let nextToken: string | undefined;
    do {
      const page = await callAws(
        { action: 'cloudwatch:DescribeAlarms', resource: `alarms "${config.fleet}-*"` },
        () =>
          deps.cloudWatch.send(
            new DescribeAlarmsCommand({
              AlarmNamePrefix: `${config.fleet}-`,
              ...(nextToken ? { NextToken: nextToken } : {}),
            }),
          ),
      );
      alarms.push(...(page.MetricAlarms ?? []));
      nextToken = page.NextToken;
    } while (nextToken);
    const views: ApiAlarmView[] = alarms.map((alarm) => ({
      name: alarm.AlarmName ?? '',
      state: alarm.StateValue ?? 'INSUFFICIENT_DATA',
      reason: alarm.StateReason ?? null,
      updatedAt: alarm.StateUpdatedTimestamp?.toISOString() ?? null,
      runbook: runbookOf(config.fleet, alarm.AlarmName ?? ''),
    }));
    return c.json({ alarms: views });
  });

  app.post('/api/stress', async (c) => {
    const body = await c.req.json().catch(() => undefined);
    if (body === undefined) return c.json({ error: 'expected a JSON body' }, 400);
    const { config, view } = await nodesView();
    const parsed = stressRequestSchema(config).safeParse(body);
    if (!parsed.success) {
      return c.json({ error: describeIssues(parsed.error, body).join('; ') }, 400);
    }
    const node = view.nodes.find((candidate) => candidate.id === parsed.data.nodeId);
    if (!node)
      return c.json({ error: `nodeId: no node "${parsed.data.nodeId}" in this fleet` }, 404);
    if (!node.listed) {
      return c.json(
        {
          error: `nodeId: "${node.id}" is not listed (status ${node.status}); stress only listed nodes`,
        },
        409,
      );
    }
    await deps.invokeStress(parsed.data);
    return c.json({ accepted: parsed.data }, 202);
  });

  const operatorChange = (drain: boolean) => async (c: Context) => {
    const nodeId = c.req.param('id') as string;
    const { config } = await deps.controlPlane.load();
    if (!config.nodes.some((node) => node.id === nodeId)) return unknownNode(c, nodeId);
    try {
      await withOperatorRetry(async () => {
        const { state } = await load();
        const drains = deps.drains();
        return drain
          ? drainByOperator(config, state, drains, nodeId)
          : undrainByOperator(drains, nodeId);
      });
    } catch (error) {
      if (error instanceof OperatorDrainRefusedError || error instanceof StaleStateError) {
        return c.json({ error: error.message }, 409);
      }
      throw error;
    }
    return c.json({ nodeId, operatorDrained: drain });
  };
  app.post('/api/nodes/:id/drain', operatorChange(true));
  app.post('/api/nodes/:id/undrain', operatorChange(false));

  return app;
}
