// MetricsSink over Powertools Metrics: CloudWatch Embedded Metric Format lines on stdout, no PutMetricData calls.
//
// Dimension sets: every value is emitted under `[Fleet]` (what the alarms read) and, for each further
// dimension the caller gives, under `[Fleet, <that dimension>]` (what the dashboard's SEARCH graphs
// read). A probe result recorded with NodeId and VantageId therefore lands in `[Fleet]`,
// `[Fleet, NodeId]` and `[Fleet, VantageId]`: one custom metric per node and per vantage point, never
// one per (node, vantage) pair.
import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRIC_DIMENSIONS, METRIC_NAMESPACE } from '../../fleet/metrics.ts';
import type { MetricsSink, MetricUnit } from '../../fleet/ports.ts';
import { SERVICE_NAME } from './logger.ts';

/**
 * EMF allows 100 metric names per record and Powertools 100 values per name; Powertools publishes
 * on its own when either is reached (dropping the dimension sets of the next points), so stay below.
 */
const MAX_POINTS_PER_RECORD = 99;

interface Point {
  name: string;
  value: number;
  unit: MetricUnit;
}

export interface EmfMetricsSinkProps {
  /** Value of the `Fleet` dimension on every metric. */
  fleet: string;
  /**
   * CloudWatch namespace.
   * @default METRIC_NAMESPACE ('Storefleet')
   */
  namespace?: string;
  /**
   * The Powertools Metrics instance to print through (its default dimensions are replaced).
   * @default a new instance for this sink
   */
  metrics?: Metrics;
}

/**
 * Buffers metrics and prints them as EMF on flush(); the Lambda's log group turns them into metrics.
 * Dimension names are CloudWatch's, as in METRIC_DIMENSIONS; `Fleet` is always this sink's fleet.
 * @example
 * const sink = new EmfMetricsSink({ fleet: config.fleet });
 * sink.record(METRICS.probeLatencyMs, 12, 'Milliseconds', { [METRIC_DIMENSIONS.node]: nodeId });
 * await sink.flush(); // before the handler returns
 */
export class EmfMetricsSink implements MetricsSink {
  readonly #metrics: Metrics;
  readonly #fleet: string;
  /** Points grouped by their extra dimensions, so each group is one EMF record. */
  #pending = new Map<string, { dimensions: [string, string][]; points: Point[] }>();
  #dropped = 0;

  constructor(props: EmfMetricsSinkProps) {
    this.#fleet = props.fleet;
    this.#metrics =
      props.metrics ??
      new Metrics({ namespace: props.namespace ?? METRIC_NAMESPACE, serviceName: SERVICE_NAME });
    // Powertools adds a `service` dimension by default; alarms and graphs expect exactly the sets above.
    this.#metrics.clearDefaultDimensions();
    this.#metrics.setDefaultDimensions({ [METRIC_DIMENSIONS.fleet]: this.#fleet });
  }

  /** The Powertools Metrics instance underneath, for its logMetrics middleware. */
  get powertools(): Metrics {
    return this.#metrics;
  }

  /** Values that were not finite numbers and were therefore not recorded (EMF cannot carry them). */
  get droppedCount(): number {
    return this.#dropped;
  }

  record(
    name: string,
    value: number,
    unit: MetricUnit,
    dimensions: Readonly<Record<string, string>> = {},
  ): void {
    if (!Number.isFinite(value)) {
      this.#dropped += 1;
      return;
    }
    const extra = Object.entries(dimensions)
      .filter(([key, dimensionValue]) => key !== METRIC_DIMENSIONS.fleet && dimensionValue !== '')
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const groupKey = JSON.stringify(extra);
    let group = this.#pending.get(groupKey);
    if (!group) {
      group = { dimensions: extra, points: [] };
      this.#pending.set(groupKey, group);
    }
    group.points.push({ name, value, unit });
  }

  async flush(): Promise<void> {
    const groups = [...this.#pending.values()];
    this.#pending = new Map();
    for (const { dimensions, points } of groups) {
      for (let start = 0; start < points.length; start += MAX_POINTS_PER_RECORD) {
        if (dimensions.length > 0) {
          this.#metrics.addDimensions({});
          for (const [key, dimensionValue] of dimensions) {
            this.#metrics.addDimensions({ [key]: dimensionValue });
          }
        }
        for (const point of points.slice(start, start + MAX_POINTS_PER_RECORD)) {
          this.#metrics.addMetric(point.name, point.unit, point.value);
        }
        this.#metrics.publishStoredMetrics();
      }
    }
  }
}
