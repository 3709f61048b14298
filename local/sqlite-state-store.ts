// Durable local state on node:sqlite: the fleet state document, probe history, the action ledger, registry sequence and dashboard history.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { CompletenessResult, ProbeRound, StressSummary } from '../fleet/observations.ts';
import { StaleStateError, type StateStore } from '../fleet/ports.ts';
import { asDiskFull } from './disk-full.ts';

/** Retention defaults: enough for a day of 5 s rounds on the dashboard, small enough to stay a few MB. */
export const DEFAULT_PROBE_ROUND_RETENTION = 720;
export const DEFAULT_NODE_HISTORY_RETENTION = 720;
export const DEFAULT_EVENT_RETENTION = 2000;
export const DEFAULT_ACTION_RETENTION_MS = 7 * 24 * 3600 * 1000;
/** Waits this long for another connection's write lock before SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

export interface SqliteStateStoreOptions<S> {
  /** Validates the stored state document on load (the FleetState zod schema's parse). */
  parseState?: (json: unknown) => S;
  /** Probe rounds kept (counted in round numbers). @default 720 */
  probeRoundRetention?: number;
  /** History samples kept per node. @default 720 */
  nodeHistoryRetention?: number;
  /** Action and alarm log entries kept. @default 2000 */
  eventRetention?: number;
}

/** One dashboard sample of a node after a controller round. */
export interface NodeSample {
  nodeId: string;
  atMs: number;
  round: number;
  state: string;
  reputation: number | null;
  rttMs: number | null;
  listed: boolean;
}

export type FleetEventKind = 'action' | 'alarm' | 'info';

/** An entry of the action and alarm log. */
export interface FleetEvent {
  id: number;
  atMs: number;
  kind: FleetEventKind;
  name: string;
  severity: 'critical' | 'warning' | 'info';
  nodeId: string | null;
  message: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS fleet_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL,
  doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS probe_rounds (
  round INTEGER NOT NULL,
  vantage_id TEXT NOT NULL,
  doc TEXT NOT NULL,
  PRIMARY KEY (round, vantage_id)
);
CREATE TABLE IF NOT EXISTS completeness (
  node_id TEXT NOT NULL,
  vantage_id TEXT NOT NULL,
  window_end_ms INTEGER NOT NULL,
  doc TEXT NOT NULL,
  PRIMARY KEY (node_id, vantage_id)
);
CREATE TABLE IF NOT EXISTS stress (
  node_id TEXT PRIMARY KEY,
  finished_at_ms INTEGER NOT NULL,
  doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS actions (
  idempotency_key TEXT PRIMARY KEY,
  claimed_at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS node_history (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  node_id TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  round INTEGER NOT NULL,
  state TEXT NOT NULL,
  reputation REAL,
  rtt_ms REAL,
  listed INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS node_history_by_node ON node_history (node_id, id);
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at_ms INTEGER NOT NULL,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  severity TEXT NOT NULL,
  node_id TEXT,
  message TEXT NOT NULL
);
`;

const REGISTRY_SEQUENCE_KEY = 'registry.sequence';
/** Shown of a bad stored value: enough to recognise it, never the whole of it. */
const SHOWN_VALUE_CHARS = 80;
const REMEDY =
  'restore it from a backup, or start with --reset to begin a new fleet (the registry sequence is kept)';

/** Thrown when the state file exists but cannot be trusted; names the file and what to do. */
export class StateFileError extends Error {
  readonly path: string;
  constructor(path: string, problem: string, cause?: unknown) {
    super(`${path} ${problem}; ${REMEDY}`, cause === undefined ? undefined : { cause });
    this.name = 'StateFileError';
    this.path = path;
  }
}

function shortPrefix(text: string): string {
  return text.length <= SHOWN_VALUE_CHARS
    ? JSON.stringify(text)
    : `${JSON.stringify(text.slice(0, SHOWN_VALUE_CHARS))}... (${text.length} characters)`;
}

/**
 * StateStore over one SQLite file. The state document, the action ledger and the registry
 * sequence are committed with synchronous=FULL so that a kill -9 (or power loss) never loses
 * what was acknowledged; high-volume observations use NORMAL, which WAL keeps safe against a
 * process crash.
 * @example
 * const store = SqliteStateStore.open('.storefleet/state.db', { parseState: FleetStateSchema.parse });
 * const { state, version } = await store.loadFleetState();
 */
export class SqliteStateStore<S> implements StateStore<S> {
  readonly path: string;
  readonly #db: DatabaseSync;
  readonly #parseState: (json: unknown) => S;
  readonly #probeRoundRetention: number;
  readonly #nodeHistoryRetention: number;
  readonly #eventRetention: number;
  #synchronous: 'FULL' | 'NORMAL' | undefined;

  private constructor(path: string, db: DatabaseSync, options: SqliteStateStoreOptions<S>) {
    this.path = path;
    this.#db = db;
    this.#parseState = options.parseState ?? ((json) => json as S);
    this.#probeRoundRetention = options.probeRoundRetention ?? DEFAULT_PROBE_ROUND_RETENTION;
    this.#nodeHistoryRetention = options.nodeHistoryRetention ?? DEFAULT_NODE_HISTORY_RETENTION;
    this.#eventRetention = options.eventRetention ?? DEFAULT_EVENT_RETENTION;
  }

  /**
   * Opens or creates the database. A file that exists but is empty or not a sound SQLite
   * database is refused (StateFileError): starting a new fleet over it would silently lose the
   * round, history, operator drains and node ports.
   */
  static open<S>(path: string, options: SqliteStateStoreOptions<S> = {}): SqliteStateStore<S> {
    if (path !== ':memory:') {
      mkdirSync(dirname(path), { recursive: true });
      if (existsSync(path) && statSync(path).size === 0) {
        throw new StateFileError(path, 'exists but is empty (0 bytes)');
      }
    }
    let db: DatabaseSync | undefined;
    try {
      db = new DatabaseSync(path, { timeout: BUSY_TIMEOUT_MS });
      db.exec('PRAGMA journal_mode = WAL');
      const check = db.prepare('PRAGMA quick_check').get() as Record<string, unknown> | undefined;
      const verdict = check ? String(Object.values(check)[0]) : 'no answer';
      if (verdict !== 'ok') throw new StateFileError(path, `is damaged (${shortPrefix(verdict)})`);
      db.exec('PRAGMA foreign_keys = ON');
      db.exec(SCHEMA);
    } catch (error) {
      if (db?.isOpen) db.close();
      if (error instanceof StateFileError) throw error;
      const disk = asDiskFull(error, path);
      if (disk !== error) throw disk;
      const message = (error as Error).message;
      if (/not a database|malformed|corrupt/i.test(message)) {
        throw new StateFileError(path, `is not a readable SQLite database (${message})`, error);
      }
      throw error;
    }
    return new SqliteStateStore(path, db, options);
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }

  async loadFleetState(): Promise<{ state: S | undefined; version: number }> {
    const row = this.#db.prepare('SELECT version, doc FROM fleet_state WHERE id = 1').get() as
      | { version: number; doc: string }
      | undefined;
    if (!row) return { state: undefined, version: 0 };
    try {
      return { state: this.#parseState(JSON.parse(row.doc)), version: Number(row.version) };
    } catch (error) {
      const first = ((error as Error).message.split('\n')[0] ?? '').slice(0, SHOWN_VALUE_CHARS);
      throw new StateFileError(
        this.path,
        `holds a fleet state document (table fleet_state, version ${row.version}) that is not valid: ${first}`,
        error,
      );
    }
  }

  async saveFleetState(state: S, expectedVersion: number): Promise<number> {
    const doc = JSON.stringify(state);
    const next = expectedVersion + 1;
    return this.#durably(() => {
      const changed =
        expectedVersion === 0
          ? this.#db
              .prepare('INSERT OR IGNORE INTO fleet_state (id, version, doc) VALUES (1, ?, ?)')
              .run(next, doc).changes
          : this.#db
              .prepare('UPDATE fleet_state SET version = ?, doc = ? WHERE id = 1 AND version = ?')
              .run(next, doc, expectedVersion).changes;
      if (Number(changed) !== 1) throw new StaleStateError('the fleet state', expectedVersion);
      return next;
    });
  }

  async recordProbeRound(round: ProbeRound): Promise<void> {
    this.#quickly(() => {
      this.#db
        .prepare('INSERT OR REPLACE INTO probe_rounds (round, vantage_id, doc) VALUES (?, ?, ?)')
        .run(round.round, round.vantageId, JSON.stringify(round));
      this.#db
        .prepare('DELETE FROM probe_rounds WHERE round <= ?')
        .run(round.round - this.#probeRoundRetention);
    });
  }

  async probeRounds(round: number): Promise<ProbeRound[]> {
    const rows = this.#db
      .prepare('SELECT doc FROM probe_rounds WHERE round = ? ORDER BY vantage_id')
      .all(round) as { doc: string }[];
    return rows.map((row) => JSON.parse(row.doc) as ProbeRound);
  }

  /** The newest round number any vantage point reported (0 when none). */
  latestProbeRound(): number {
    const row = this.#db.prepare('SELECT MAX(round) AS round FROM probe_rounds').get() as {
      round: number | null;
    };
    return Number(row.round ?? 0);
  }

  async recordCompleteness(results: readonly CompletenessResult[]): Promise<void> {
    this.#quickly(() => {
      const insert = this.#db.prepare(
        'INSERT OR REPLACE INTO completeness (node_id, vantage_id, window_end_ms, doc) VALUES (?, ?, ?, ?)',
      );
      for (const result of results) {
        insert.run(result.nodeId, result.vantageId, result.windowEndMs, JSON.stringify(result));
      }
    });
  }

  /** The latest completeness result per (node, vantage point). */
  latestCompleteness(): CompletenessResult[] {
    const rows = this.#db
      .prepare('SELECT doc FROM completeness ORDER BY node_id, vantage_id')
      .all() as { doc: string }[];
    return rows.map((row) => JSON.parse(row.doc) as CompletenessResult);
  }

  async recordStress(summary: StressSummary): Promise<void> {
    this.#quickly(() => {
      this.#db
        .prepare('INSERT OR REPLACE INTO stress (node_id, finished_at_ms, doc) VALUES (?, ?, ?)')
        .run(summary.nodeId, summary.finishedAtMs, JSON.stringify(summary));
    });
  }

  /** The latest stress summary per node. */
  latestStress(): StressSummary[] {
    const rows = this.#db.prepare('SELECT doc FROM stress ORDER BY node_id').all() as {
      doc: string;
    }[];
    return rows.map((row) => JSON.parse(row.doc) as StressSummary);
  }

  async claimAction(idempotencyKey: string, nowMs: number): Promise<boolean> {
    return this.#durably(() => {
      const inserted = this.#db
        .prepare('INSERT OR IGNORE INTO actions (idempotency_key, claimed_at_ms) VALUES (?, ?)')
        .run(idempotencyKey, nowMs).changes;
      this.#db
        .prepare('DELETE FROM actions WHERE claimed_at_ms < ?')
        .run(nowMs - DEFAULT_ACTION_RETENTION_MS);
      return Number(inserted) === 1;
    });
  }

  /** The last registry sequence reserved (0 when none); survives restarts and kill -9. */
  lastRegistrySequence(): number {
    const value = this.getSetting<unknown>(REGISTRY_SEQUENCE_KEY);
    if (value === undefined) return 0;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw new StateFileError(
        this.path,
        `holds a registry sequence (settings "${REGISTRY_SEQUENCE_KEY}") that is not a non-negative integer: ${shortPrefix(JSON.stringify(value))}`,
      );
    }
    return value;
  }

  /**
   * Reserves the next registry sequence, above both the stored one and `atLeastAbove` (what a
   * publisher already holds), and commits it before returning so a restart never reuses it.
   */
  reserveRegistrySequence(atLeastAbove = 0): number {
    return this.#durably(() => {
      const next = Math.max(this.lastRegistrySequence(), atLeastAbove) + 1;
      this.#writeSetting(REGISTRY_SEQUENCE_KEY, next);
      return next;
    });
  }

  /** After `--reset`: the next sequence reserved is above `sequence`, as clients expect. */
  keepRegistrySequenceAtLeast(sequence: number): void {
    this.#durably(() => {
      if (this.lastRegistrySequence() < sequence)
        this.#writeSetting(REGISTRY_SEQUENCE_KEY, sequence);
    });
  }

  getSetting<T>(key: string): T | undefined {
    const row = this.#db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as
      | { value: string }
      | undefined;
    if (!row) return undefined;
    try {
      return JSON.parse(row.value) as T;
    } catch (error) {
      throw new StateFileError(
        this.path,
        `holds a setting "${key}" that is not JSON: ${shortPrefix(row.value)}`,
        error,
      );
    }
  }

  /** Small durable values: allocated ports, operator overrides. */
  setSetting(key: string, value: unknown): void {
    this.#durably(() => this.#writeSetting(key, value));
  }

  recordNodeSamples(samples: readonly NodeSample[]): void {
    this.#quickly(() => {
      const insert = this.#db.prepare(
        'INSERT INTO node_history (node_id, at_ms, round, state, reputation, rtt_ms, listed) VALUES (?, ?, ?, ?, ?, ?, ?)',
      );
      const trim = this.#db.prepare(
        'DELETE FROM node_history WHERE node_id = ? AND id <= (SELECT id FROM node_history WHERE node_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)',
      );
      for (const sample of samples) {
        insert.run(
          sample.nodeId,
          sample.atMs,
          sample.round,
          sample.state,
          sample.reputation,
          sample.rttMs,
          sample.listed ? 1 : 0,
        );
        trim.run(sample.nodeId, sample.nodeId, this.#nodeHistoryRetention);
      }
    });
  }

  /** A node's samples, oldest first, at most `limit` of the newest. */
  nodeHistory(nodeId: string, limit = this.#nodeHistoryRetention): NodeSample[] {
    const rows = this.#db
      .prepare(
        'SELECT node_id, at_ms, round, state, reputation, rtt_ms, listed FROM node_history WHERE node_id = ? ORDER BY id DESC LIMIT ?',
      )
      .all(nodeId, limit) as {
      node_id: string;
      at_ms: number;
      round: number;
      state: string;
      reputation: number | null;
      rtt_ms: number | null;
      listed: number;
    }[];
    return rows.reverse().map((row) => ({
      nodeId: row.node_id,
      atMs: Number(row.at_ms),
      round: Number(row.round),
      state: row.state,
      reputation: row.reputation,
      rttMs: row.rtt_ms,
      listed: Number(row.listed) === 1,
    }));
  }

  appendEvent(event: Omit<FleetEvent, 'id'>): FleetEvent {
    return this.#quickly(() => {
      const result = this.#db
        .prepare(
          'INSERT INTO events (at_ms, kind, name, severity, node_id, message) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(event.atMs, event.kind, event.name, event.severity, event.nodeId, event.message);
      const id = Number(result.lastInsertRowid);
      this.#db.prepare('DELETE FROM events WHERE id <= ?').run(id - this.#eventRetention);
      return { ...event, id };
    });
  }

  /** The newest `limit` events, oldest first. */
  recentEvents(limit = 200): FleetEvent[] {
    const rows = this.#db
      .prepare(
        'SELECT id, at_ms, kind, name, severity, node_id, message FROM events ORDER BY id DESC LIMIT ?',
      )
      .all(limit) as {
      id: number;
      at_ms: number;
      kind: FleetEventKind;
      name: string;
      severity: FleetEvent['severity'];
      node_id: string | null;
      message: string;
    }[];
    return rows.reverse().map((row) => ({
      id: Number(row.id),
      atMs: Number(row.at_ms),
      kind: row.kind,
      name: row.name,
      severity: row.severity,
      nodeId: row.node_id,
      message: row.message,
    }));
  }

  #writeSetting(key: string, value: unknown): void {
    this.#db
      .prepare('INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)')
      .run(key, JSON.stringify(value));
  }

  #durably<T>(work: () => T): T {
    return this.#transaction('FULL', work);
  }

  #quickly<T>(work: () => T): T {
    return this.#transaction('NORMAL', work);
  }

  #transaction<T>(synchronous: 'FULL' | 'NORMAL', work: () => T): T {
    // The pragma is per connection and cannot change inside a transaction.
    if (this.#synchronous !== synchronous) {
      this.#db.exec(`PRAGMA synchronous = ${synchronous}`);
      this.#synchronous = synchronous;
    }
    try {
      this.#db.exec('BEGIN IMMEDIATE');
      const result = work();
      this.#db.exec('COMMIT');
      return result;
    } catch (error) {
      // SQLite rolls back by itself on some errors (a full disk among them): a second ROLLBACK would mask the cause.
      if (this.#db.isTransaction) {
        try {
          this.#db.exec('ROLLBACK');
        } catch {
          // The original error says more.
        }
      }
      throw asDiskFull(error, this.path);
    }
  }
}
