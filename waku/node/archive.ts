// The store node's message archive in SQLite: ordered by (timestamp, hash) so cursors stay stable, with count or age retention.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';

export interface ArchivedMessage {
  hash: Uint8Array;
  pubsubTopic: string;
  contentTopic: string;
  /** Sender timestamp in ns (0 when the sender left it out). */
  timestampNs: bigint;
  payload: Uint8Array;
  version: number;
  meta: Uint8Array | undefined;
}

export interface ArchiveQuery {
  pubsubTopic?: string | undefined;
  contentTopics?: readonly string[];
  /** Inclusive. */
  timeStartNs?: bigint | undefined;
  /** Inclusive, as nwaku's archive (`<=`); the RFC says exclusive. */
  timeEndNs?: bigint | undefined;
  messageHashes?: readonly Uint8Array[];
  /** Position to continue after (exclusive), in the query's direction. */
  after?: { timestampNs: bigint; hash: Uint8Array } | undefined;
  forward: boolean;
  /** Rows to return, in the query's direction. */
  limit: number;
}

export interface RetentionPolicy {
  /** Keep at most this many messages, dropping the oldest first. */
  maxMessages?: number | undefined;
  /** Drop messages whose sender timestamp is older than this. */
  maxAgeMs?: number | undefined;
}

const NS_PER_MS = 1_000_000n;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS messages (
  hash BLOB PRIMARY KEY NOT NULL,
  pubsub_topic TEXT NOT NULL,
  content_topic TEXT NOT NULL,
  timestamp INTEGER NOT NULL,
  payload BLOB NOT NULL,
  version INTEGER NOT NULL,
  meta BLOB,
  stored_at_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS messages_by_time ON messages (timestamp, hash);
CREATE INDEX IF NOT EXISTS messages_by_content_topic ON messages (content_topic, timestamp, hash);
CREATE INDEX IF NOT EXISTS messages_by_pubsub_topic ON messages (pubsub_topic, timestamp, hash);
`;

interface MessageRow {
  hash: Uint8Array;
  pubsub_topic: string;
  content_topic: string;
  timestamp: bigint;
  payload: Uint8Array;
  version: bigint;
  meta: Uint8Array | null;
}

function rowToMessage(row: MessageRow): ArchivedMessage {
  return {
    hash: row.hash,
    pubsubTopic: row.pubsub_topic,
    contentTopic: row.content_topic,
    timestampNs: row.timestamp,
    payload: row.payload,
    version: Number(row.version),
    meta: row.meta ?? undefined,
  };
}

/**
 * SQLite archive in WAL mode with `synchronous=NORMAL`: a commit is in the WAL before `insert`
 * returns, so a killed process (even SIGKILL) loses nothing it acknowledged; only an OS crash or
 * power cut can drop the last commits, which peers still hold (a store node is one replica of many),
 * and that trade avoids an fsync per relayed message.
 *
 * @example
 * const archive = MessageArchive.open('/var/lib/node/archive.sqlite', { maxMessages: 1_000_000 }, Date.now);
 */
export class MessageArchive {
  readonly #db: DatabaseSync;
  readonly #retention: RetentionPolicy;
  readonly #clock: () => number;
  readonly #statements = new Map<string, StatementSync>();
  #count: number;

  private constructor(db: DatabaseSync, retention: RetentionPolicy, clock: () => number) {
    this.#db = db;
    this.#retention = retention;
    this.#clock = clock;
    this.#count = Number(
      (this.#prepare('SELECT COUNT(*) AS n FROM messages').get() as { n: bigint }).n,
    );
  }

  static open(path: string, retention: RetentionPolicy, clock: () => number): MessageArchive {
    mkdirSync(dirname(path), { recursive: true });
    const db = new DatabaseSync(path);
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = NORMAL');
    db.exec('PRAGMA busy_timeout = 5000');
    db.exec(SCHEMA);
    const archive = new MessageArchive(db, retention, clock);
    archive.applyRetention();
    return archive;
  }

  get count(): number {
    return this.#count;
  }

  /** Stores a message; false when its hash is already archived. */
  insert(message: ArchivedMessage): boolean {
    const result = this.#prepare(
      `INSERT OR IGNORE INTO messages (hash, pubsub_topic, content_topic, timestamp, payload, version, meta, stored_at_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      message.hash,
      message.pubsubTopic,
      message.contentTopic,
      message.timestampNs,
      message.payload,
      message.version,
      message.meta ?? null,
      Math.trunc(this.#clock()),
    );
    const inserted = Number(result.changes) > 0;
    if (inserted) {
      this.#count += 1;
      this.applyRetention();
    }
    return inserted;
  }

  /** Position of a message for cursor pagination; undefined when it is not (or no longer) archived. */
  positionOf(hash: Uint8Array): { timestampNs: bigint; hash: Uint8Array } | undefined {
    const row = this.#prepare('SELECT timestamp FROM messages WHERE hash = ?').get(hash) as
      | { timestamp: bigint }
      | undefined;
    return row === undefined ? undefined : { timestampNs: row.timestamp, hash };
  }

  query(query: ArchiveQuery): ArchivedMessage[] {
    const where: string[] = [];
    const params: SQLInputValue[] = [];
    if (query.pubsubTopic !== undefined) {
      where.push('pubsub_topic = ?');
      params.push(query.pubsubTopic);
    }
    if (query.contentTopics !== undefined && query.contentTopics.length > 0) {
      where.push(`content_topic IN (${query.contentTopics.map(() => '?').join(', ')})`);
      params.push(...query.contentTopics);
    }
    if (query.messageHashes !== undefined && query.messageHashes.length > 0) {
      where.push(`hash IN (${query.messageHashes.map(() => '?').join(', ')})`);
      params.push(...query.messageHashes);
    }
    if (query.timeStartNs !== undefined) {
      where.push('timestamp >= ?');
      params.push(query.timeStartNs);
    }
    if (query.timeEndNs !== undefined) {
      where.push('timestamp <= ?');
      params.push(query.timeEndNs);
    }
    if (query.after !== undefined) {
      where.push(query.forward ? '(timestamp, hash) > (?, ?)' : '(timestamp, hash) < (?, ?)');
      params.push(query.after.timestampNs, query.after.hash);
    }
    const direction = query.forward ? 'ASC' : 'DESC';
    const sql = `SELECT hash, pubsub_topic, content_topic, timestamp, payload, version, meta FROM messages
      ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY timestamp ${direction}, hash ${direction} LIMIT ?`;
    params.push(query.limit);
    return (this.#prepare(sql).all(...params) as unknown as MessageRow[]).map(rowToMessage);
  }

  /** Deletes what the retention policy no longer keeps; returns how many messages went. */
  applyRetention(): number {
    let deleted = 0;
    const { maxAgeMs, maxMessages } = this.#retention;
    if (maxAgeMs !== undefined) {
      const cutoffNs = BigInt(Math.trunc(this.#clock() - maxAgeMs)) * NS_PER_MS;
      deleted += Number(
        this.#prepare('DELETE FROM messages WHERE timestamp < ?').run(cutoffNs).changes,
      );
    }
    if (maxMessages !== undefined && this.#count - deleted > maxMessages) {
      const excess = this.#count - deleted - maxMessages;
      deleted += Number(
        this.#prepare(
          `DELETE FROM messages WHERE hash IN
             (SELECT hash FROM messages ORDER BY timestamp ASC, hash ASC LIMIT ?)`,
        ).run(excess).changes,
      );
    }
    this.#count -= deleted;
    return deleted;
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }

  #prepare(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      statement.setReadBigInts(true);
      this.#statements.set(sql, statement);
    }
    return statement;
  }
}
