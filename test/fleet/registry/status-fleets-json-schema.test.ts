// The Status fleets.json schema accepts what Status publishes and names the path of what is malformed.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { InvalidRegistryError } from '../../../fleet/registry/errors.ts';
import {
  parseFleetsJson,
  parseFleetsJsonBytes,
} from '../../../fleet/registry/fleets-json-schema.ts';
import { statusShapedFleetsJson } from './fixtures.ts';

const REFERENCE_DIR = join(import.meta.dirname, '..', '..', '..', '..', 'shared', 'reference');
const REFERENCE_FILES = ['fleets-2024-07-24.json', 'fleets-2024-05-14.json'];
const referenceSkip = existsSync(REFERENCE_DIR)
  ? false
  : `the public copies of Status's fleets.json are not at ${REFERENCE_DIR} on this machine`;

function issuesOf(input: unknown): readonly string[] {
  try {
    parseFleetsJson(input);
  } catch (error) {
    assert.ok(error instanceof InvalidRegistryError, `expected InvalidRegistryError, got ${error}`);
    return error.issues;
  }
  assert.fail('expected the document to be rejected');
}

function withAddress(fleet: string, kind: string, node: string, address: unknown) {
  const document = statusShapedFleetsJson();
  const kinds = document.fleets[fleet] ?? {};
  document.fleets[fleet] = kinds;
  kinds[kind] = { ...kinds[kind], [node]: address };
  return document;
}

describe('accepts the fleets.json files Status published', () => {
  for (const name of REFERENCE_FILES) {
    it.skipIf(referenceSkip !== false)(
      `accepts ${name} and keeps every fleet, kind and address`,
      () => {
        // Prepare
        const bytes = readFileSync(join(REFERENCE_DIR, name));
        const raw = JSON.parse(bytes.toString('utf8'));

        // Act
        const parsed = parseFleetsJsonBytes(bytes, name);

        // Assess
        assert.deepEqual(parsed, raw);
        assert.ok(parsed.fleets['eth.prod']?.['whisper'], 'legacy Whisper kinds are kept');
        assert.equal(parsed.meta.warning, raw.meta.warning);
      },
    );
  }
});

describe('accepts files of the same shape', () => {
  it('accepts legacy enode:// kinds, split and unsplit Waku kinds and rendezvous multiaddrs', () => {
    // Prepare
    const document = statusShapedFleetsJson();

    // Act
    const parsed = parseFleetsJson(document);

    // Assess
    assert.deepEqual(parsed, document);
    assert.equal(Object.keys(parsed.fleets['shards.test']?.['tcp/p2p/waku/store'] ?? {}).length, 6);
  });

  it('keeps unknown top-level and meta fields, which clients ignore', () => {
    // Prepare
    const document = { ...statusShapedFleetsJson(), signatures: { note: 'beside fleets' } };
    document.meta['generator'] = 'consul-template';

    // Act
    const parsed = parseFleetsJson(document);

    // Assess
    assert.deepEqual(parsed, document);
  });

  it('accepts IPv4, IPv6 and /tls/ws multiaddrs and an empty fleet table', () => {
    // Prepare
    const peer = '16Uiu2HAmAR24Mbb6VuzoyUiGx42UenDkshENVDj4qnmmbabLvo31';
    const document = {
      meta: {
        hostname: 'h',
        timestamp: '2026-01-01T00:00:00Z',
        sequence: 3,
        expires: '2026-01-01T00:15:00Z',
      },
      fleets: {
        'a.test': {
          'tcp/p2p/waku/store': {
            v4: `/ip4/10.0.0.1/tcp/60000/p2p/${peer}`,
            v6: `/ip6/::1/tcp/60000/p2p/${peer}`,
            tls: `/dns/a.example.org/tcp/443/tls/ws/p2p/${peer}`,
          },
        },
        'b.test': {},
      },
    };

    // Act
    const parsed = parseFleetsJson(document);

    // Assess
    assert.equal(parsed.meta.sequence, 3);
  });
});

describe('names the JSON path of what is malformed', () => {
  it('rejects an address that is neither a multiaddr, an enode:// URL nor an enr: record', () => {
    const issues = issuesOf(
      withAddress('status.prod', 'tcp/p2p/waku', 'node-01', 'https://node-01.example.org'),
    );
    assert.deepEqual(issues, [
      'fleets["status.prod"]["tcp/p2p/waku"]["node-01"]: got "https://node-01.example.org"; expected a multiaddr, enode:// URL or enr: record',
    ]);
  });

  const malformed: Array<[string, unknown]> = [
    [
      'a port that is not a number',
      '/dns4/n.example.org/tcp/http/p2p/16Uiu2HAmAR24Mbb6VuzoyUiGx42UenDkshENVDj4qnmmbabLvo31',
    ],
    ['an IPv4 address out of range', '/ip4/300.1.1.1/tcp/30303'],
    [
      'a multiaddr without a host part',
      '/tcp/30303/p2p/16Uiu2HAmAR24Mbb6VuzoyUiGx42UenDkshENVDj4qnmmbabLvo31',
    ],
    ['an empty multiaddr segment', '/dns4//tcp/30303'],
    ['a bad peer id', '/dns4/n.example.org/tcp/30303/p2p/not-a-peer-id!'],
    ['an enode with a short key', 'enode://abcdef@1.2.3.4:30303'],
    ['an enode without a port', `enode://${'a'.repeat(128)}@1.2.3.4`],
    ['an enr with characters outside base64url', 'enr:-QE+abc/def=='],
    ['a number', 30303],
    ['an empty string', ''],
  ];
  for (const [what, address] of malformed) {
    it(`rejects ${what}`, () => {
      const issues = issuesOf(withAddress('waku.sandbox', 'wss/p2p/waku', 'node-09', address));
      assert.equal(issues.length, 1);
      assert.match(
        issues[0] ?? '',
        /^fleets\["waku\.sandbox"\]\["wss\/p2p\/waku"\]\["node-09"\]: got .*; expected a multiaddr, enode:\/\/ URL or enr: record$/,
      );
    });
  }

  it('rejects a missing meta.timestamp and a timestamp that is not ISO 8601', () => {
    const document = statusShapedFleetsJson();
    const missing = issuesOf({ ...document, meta: { hostname: 'h' } });
    const wrong = issuesOf({ ...document, meta: { hostname: 'h', timestamp: '24/07/2024' } });
    assert.deepEqual(missing, ['meta.timestamp: got nothing; expected an ISO 8601 time string']);
    assert.match(wrong[0] ?? '', /^meta\.timestamp: got "24\/07\/2024"; expected an ISO 8601 time/);
  });

  it('rejects a fractional sequence and an expiry without a zone or before the timestamp', () => {
    const meta = { hostname: 'h', timestamp: '2026-01-01T00:00:00Z' };
    const fleets = { 'a.test': {} };
    assert.match(
      issuesOf({ meta: { ...meta, sequence: 1.5 }, fleets })[0] ?? '',
      /^meta\.sequence: got 1\.5; expected an integer/,
    );
    assert.match(
      issuesOf({ meta: { ...meta, expires: '2026-01-01T00:15:00' }, fleets })[0] ?? '',
      /^meta\.expires: got "2026-01-01T00:15:00"; expected an ISO 8601 time with a zone/,
    );
    assert.match(
      issuesOf({ meta: { ...meta, expires: '2025-12-31T23:00:00Z' }, fleets })[0] ?? '',
      /^meta\.expires: .*expected a time after meta\.timestamp/,
    );
  });

  it('rejects a kind that holds a list instead of a name -> address table', () => {
    const issues = issuesOf({
      meta: { hostname: 'h', timestamp: '2026-01-01T00:00:00Z' },
      fleets: { 'status.prod': { 'tcp/p2p/waku/store': ['/dns4/a.example.org/tcp/1'] } },
    });
    assert.deepEqual(issues, [
      'fleets["status.prod"]["tcp/p2p/waku/store"]: got ["/dns4/a.example.org/tcp/1"]; expected an object of node name -> address',
    ]);
  });

  it('rejects a kind name with blanks, naming the key', () => {
    const issues = issuesOf({
      meta: { hostname: 'h', timestamp: '2026-01-01T00:00:00Z' },
      fleets: { 'status.prod': { 'tcp p2p': {} } },
    });
    assert.deepEqual(issues, [
      'fleets["status.prod"]["tcp p2p"]: the name "tcp p2p" is not allowed; expected a kind without blanks, such as tcp/p2p/waku/store',
    ]);
  });

  it('rejects bytes that are not JSON, and a document without fleets', () => {
    assert.throws(
      () => parseFleetsJsonBytes(new TextEncoder().encode('{"meta":')),
      (error: unknown) => {
        assert.ok(error instanceof InvalidRegistryError);
        assert.match(error.issues[0] ?? '', /^not UTF-8 JSON: /);
        return true;
      },
    );
    assert.deepEqual(issuesOf({ meta: { hostname: 'h', timestamp: '2026-01-01T00:00:00Z' } }), [
      'fleets: got nothing; expected an object of fleet name -> kinds',
    ]);
    assert.deepEqual(issuesOf([]), ['(root): got []; expected an object with meta and fleets']);
  });
});
