// The Waku clients probes, completeness checks and stress tests use: libp2p dialer and nwaku REST.
export {
  createProbeDialer,
  DEFAULT_MAX_PAGES,
  DEFAULT_MAX_STORE_RESPONSE_BYTES,
  DEFAULT_MAX_STREAMS_PER_CONNECTION,
  type LearnedPeer,
  type PingResult,
  type ProbeDialer,
  type ProbeDialerOptions,
} from './dialer.ts';
export {
  DEFAULT_MAX_REST_RESPONSE_BYTES,
  DEFAULT_MAX_REST_STORE_RESPONSE_BYTES,
  type HealthReport,
  health,
  info,
  type NodeHealth,
  type PublishedMessage,
  type RestOptions,
  restPublish,
  restStoreQuery,
} from './rest.ts';
export type { StoredMessage, StoreQuery, StoreQueryPage } from './store-types.ts';
