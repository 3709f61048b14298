// `storefleet registry verify FILE`: checks a fleets.json the way a client should before trusting it.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { InvalidRegistryError, SigningKeyConfigError } from '../../fleet/registry/errors.ts';
import { decodeSignatureFile } from '../../fleet/registry/signer.ts';
import { type FleetsJsonSummary, verifyFleetsJson } from '../../fleet/registry/verify.ts';

interface VerifyOptions {
  sig?: string;
  pubkey?: string;
  now?: string;
  minSequence?: string;
}

const USAGE_EXIT_CODE = 2;

async function readOrFail(path: string, fail: (detail: string) => Error): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw fail(`cannot read the file: ${(error as Error).message}`);
  }
}

export function formatSummary(file: string, summary: FleetsJsonSummary): string[] {
  const facts = [
    'Status fleets.json format',
    summary.sequence === undefined ? 'no sequence' : `sequence ${summary.sequence}`,
    `published ${summary.timestamp} by ${summary.hostname}`,
    summary.expires === undefined ? 'no expiry' : `expires ${summary.expires}`,
  ];
  const lines = [`${file}: ok (${facts.join('; ')})`];
  lines.push(
    `  ${summary.fleets.length} fleet${summary.fleets.length === 1 ? '' : 's'}, ${summary.addresses} addresses`,
  );
  for (const { fleet, kinds } of summary.fleets) {
    const counts = kinds.map(({ kind, nodes }) => `${kind} ${nodes}`).join(', ');
    lines.push(`  ${fleet}: ${counts || '(no kinds)'}`);
  }
  return lines;
}

export function registerRegistryCommands(program: Command): void {
  const registry = program
    .command('registry')
    .description('Work with published registries (fleets.json)');
  registry
    .command('verify')
    .description(
      'Check a fleets.json as a client should: Status format, signature (with --sig and --pubkey), expiry, sequence; exits 2 naming what is wrong',
    )
    .argument('<file>', 'fleets.json to check')
    .option('--sig <file>', 'detached signature (base64 of the DER ECDSA P-256 signature)')
    .option('--pubkey <file>', 'public key PEM the signature must verify against')
    .option('--now <iso>', 'check expiry against this time instead of the clock')
    .option('--min-sequence <n>', 'refuse a meta.sequence lower than this (the highest seen)')
    .action(async function (this: Command, file: string, options: VerifyOptions) {
      if ((options.sig === undefined) !== (options.pubkey === undefined)) {
        this.error('error: --sig and --pubkey go together: a signature is checked against a key', {
          exitCode: USAGE_EXIT_CODE,
        });
      }
      const nowMs = options.now === undefined ? Date.now() : Date.parse(options.now);
      if (Number.isNaN(nowMs)) {
        this.error(
          `error: --now "${options.now}" is not an ISO time such as 2026-01-01T00:00:00Z`,
          {
            exitCode: USAGE_EXIT_CODE,
          },
        );
      }
      const minSequence =
        options.minSequence === undefined ? undefined : Number(options.minSequence);
      if (minSequence !== undefined && !Number.isSafeInteger(minSequence)) {
        this.error(`error: --min-sequence "${options.minSequence}" is not an integer`, {
          exitCode: USAGE_EXIT_CODE,
        });
      }

      const bytes = await readOrFail(file, (detail) => new InvalidRegistryError([detail], file));
      let signature:
        | { der: Uint8Array | undefined; publicKeyPem: string; source: string }
        | undefined;
      if (options.sig !== undefined && options.pubkey !== undefined) {
        const sigPath = options.sig;
        const pubkeyPath = options.pubkey;
        const sigFile = await readOrFail(
          sigPath,
          (detail) => new InvalidRegistryError([detail], sigPath),
        );
        const pem = await readOrFail(
          pubkeyPath,
          (detail) => new SigningKeyConfigError(pubkeyPath, detail),
        );
        signature = {
          der: decodeSignatureFile(sigFile),
          publicKeyPem: pem.toString('utf8'),
          source: sigPath,
        };
      }

      const verified = verifyFleetsJson({ bytes, source: file, signature, nowMs, minSequence });
      for (const line of formatSummary(file, verified.summary)) console.log(line);
      console.log(
        verified.signedBy === undefined
          ? 'signature: not checked (pass --sig and --pubkey to check one)'
          : `signature: ok (ECDSA P-256 over SHA-256, key ${verified.signedBy})`,
      );
    });
}
