// HDR latency recording in microseconds: constant memory whatever the request count, mergeable across workers.
import * as hdr from 'hdr-histogram-js';

/** Latencies above this (one hour) are clamped; no stress run lasts that long. */
const HIGHEST_TRACKABLE_MICROS = 3_600_000_000;
/** Three significant digits: 0.1 % value resolution, as wrk2 and HdrHistogram's defaults. */
const SIGNIFICANT_DIGITS = 3;

export interface LatencyPercentiles {
  count: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

/** One point of the percentile distribution, as plotted in the HTML report. */
export interface PercentilePoint {
  percentile: number;
  latencyMs: number;
}

/** Percentiles plotted in reports: dense towards the tail, where stores misbehave. */
export const PLOTTED_PERCENTILES = [
  0, 10, 25, 50, 75, 90, 95, 97.5, 99, 99.5, 99.75, 99.9, 99.95, 99.99, 100,
] as const;

export class LatencyRecorder {
  readonly #histogram: hdr.Histogram;

  constructor() {
    this.#histogram = hdr.build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: HIGHEST_TRACKABLE_MICROS,
      numberOfSignificantValueDigits: SIGNIFICANT_DIGITS,
      autoResize: false,
    });
  }

  /** Records one latency in milliseconds (fractions kept to the microsecond). */
  record(latencyMs: number): void {
    const micros = Math.round(Math.max(0, latencyMs) * 1000);
    this.#histogram.recordValue(Math.min(HIGHEST_TRACKABLE_MICROS, Math.max(1, micros)));
  }

  get count(): number {
    return this.#histogram.totalCount;
  }

  /** Adds the latencies another recorder (possibly in another worker) encoded. */
  addEncoded(encoded: string): void {
    const other = hdr.decodeFromCompressedBase64(encoded);
    this.#histogram.add(other);
    other.destroy();
  }

  /** HdrHistogram's compressed base64 form: readable by HdrHistogram tools in other languages. */
  encode(): string {
    return hdr.encodeIntoCompressedBase64(this.#histogram);
  }

  percentileMs(percentile: number): number {
    return this.count === 0 ? 0 : this.#histogram.getValueAtPercentile(percentile) / 1000;
  }

  percentiles(): LatencyPercentiles {
    return {
      count: this.count,
      p50Ms: this.percentileMs(50),
      p90Ms: this.percentileMs(90),
      p99Ms: this.percentileMs(99),
      p999Ms: this.percentileMs(99.9),
      maxMs: this.percentileMs(100),
    };
  }

  distribution(): PercentilePoint[] {
    if (this.count === 0) return [];
    return PLOTTED_PERCENTILES.map((percentile) => ({
      percentile,
      latencyMs:
        percentile === 100 ? this.#histogram.maxValue / 1000 : this.percentileMs(percentile),
    }));
  }
}
