// Signed registry artifacts for publisher tests: real P-256 signatures over small fleets.json documents.
import { generateKeyPairSync, sign } from 'node:crypto';
import type { RegistryArtifacts } from '../../../fleet/ports.ts';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
export const TEST_PUBLIC_KEY_PEM = publicKey.export({ type: 'spki', format: 'pem' }).toString();

export function signedArtifacts(sequence: number, cacheMaxAgeSeconds = 30): RegistryArtifacts {
  const fleetsJson = new TextEncoder().encode(
    `${JSON.stringify({
      meta: { hostname: 'storefleet', timestamp: '2026-11-21T05:00:00.000Z', sequence },
      fleets: {
        'test.fleet': {
          'tcp/p2p/waku/store': {
            'store-01.do-ams3.test.fleet': `/dns4/store-01.do-ams3.test.fleet/tcp/30303/p2p/16Uiu2HAm${sequence}`,
          },
        },
      },
    })}\n`,
  );
  return {
    sequence,
    fleetsJson,
    fleetsJsonSignature: new Uint8Array(sign('sha256', fleetsJson, privateKey)),
    registryJson: new TextEncoder().encode(
      `${JSON.stringify({ meta: { sequence }, nodes: {} })}\n`,
    ),
    publicKeyPem: TEST_PUBLIC_KEY_PEM,
    cacheMaxAgeSeconds,
  };
}
