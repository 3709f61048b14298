// The fleet's HTTP API on Lambda: node views from the saved state, operator drains, and stress tests started on the stress function.
import { type Context, Hono } from 'hono';
import { handle } from 'hono/aws-lambda';
import { registryListing } from '../../control/listing.ts';
import { type StressTestRequest, stressRequestSchema } from '../../control/stress-request.ts';
import { describeIssues, type FleetConfig } from '../../fleet/config.ts';
import { fleetReputations } from '../../fleet/controller.ts';
import type { StateStore } from '../../fleet/ports.ts';
import { type FleetState, initialFleetState } from '../../fleet/state.ts';
import type { ControlPlaneSource } from '../shared/control-plane.ts';
import type { FleetSettings } from '../shared/fleet-settings.ts';

export interface ApiDeps {
  controlPlane: ControlPlaneSource;
  store: Pick<StateStore<FleetState>, 'loadFleetState'>;
  settings: Pick<FleetSettings, 'operatorDrained' | 'setOperatorDrained'>;
  /** Starts a stress test without waiting for it (the stress function, InvocationType Event). */
  invokeStress(request: StressTestRequest): Promise<void>;
}

/** One node as `GET /api/nodes` shows it. */
export interface ApiNodeView {
  id: string;
  location: string;
  status: string;
  listed: boolean;
  operatorDrained: boolean;
  reputation: number | null;
  components: {
    availability: number | null;
    latency: number | null;
    freshness: number | null;
    completeness: number | null;
    stress: number | null;
  };
}

interface FleetView {
  fleet: string;
  round: number | null;
  nodes: ApiNodeView[];
  listedNodeIds: string[];
  activeAlarms: string[];
  blindVantageIds: string[];
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

  const view = async (): Promise<{
    config: FleetConfig;
    fleet: FleetView;
    drained: Set<string>;
  }> => {
    const { config } = await deps.controlPlane.load();
    const [loaded, drained] = await Promise.all([
      deps.store.loadFleetState(),
      deps.settings.operatorDrained(),
    ]);
    const state = loaded.state ?? initialFleetState(config);
    const listed = registryListing(config, state, drained);
    const listedSet = new Set(listed);
    const reputations = new Map(fleetReputations(config, state).map((rep) => [rep.nodeId, rep]));
    const nodes = config.nodes.map((node): ApiNodeView => {
      const rep = reputations.get(node.id);
      return {
        id: node.id,
        location: node.location,
        status: state.nodes[node.id]?.status ?? 'active',
        listed: listedSet.has(node.id),
        operatorDrained: drained.has(node.id),
        reputation: rep?.composite ?? null,
        components: {
          availability: rep?.availability ?? null,
          latency: rep?.latency ?? null,
          freshness: rep?.freshness ?? null,
          completeness: rep?.completeness ?? null,
          stress: rep?.stress ?? null,
        },
      };
    });
    return {
      config,
      drained,
      fleet: {
        fleet: config.fleet,
        round: state.lastProcessedRound,
        nodes,
        listedNodeIds: listed,
        activeAlarms: Object.values(state.alarms).map((alarm) =>
          alarm.subject === 'fleet' ? alarm.alarm : `${alarm.alarm}: ${alarm.subject}`,
        ),
        blindVantageIds: Object.entries(state.vantagePoints)
          .filter(([, vantage]) => vantage.blind)
          .map(([id]) => id),
      },
    };
  };

  const unknownNode = (c: Context, nodeId: string) =>
    c.json({ error: `no node "${nodeId}" in this fleet` }, 404);

  app.get('/api/nodes', async (c) => c.json((await view()).fleet));

  app.get('/api/nodes/:id', async (c) => {
    const nodeId = c.req.param('id');
    const node = (await view()).fleet.nodes.find((candidate) => candidate.id === nodeId);
    return node ? c.json({ node }) : unknownNode(c, nodeId);
  });

  app.post('/api/stress', async (c) => {
    const body = await c.req.json().catch(() => undefined);
    if (body === undefined) return c.json({ error: 'expected a JSON body' }, 400);
    const { config, fleet } = await view();
    const parsed = stressRequestSchema(config).safeParse(body);
    if (!parsed.success) {
      return c.json({ error: describeIssues(parsed.error, body).join('; ') }, 400);
    }
    const node = fleet.nodes.find((candidate) => candidate.id === parsed.data.nodeId);
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

  app.post('/api/nodes/:id/drain', async (c) => {
    const nodeId = c.req.param('id');
    const { config, fleet, drained } = await view();
    if (!fleet.nodes.some((node) => node.id === nodeId)) return unknownNode(c, nodeId);
    if (!drained.has(nodeId)) {
      const remaining = fleet.listedNodeIds.filter((id) => id !== nodeId);
      if (remaining.length < config.failover.minHealthy) {
        return c.json(
          {
            error: `draining ${nodeId} would leave ${remaining.length} listed node(s), below failover.minHealthy (${config.failover.minHealthy}); undrain or repair another node first`,
          },
          409,
        );
      }
      await deps.settings.setOperatorDrained(new Set([...drained, nodeId]));
    }
    return c.json({ nodeId, operatorDrained: true });
  });

  app.post('/api/nodes/:id/undrain', async (c) => {
    const nodeId = c.req.param('id');
    const { fleet, drained } = await view();
    if (!fleet.nodes.some((node) => node.id === nodeId)) return unknownNode(c, nodeId);
    if (!drained.delete(nodeId)) {
      return c.json({ error: `${nodeId} was not drained by an operator` }, 409);
    }
    await deps.settings.setOperatorDrained(drained);
    return c.json({ nodeId, operatorDrained: false });
  });

  return app;
}

/** The API's Lambda handler (function URL events) for a set of dependencies. */
export function createApiHandler(deps: ApiDeps) {
  return handle(createApiApp(deps));
}
