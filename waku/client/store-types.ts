// Store v3 queries and pages as the clients expose them: hashes and cursors are 0x-hex, times are bigint nanoseconds.

export interface StoreQuery {
  includeData: boolean;
  pubsubTopic?: string;
  contentTopics?: string[];
  /** Inclusive, nanoseconds since the epoch. */
  timeStartNs?: bigint;
  /** Nanoseconds since the epoch; nwaku includes it (`<=`), the RFC says exclusive. */
  timeEndNs?: bigint;
  /** 0x-hex message hashes (RFC 14); nwaku ANDs them with topic filters, go-waku refuses the mix. */
  messageHashes?: string[];
  /** 0x-hex hash of the last message of the previous page (exclusive). */
  cursor?: string;
  /** @default true (oldest first), as nwaku's REST `ascending` default */
  forward?: boolean;
  /** @default 20 on the node; at most 100 */
  pageSize?: number;
  /** @default a random UUID */
  requestId?: string;
}

export interface StoredMessage {
  /** 0x-hex RFC 14 message hash. */
  hash: string;
  pubsubTopic?: string;
  message?: {
    payload: Uint8Array;
    contentTopic: string;
    version?: number;
    timestampNs?: bigint;
    meta?: Uint8Array;
    /** Present only when true (archives hold no ephemeral messages, and nwaku writes false explicitly). */
    ephemeral?: boolean;
  };
}

export interface StoreQueryPage {
  requestId: string;
  statusCode: number;
  statusDesc: string;
  messages: StoredMessage[];
  /** 0x-hex cursor for the next page; absent on the last page. */
  cursor?: string;
}
