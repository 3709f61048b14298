// What `cdk synth`/`cdk deploy` are told on the command line (-c key=value) or in cdk.json, validated at the edge.
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { Node } from 'constructs';
import {
  AWS_REGIONS,
  type FleetConfig,
  FleetConfigError,
  parseFleetConfigText,
} from '../fleet/config.ts';
import { PROJECT_ROOT } from './StorefleetFunction.ts';

export const DEFAULT_CONFIG_PATH = 'config/fleet.example.json';

/** Context keys the app reads. */
export const CONTEXT_KEYS = {
  config: 'config',
  account: 'account',
  controlRegion: 'controlRegion',
  domain: 'domain',
  certificateArns: 'certificateArns',
  alarmEmail: 'alarmEmail',
  notifyEmail: 'notifyEmail',
  runbookBaseUrl: 'runbookBaseUrl',
  lambdaEntryOverride: 'lambdaEntryOverride',
  nwakuEnvironment: 'nwakuEnvironment',
  hostedZoneId: 'hostedZoneId',
  registryDomain: 'registryDomain',
  registryCertificateArn: 'registryCertificateArn',
  registryReplicaRegion: 'registryReplicaRegion',
} as const;

/** Thrown for a context value that cannot be used; names the key, the value and what was expected. */
export class DeployContextError extends Error {
  constructor(key: string, value: unknown, expected: string) {
    super(`context "${key}": got ${JSON.stringify(value)}; ${expected}`);
    this.name = 'DeployContextError';
  }
}

export interface DeployContext {
  configPath: string;
  /** 12-digit AWS account; without it the stacks are account-agnostic. */
  account: string | undefined;
  /** Region of the control plane (tables, registry, controller). */
  controlRegion: string | undefined;
  /** DNS suffix of the nodes' public names; overrides config.registry.domain. */
  domain: string | undefined;
  /** ACM certificate ARN per node region, for TLS websockets on 443. */
  certificateArns: Record<string, string>;
  /** Paged by the composite alarm (critical alarms). */
  alarmEmail: string | undefined;
  /** Notified of warnings. */
  notifyEmail: string | undefined;
  runbookBaseUrl: string | undefined;
  /** Further WAKUNODE2_* flags for every node, e.g. WAKUNODE2_DNS_DISCOVERY_URL. */
  nwakuEnvironment: Record<string, string>;
  /** One handler file for every function: lets the infrastructure synthesise before the handlers exist. */
  lambdaEntryOverride: string | undefined;
  /** Route 53 hosted zone of `domain`: one A record per node name (and the registry's name). */
  hostedZoneId: string | undefined;
  /** The registry's own name, e.g. fleets.example.org; needs registryCertificateArn. */
  registryDomain: string | undefined;
  /** ACM certificate for registryDomain, in us-east-1 (CloudFront's certificates live there). */
  registryCertificateArn: string | undefined;
  /** Second region the registry bucket is replicated to; CloudFront falls back to it. */
  registryReplicaRegion: string | undefined;
}

function optionalString(
  node: Node,
  key: string,
  pattern?: RegExp,
  expected?: string,
): string | undefined {
  const value: unknown = node.tryGetContext(key);
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || (pattern && !pattern.test(value))) {
    throw new DeployContextError(key, value, expected ?? 'expected a string');
  }
  return value;
}

/** Reads a context value that is an object of strings, given as an object (cdk.json) or JSON text (-c). */
function stringRecord(node: Node, key: string, example: string): Record<string, string> {
  const raw: unknown = node.tryGetContext(key);
  if (raw === undefined || raw === '') return {};
  let parsed: unknown = raw;
  if (typeof raw === 'string') {
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new DeployContextError(key, raw, `expected JSON such as ${example}`);
    }
  }
  if (
    parsed === null ||
    typeof parsed !== 'object' ||
    Array.isArray(parsed) ||
    Object.values(parsed).some((value) => typeof value !== 'string')
  ) {
    throw new DeployContextError(key, raw, `expected an object of strings such as ${example}`);
  }
  return parsed as Record<string, string>;
}

export function readDeployContext(node: Node): DeployContext {
  const rawArns: unknown = node.tryGetContext(CONTEXT_KEYS.certificateArns);
  let certificateArns: Record<string, string> = {};
  if (rawArns !== undefined && rawArns !== '') {
    let parsed: unknown = rawArns;
    if (typeof rawArns === 'string') {
      try {
        parsed = JSON.parse(rawArns);
      } catch {
        throw new DeployContextError(
          CONTEXT_KEYS.certificateArns,
          rawArns,
          'expected JSON such as {"eu-central-1":"arn:aws:acm:eu-central-1:123456789012:certificate/..."}',
        );
      }
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new DeployContextError(
        CONTEXT_KEYS.certificateArns,
        rawArns,
        'expected an object of region to ARN',
      );
    }
    for (const [region, arn] of Object.entries(parsed)) {
      if (typeof arn !== 'string' || !arn.startsWith(`arn:aws:acm:${region}:`)) {
        throw new DeployContextError(
          `${CONTEXT_KEYS.certificateArns}.${region}`,
          arn,
          `expected an ACM certificate ARN in ${region} (arn:aws:acm:${region}:...)`,
        );
      }
    }
    certificateArns = parsed as Record<string, string>;
  }
  const registryDomainGiven = node.tryGetContext(CONTEXT_KEYS.registryDomain);
  const registryCertificateGiven = node.tryGetContext(CONTEXT_KEYS.registryCertificateArn);
  if (Boolean(registryDomainGiven) !== Boolean(registryCertificateGiven)) {
    throw new DeployContextError(
      registryDomainGiven ? CONTEXT_KEYS.registryCertificateArn : CONTEXT_KEYS.registryDomain,
      registryDomainGiven ? registryCertificateGiven : registryDomainGiven,
      'registryDomain and registryCertificateArn go together; expected both or neither',
    );
  }
  return {
    configPath: optionalString(node, CONTEXT_KEYS.config) ?? DEFAULT_CONFIG_PATH,
    account: optionalString(
      node,
      CONTEXT_KEYS.account,
      /^\d{12}$/,
      'expected a 12-digit AWS account id',
    ),
    controlRegion: optionalString(
      node,
      CONTEXT_KEYS.controlRegion,
      new RegExp(`^(${AWS_REGIONS.join('|')})$`),
      'expected an AWS region such as eu-central-1',
    ),
    domain: optionalString(
      node,
      CONTEXT_KEYS.domain,
      /^[a-z0-9.-]+$/,
      'expected a DNS name such as status.im',
    ),
    certificateArns,
    alarmEmail: optionalString(
      node,
      CONTEXT_KEYS.alarmEmail,
      /^[^@\s]+@[^@\s]+$/,
      'expected an email address',
    ),
    notifyEmail: optionalString(
      node,
      CONTEXT_KEYS.notifyEmail,
      /^[^@\s]+@[^@\s]+$/,
      'expected an email address',
    ),
    runbookBaseUrl: optionalString(node, CONTEXT_KEYS.runbookBaseUrl),
    lambdaEntryOverride: optionalString(node, CONTEXT_KEYS.lambdaEntryOverride),
    hostedZoneId: optionalString(
      node,
      CONTEXT_KEYS.hostedZoneId,
      /^Z[A-Z0-9]{1,32}$/,
      'expected a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ',
    ),
    registryDomain: optionalString(
      node,
      CONTEXT_KEYS.registryDomain,
      /^[a-z0-9.-]+$/,
      'expected a DNS name such as fleets.example.org',
    ),
    registryCertificateArn: optionalString(
      node,
      CONTEXT_KEYS.registryCertificateArn,
      /^arn:aws:acm:us-east-1:\d{12}:certificate\/.+$/,
      'expected an ACM certificate ARN in us-east-1 (CloudFront reads certificates only there)',
    ),
    registryReplicaRegion: optionalString(
      node,
      CONTEXT_KEYS.registryReplicaRegion,
      new RegExp(`^(${AWS_REGIONS.join('|')})$`),
      'expected an AWS region such as eu-west-1',
    ),
    nwakuEnvironment: stringRecord(
      node,
      CONTEXT_KEYS.nwakuEnvironment,
      '{"WAKUNODE2_DNS_DISCOVERY_URL":"enrtree://...@boot.example.org"}',
    ),
  };
}

/** Reads and validates the fleet config file named by the context (relative paths from the repository root). */
export function loadFleetConfigFile(path: string): FleetConfig {
  const absolute = isAbsolute(path) ? path : join(PROJECT_ROOT, path);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (error) {
    throw new FleetConfigError([`cannot read the file: ${(error as Error).message}`], path);
  }
  return parseFleetConfigText(text, path);
}
