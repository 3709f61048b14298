// Typed failures of the registry: what is wrong with a fleets.json, its signature or a publish attempt.
//
// Every class name ends in `RegistryError` (or `ConfigError`) so that the command line maps them to
// exit code 2: they are caused by the input, not by a bug.
import { UserError } from '../user-error.ts';

/** A fleets.json or registry.json (or the input to build one) that does not validate; each issue names a JSON path. */
export class InvalidRegistryError extends UserError {
  readonly issues: readonly string[];
  constructor(issues: readonly string[], source = 'registry') {
    super(`${source} is invalid:\n${issues.map((issue) => `  - ${issue}`).join('\n')}`);
    this.name = 'InvalidRegistryError';
    this.issues = issues;
  }
}

/** Building a registry that lists no node at all: clients would be left without a store node. */
export class EmptyRegistryError extends UserError {
  constructor(fleet: string) {
    super(
      `refusing to build a fleets.json for ${fleet} that lists no node; keep the previous version published and find out why no node is listable`,
    );
    this.name = 'EmptyRegistryError';
  }
}

/** A detached signature that does not verify against the given public key. */
export class UnverifiedRegistryError extends UserError {
  constructor(detail: string) {
    super(
      `${detail}; the file was altered, or the signature or public key belongs to another version or key: do not use this registry`,
    );
    this.name = 'UnverifiedRegistryError';
  }
}

/** A registry whose `meta.expires` has passed: clients must stop trusting it. */
export class ExpiredRegistryError extends UserError {
  readonly expiresAtMs: number;
  constructor(expires: string, nowMs: number) {
    super(
      `meta.expires ${expires} is not after ${new Date(nowMs).toISOString()}: the registry expired; fetch a fresh copy (publishers: republish)`,
    );
    this.name = 'ExpiredRegistryError';
    this.expiresAtMs = Date.parse(expires);
  }
}

/** A registry whose `meta.sequence` is below one already seen: a rollback or a replayed old copy. */
export class RolledBackRegistryError extends UserError {
  constructor(sequence: number | undefined, minSequence: number) {
    super(
      `meta.sequence ${sequence ?? '(missing)'} is lower than ${minSequence}, already seen: an older copy is being served; keep the newer one`,
    );
    this.name = 'RolledBackRegistryError';
  }
}

/** Why a publish guard refused: stable strings, usable as a metric dimension. */
export const UNPUBLISHABLE_REASONS = [
  'empty',
  'invalid',
  'mismatch',
  'unsigned',
  'bad_signature',
  'expired',
  'stale_sequence',
] as const;
export type UnpublishableReason = (typeof UNPUBLISHABLE_REASONS)[number];

/** Thrown by assertPublishable: the version must not be published; `reason` says which check failed. */
export class UnpublishableRegistryError extends UserError {
  readonly reason: UnpublishableReason;
  constructor(reason: UnpublishableReason, detail: string) {
    super(`refusing to publish fleets.json (${reason}): ${detail}`);
    this.name = 'UnpublishableRegistryError';
    this.reason = reason;
  }
}

/** A signing or verifying key that cannot be used: wrong type, wrong curve, not a PEM. */
export class SigningKeyConfigError extends UserError {
  constructor(source: string, detail: string) {
    super(`${source}: ${detail}`);
    this.name = 'SigningKeyConfigError';
  }
}
