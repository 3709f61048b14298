// What a stress test sends: one store query, over REST (keep-alive HTTP) or over libp2p store v3.
import { Agent, request as httpRequest } from 'node:http';
import { restStoreSearchParams } from '../../waku/client/rest.ts';
import type { StoreQuery, StoreQueryPage } from '../../waku/client/store-types.ts';
import {
  BadResponseError,
  ConnectionRefusedError,
  RateLimitedError,
  StoreError,
} from '../../waku/errors.ts';
import { STORE_STATUS } from '../../waku/protocols.ts';
import type { OpenModelOptions, OpenModelOutcome } from './open-model.ts';

/** Only the start of a REST store answer is kept: enough for its status code, never the whole page. */
const REST_STATUS_SCAN_BYTES = 512;

export interface StressTarget {
  transport: 'libp2p' | 'rest';
  /** Where requests go, for reports. */
  address: string;
  send(signal: AbortSignal): Promise<void>;
  /** Closes pooled connections. */
  close(): Promise<void>;
  /** Runs a whole load itself (e.g. across worker threads) instead of calling send() per request. */
  runLoad?(load: Omit<OpenModelOptions, 'send'>): Promise<OpenModelOutcome>;
}

/** The libp2p call stress makes; waku/client's ProbeDialer satisfies it. */
export interface StressDialer {
  storeQuery(
    address: string,
    query: StoreQuery,
    options: { signal: AbortSignal; maxResponseBytes?: number },
  ): Promise<StoreQueryPage>;
}

function throwUnlessOk(address: string, statusCode: number, statusDesc: string): void {
  if (statusCode === STORE_STATUS.ok) return;
  if (statusCode === STORE_STATUS.tooManyRequests) throw new RateLimitedError(address, statusCode);
  throw new StoreError(address, statusCode, statusDesc);
}

/**
 * Store queries over libp2p, multiplexed as streams on the dialer's connection to the node.
 * @example
 * const target = libp2pStressTarget(dialer, multiaddr, query, { maxResponseBytes: 1 << 20 });
 */
export function libp2pStressTarget(
  dialer: StressDialer,
  address: string,
  query: StoreQuery,
  options: { maxResponseBytes?: number; close?: () => Promise<void> } = {},
): StressTarget {
  return {
    transport: 'libp2p',
    address,
    async send(signal) {
      const page = await dialer.storeQuery(address, query, {
        signal,
        ...(options.maxResponseBytes === undefined
          ? {}
          : { maxResponseBytes: options.maxResponseBytes }),
      });
      throwUnlessOk(address, page.statusCode, page.statusDesc);
    },
    close: options.close ?? (async () => {}),
  };
}

/** `/store/v3/messages?...` for a store query, as the REST client spells it. */
export function restStorePath(query: StoreQuery): string {
  return `/store/v3/messages?${restStoreSearchParams(query).toString()}`;
}

/**
 * Store queries over REST on up to `connections` keep-alive sockets. node:http with a pooled Agent
 * costs far less per request than fetch, so the generator is not what limits the rate.
 * @example
 * const target = restStressTarget('http://127.0.0.1:8645', query, { connections: 100 });
 */
export function restStressTarget(
  restUrl: string,
  query: StoreQuery,
  options: { connections: number },
): StressTarget {
  const base = new URL(restUrl);
  const agent = new Agent({
    keepAlive: true,
    maxSockets: options.connections,
    maxFreeSockets: options.connections,
  });
  const path = `${base.pathname.replace(/\/$/, '')}${restStorePath(query)}`;
  const requestOptions = {
    host: base.hostname,
    port: base.port || 80,
    path,
    method: 'GET',
    agent,
    headers: { accept: 'application/json' },
  };
  return {
    transport: 'rest',
    address: restUrl,
    send(signal) {
      return new Promise<void>((resolve, reject) => {
        const req = httpRequest({ ...requestOptions, signal }, (res) => {
          let head = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            if (head.length < REST_STATUS_SCAN_BYTES)
              head += chunk.slice(0, REST_STATUS_SCAN_BYTES);
          });
          res.on('error', reject);
          res.on('end', () => {
            const httpStatus = res.statusCode ?? 0;
            try {
              if (httpStatus === 429) throw new RateLimitedError(restUrl, httpStatus);
              if (httpStatus !== 200) throw new StoreError(restUrl, httpStatus, head.slice(0, 120));
              // nwaku answers HTTP 200 with the store status inside the body.
              const match = /"statusCode"\s*:\s*(\d+)/.exec(head);
              if (!match) throw new BadResponseError(restUrl, 'no statusCode in the answer');
              throwUnlessOk(restUrl, Number(match[1]), '');
              resolve();
            } catch (error) {
              reject(error);
            }
          });
        });
        req.on('error', (error: NodeJS.ErrnoException) => {
          reject(
            error.code === 'ECONNREFUSED' ? new ConnectionRefusedError(restUrl, error) : error,
          );
        });
        req.end();
      });
    },
    async close() {
      agent.destroy();
    },
  };
}
