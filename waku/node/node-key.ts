// The node's secp256k1 identity, kept in the data dir as nwaku keeps its nodekey: 64 hex chars of raw private key.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { privateKeyFromRaw } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';

export const NODE_KEY_FILE = 'nodekey';
const SECP256K1_KEY_BYTES = 32;

export class NodeKeyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NodeKeyError';
  }
}

/** Reads the node key from `dataDir`, creating it on first use so the peer id survives restarts. */
export function loadOrCreateNodeKey(dataDir: string): PrivateKey {
  const path = join(dataDir, NODE_KEY_FILE);
  let hex: string | undefined;
  try {
    hex = readFileSync(path, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (hex === undefined) {
    mkdirSync(dataDir, { recursive: true });
    let raw: Uint8Array;
    do {
      raw = randomBytes(SECP256K1_KEY_BYTES);
      // A zero or over-order scalar is invalid; libp2p rejects it, so draw again.
    } while (!isValidSecp256k1(raw));
    hex = Buffer.from(raw).toString('hex');
    // Written then renamed so a crash mid-write never leaves a truncated key behind.
    const temporary = `${path}.${process.pid}.tmp`;
    writeFileSync(temporary, `${hex}\n`, { mode: 0o600 });
    renameSync(temporary, path);
  }
  if (!/^(0x)?[0-9a-fA-F]{64}$/.test(hex)) {
    throw new NodeKeyError(
      `${path} is not a node key (expected 64 hex characters of a secp256k1 private key)`,
    );
  }
  try {
    return privateKeyFromRaw(Buffer.from(hex.replace(/^0x/, ''), 'hex'));
  } catch (cause) {
    throw new NodeKeyError(`${path} holds an invalid secp256k1 private key`, { cause });
  }
}

const SECP256K1_ORDER = BigInt(
  '0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141',
);

function isValidSecp256k1(raw: Uint8Array): boolean {
  const scalar = BigInt(`0x${Buffer.from(raw).toString('hex')}`);
  return scalar > 0n && scalar < SECP256K1_ORDER;
}

export function peerIdOfDataDir(dataDir: string): string {
  return peerIdFromPrivateKey(loadOrCreateNodeKey(dataDir)).toString();
}
