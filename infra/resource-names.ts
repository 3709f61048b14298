// Physical names that must be known before deployment: other regions and the Lambdas address these resources by name.
import type { ResolvedNode } from '../fleet/config.ts';

/** `status.prod` -> `status-prod`: safe in ECS, DynamoDB, SSM and CloudWatch names. */
export function fleetSlug(fleet: string): string {
  return fleet.replaceAll('.', '-');
}

/** `store-01.do-ams3.status.prod` -> `store-01.do-ams3`: the node's name inside the fleet's DNS namespace. */
export function nodeHostLabel(node: Pick<ResolvedNode, 'id'>, fleet: string): string {
  const suffix = `.${fleet}`;
  return node.id.endsWith(suffix) ? node.id.slice(0, -suffix.length) : node.id;
}

/** `store-01.do-ams3.status.prod` -> `store-01-do-ams3`: ECS service names allow no dots. */
export function nodeSlug(node: Pick<ResolvedNode, 'id'>, fleet: string): string {
  return nodeHostLabel(node, fleet).replaceAll('.', '-');
}

/** PostgreSQL database of one node's archive: `store_01_do_ams3`. */
export function nodeDatabaseName(node: Pick<ResolvedNode, 'id'>, fleet: string): string {
  return nodeSlug(node, fleet).replaceAll('-', '_');
}

export function clusterName(fleet: string): string {
  return `storefleet-${fleetSlug(fleet)}`;
}

export function probeResultsTableName(fleet: string): string {
  return `storefleet-${fleetSlug(fleet)}-probe-results`;
}

export function nodeStateTableName(fleet: string): string {
  return `storefleet-${fleetSlug(fleet)}-node-state`;
}

export function configParameterName(fleet: string): string {
  return `/storefleet/${fleetSlug(fleet)}/config`;
}

export function deploymentParameterName(fleet: string): string {
  return `/storefleet/${fleetSlug(fleet)}/deployment`;
}

export function nodeAddressesParameterName(fleet: string, region: string): string {
  return `/storefleet/${fleetSlug(fleet)}/nodes/${region}`;
}

/** CloudWatch alarm names are `${fleet}-${name}` so that one account can hold several fleets. */
export function alarmName(fleet: string, name: string, qualifier?: string): string {
  return qualifier ? `${fleet}-${name}-${qualifier}` : `${fleet}-${name}`;
}
