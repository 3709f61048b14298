// Builds fleets-config.json: the fleets file status-go reads when `wakuFleetsConfigFilePath` is set (params.FleetsMap).
//
// status-go does not read fleets.json at run time. Given a fleets config file (status-desktop passes
// WAKU_FLEETS_CONFIG), it replaces every compiled-in fleet with the file's: a map of fleet name to
// FleetInfo {clusterID uint16, wakuNodes []string, discV5BootstrapNodes []string, storeNodes
// []Mailserver{id, name, custom, enr, addr, fleet}}. Nothing else may sit at the top level: every
// key there is read as a fleet, so sequence and expiry live in registry.json and the HTTP headers.
import * as z from 'zod';
import { describeDialableMultiaddr, isEnrRecord } from './addresses.ts';
import { byCodeUnits, encodeRegistryDocument } from './encoding.ts';
import { InvalidRegistryError } from './errors.ts';
import type { BootNode, BuiltRegistryDocument, ListedNode } from './fleets-json.ts';
import { describeRegistryIssues } from './issues.ts';

/** The file name clients point `wakuFleetsConfigFilePath` (or WAKU_FLEETS_CONFIG) at, beside fleets.json. */
export const FLEETS_CONFIG_FILE = 'fleets-config.json';
export const FLEETS_CONFIG_SIGNATURE_FILE = 'fleets-config.json.sig';

/** status-go's wakutypes.Mailserver as JSON: ENR and address are text, `custom` false for fleet nodes. */
export const FleetsConfigStoreNodeSchema = z.strictObject({
  id: z.string().min(1),
  name: z.string().min(1),
  custom: z.boolean(),
  enr: z.string().refine(isEnrRecord, 'expected an enr: record'),
  addr: z.string().refine((text) => describeDialableMultiaddr(text, 'tcp') === undefined, {
    message: 'expected a dialable TCP multiaddr ending in /p2p/PEER_ID',
  }),
  fleet: z.string().min(1),
});

/** status-go's params.FleetInfo. */
export const FleetInfoSchema = z.strictObject({
  clusterID: z.number().int().min(0).max(65535),
  wakuNodes: z.array(z.string().min(1)),
  discV5BootstrapNodes: z.array(z.string().refine(isEnrRecord, 'expected an enr: record')),
  storeNodes: z.array(FleetsConfigStoreNodeSchema),
});

export const FleetsConfigSchema = z.record(z.string().min(1), FleetInfoSchema);
export type FleetsConfig = z.output<typeof FleetsConfigSchema>;
export type FleetInfo = z.output<typeof FleetInfoSchema>;

export interface BuildFleetsConfigInput {
  fleet: string;
  clusterId: number;
  /** The nodes fleets.json lists; only those with an ENR (learnt from the node) become storeNodes. */
  nodes: readonly ListedNode[];
  /** Boot nodes from config: wakuNodes (TCP) and discV5BootstrapNodes (ENR) when given. */
  bootNodes?: Readonly<Record<string, BootNode>> | undefined;
}

export function parseFleetsConfig(input: unknown, source = FLEETS_CONFIG_FILE): FleetsConfig {
  const result = FleetsConfigSchema.safeParse(input);
  if (!result.success)
    throw new InvalidRegistryError(describeRegistryIssues(result.error, input), source);
  return result.data;
}

/**
 * The fleets config for one fleet, from the same listed set as fleets.json. A listed node whose ENR is
 * not known yet is left out of storeNodes (status-go needs the ENR) and still listed in fleets.json.
 * Without boot nodes, wakuNodes are the store nodes' TCP addresses: they relay too.
 *
 * @example
 * const { bytes } = buildFleetsConfig({ fleet: 'status.prod', clusterId: 16, nodes: listedNodes });
 */
export function buildFleetsConfig(
  input: BuildFleetsConfigInput,
): BuiltRegistryDocument<FleetsConfig> {
  const nodes = [...input.nodes].sort((a, b) => byCodeUnits(a.id, b.id));
  const boot = Object.keys(input.bootNodes ?? {})
    .sort(byCodeUnits)
    .map((name) => input.bootNodes?.[name] as BootNode);
  const info: FleetInfo = {
    clusterID: input.clusterId,
    wakuNodes: boot.length > 0 ? boot.map((node) => node.tcp) : nodes.map((node) => node.tcp),
    discV5BootstrapNodes: boot.flatMap((node) => (node.enr === undefined ? [] : [node.enr])),
    storeNodes: nodes.flatMap((node) =>
      node.enr === undefined
        ? []
        : [
            {
              id: node.id,
              name: node.id,
              custom: false,
              enr: node.enr,
              addr: node.tcp,
              fleet: input.fleet,
            },
          ],
    ),
  };
  const candidate = { [input.fleet]: info };
  const document = parseFleetsConfig(candidate, `${FLEETS_CONFIG_FILE} for ${input.fleet}`);
  return { document, bytes: encodeRegistryDocument(candidate) };
}
