// Picks the shard for a content topic (RFC 51 autosharding): sha256(application || version), last 8 bytes, modulo the shard count.
import { createHash } from 'node:crypto';

export class ContentTopicError extends Error {
  constructor(contentTopic: string) {
    super(
      `contentTopic: "${contentTopic}" is not /{application}/{version}/{topic-name}/{encoding} (optionally prefixed by /{generation})`,
    );
    this.name = 'ContentTopicError';
  }
}

export interface ParsedContentTopic {
  generation: number;
  application: string;
  version: string;
  topicName: string;
  encoding: string;
}

export function parseContentTopic(contentTopic: string): ParsedContentTopic {
  const parts = contentTopic.split('/');
  if (parts[0] !== '' || parts.slice(1).some((part) => part.length === 0)) {
    throw new ContentTopicError(contentTopic);
  }
  if (parts.length === 5) {
    const [, application, version, topicName, encoding] = parts as [
      string,
      string,
      string,
      string,
      string,
    ];
    return { generation: 0, application, version, topicName, encoding };
  }
  if (parts.length === 6) {
    const [, generationText, application, version, topicName, encoding] = parts as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const generation = Number(generationText);
    // Only generation 0 is defined; nwaku refuses anything else.
    if (generation !== 0) throw new ContentTopicError(contentTopic);
    return { generation, application, version, topicName, encoding };
  }
  throw new ContentTopicError(contentTopic);
}

/** RFC 51 generation-0 shard index: the big-endian uint64 of the hash's last 8 bytes, modulo `shardCount`. */
export function autoshardIndex(contentTopic: string, shardCount: number): number {
  const { application, version } = parseContentTopic(contentTopic);
  const digest = createHash('sha256').update(application, 'utf8').update(version, 'utf8').digest();
  return Number(digest.readBigUInt64BE(digest.byteLength - 8) % BigInt(shardCount));
}

/**
 * The shard this node publishes an auto-sharded message on. nwaku maps the index straight to a
 * shard id because its autosharded networks use shards 0..n-1; a node configured with an arbitrary
 * list (Status uses 1, 32, 64, ...) maps the index to the list sorted ascending, so the choice is
 * still deterministic and always one of the node's own shards.
 */
export function autoshard(contentTopic: string, shards: readonly number[]): number {
  if (shards.length === 0) throw new RangeError('autosharding needs at least one shard');
  const sorted = [...shards].sort((a, b) => a - b);
  const isContiguousFromZero = sorted.every((shard, index) => shard === index);
  const index = autoshardIndex(contentTopic, sorted.length);
  return isContiguousFromZero ? index : (sorted[index] as number);
}
