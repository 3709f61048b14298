// The fleet config, deployment topology and node addresses, read from SSM and cached for the life of the execution environment.
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import * as z from 'zod';
import {
  type DeployedAddressBook,
  DeployedAddressBookSchema,
} from '../../control/node-addresses.ts';
import { describeIssues, type FleetConfig, parseFleetConfig } from '../../fleet/config.ts';
import type { DeploymentTopology } from '../../fleet/function-environment.ts';
import { callAws } from '../adapters/aws-call-error.ts';

/**
 * Parameters change only on `cdk deploy`, which does not restart warm functions: re-read after this
 * long so a new config reaches every function within a few minutes.
 */
export const CONTROL_PLANE_CACHE_TTL_MS = 5 * 60 * 1000;

const clientsByRegion = new Map<string, SSMClient>();

/** One SSM client per region for the life of the execution environment. */
export function defaultSsmClient(region: string): SSMClient {
  let client = clientsByRegion.get(region);
  if (!client) {
    client = new SSMClient({ region });
    clientsByRegion.set(region, client);
  }
  return client;
}

const DeploymentTopologySchema = z.looseObject({
  fleet: z.string().min(1),
  controlRegion: z.string().min(1),
  nodes: z.array(
    z.looseObject({
      nodeId: z.string().min(1),
      region: z.string().min(1),
      cluster: z.string().min(1),
      service: z.string().min(1),
      addressesParameter: z.string().min(1),
    }),
  ),
});

/** A parameter holds something other than what the CDK app wrote there. */
export class ControlPlaneParameterError extends Error {
  constructor(name: string, region: string, problems: readonly string[]) {
    super(
      `SSM parameter ${name} (${region}) is not usable:\n${problems.map((line) => `  - ${line}`).join('\n')}\nIt is written by the CDK app; redeploy the stack.`,
    );
    this.name = 'ControlPlaneParameterError';
  }
}

/** What every handler needs to know about the fleet. */
export interface ControlPlane {
  config: FleetConfig;
  topology: DeploymentTopology;
}

/** The seam handlers depend on; SsmControlPlane on AWS, a constant in tests. */
export interface ControlPlaneSource {
  load(): Promise<ControlPlane>;
  /** Every node's deployed addresses, merged over the regions' address parameters. */
  addresses(): Promise<DeployedAddressBook>;
}

export interface SsmControlPlaneProps {
  controlRegion: string;
  configParameter: string;
  deploymentParameter: string;
  /**
   * Swappable for tests.
   * @default one module-scope SSMClient per region
   */
  clientForRegion?: (region: string) => SSMClient;
  /** @default Date.now */
  nowMs?: () => number;
  /** @default CONTROL_PLANE_CACHE_TTL_MS */
  cacheTtlMs?: number;
  /**
   * Told of each region whose address parameter could not be read (not deployed yet, no access,
   * not JSON): only that region's nodes go without addresses.
   * @default nothing
   */
  onUnreadableAddresses?: (problem: UnreadableAddresses) => void;
}

/** A region's address parameter that could not be read this time; it is asked again on the next call. */
export interface UnreadableAddresses {
  region: string;
  parameter: string;
  nodeIds: string[];
  error: Error;
}

interface Cached<T> {
  value: Promise<T>;
  atMs: number;
}

/**
 * @example
 * const controlPlane = new SsmControlPlane({ controlRegion, configParameter, deploymentParameter });
 * const { config, topology } = await controlPlane.load();
 */
export class SsmControlPlane implements ControlPlaneSource {
  readonly #props: SsmControlPlaneProps;
  readonly #clientForRegion: (region: string) => SSMClient;
  readonly #nowMs: () => number;
  readonly #ttlMs: number;
  #controlPlane: Cached<ControlPlane> | undefined;
  #addresses: Cached<DeployedAddressBook> | undefined;

  constructor(props: SsmControlPlaneProps) {
    this.#props = props;
    this.#clientForRegion = props.clientForRegion ?? defaultSsmClient;
    this.#nowMs = props.nowMs ?? Date.now;
    this.#ttlMs = props.cacheTtlMs ?? CONTROL_PLANE_CACHE_TTL_MS;
  }

  load(): Promise<ControlPlane> {
    const now = this.#nowMs();
    if (!this.#controlPlane || now - this.#controlPlane.atMs >= this.#ttlMs) {
      const entry: Cached<ControlPlane> = { value: this.#readControlPlane(), atMs: now };
      // A failed read is not cached: the next invocation asks SSM again.
      entry.value.catch(() => {
        if (this.#controlPlane === entry) this.#controlPlane = undefined;
      });
      this.#controlPlane = entry;
    }
    return this.#controlPlane.value;
  }

  addresses(): Promise<DeployedAddressBook> {
    const now = this.#nowMs();
    if (!this.#addresses || now - this.#addresses.atMs >= this.#ttlMs) {
      const entry: Cached<DeployedAddressBook> = {
        value: this.#readAddresses().then(({ book, partial }) => {
          // A partial book is not kept: the unreadable regions are asked again on the next call.
          if (partial && this.#addresses === entry) this.#addresses = undefined;
          return book;
        }),
        atMs: now,
      };
      entry.value.catch(() => {
        if (this.#addresses === entry) this.#addresses = undefined;
      });
      this.#addresses = entry;
    }
    return this.#addresses.value;
  }

  async #readControlPlane(): Promise<ControlPlane> {
    const { controlRegion, configParameter, deploymentParameter } = this.#props;
    const [configJson, topologyJson] = await Promise.all([
      this.#readJson(controlRegion, configParameter),
      this.#readJson(controlRegion, deploymentParameter),
    ]);
    const config = parseFleetConfig(configJson, `SSM parameter ${configParameter}`);
    const topology = DeploymentTopologySchema.safeParse(topologyJson);
    if (!topology.success) {
      throw new ControlPlaneParameterError(
        deploymentParameter,
        controlRegion,
        describeIssues(topology.error, topologyJson),
      );
    }
    return { config, topology: topology.data as DeploymentTopology };
  }

  async #readAddresses(): Promise<{ book: DeployedAddressBook; partial: boolean }> {
    const { topology } = await this.load();
    const parameters = new Map<string, { region: string; name: string }>();
    for (const node of topology.nodes) {
      parameters.set(`${node.region}|${node.addressesParameter}`, {
        region: node.region,
        name: node.addressesParameter,
      });
    }
    const reads = [...parameters.values()];
    const books = await Promise.allSettled(
      reads.map(async ({ region, name }) => {
        const input = await this.#readJson(region, name);
        const parsed = DeployedAddressBookSchema.safeParse(input);
        if (!parsed.success) {
          throw new ControlPlaneParameterError(name, region, describeIssues(parsed.error, input));
        }
        return parsed.data;
      }),
    );
    const book: DeployedAddressBook = {};
    let unreadable = 0;
    books.forEach((outcome, index) => {
      const { region, name } = reads[index] as { region: string; name: string };
      if (outcome.status === 'fulfilled') {
        // A region's parameter speaks only for that region's nodes.
        for (const node of topology.nodes) {
          const address = outcome.value[node.nodeId];
          if (node.region === region && address) book[node.nodeId] = address;
        }
        return;
      }
      unreadable += 1;
      this.#props.onUnreadableAddresses?.({
        region,
        parameter: name,
        nodeIds: topology.nodes.filter((node) => node.region === region).map((n) => n.nodeId),
        error: outcome.reason instanceof Error ? outcome.reason : new Error(String(outcome.reason)),
      });
    });
    return { book, partial: unreadable > 0 };
  }

  async #readJson(region: string, name: string): Promise<unknown> {
    const output = await callAws(
      { action: 'ssm:GetParameter', resource: `parameter "${name}" in ${region}` },
      () => this.#clientForRegion(region).send(new GetParameterCommand({ Name: name })),
    );
    const value = output.Parameter?.Value;
    if (value === undefined) {
      throw new ControlPlaneParameterError(name, region, ['GetParameter returned no value']);
    }
    try {
      return JSON.parse(value);
    } catch (error) {
      throw new ControlPlaneParameterError(name, region, [
        `not JSON (${(error as Error).message})`,
      ]);
    }
  }
}
