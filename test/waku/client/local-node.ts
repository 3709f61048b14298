// Kept for tests that import it here; local nodes live in the shared test kit.
export {
  CLUSTER_ID,
  type LocalNode,
  PUBSUB_TOPIC,
  SHARD,
  startLocalNode,
} from '../../kit/local-nodes.ts';
