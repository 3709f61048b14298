// EmfMetricsSink: the EMF lines Powertools prints carry our names, units, namespace and dimension sets.
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { METRIC_DIMENSIONS, METRIC_NAMESPACE, METRICS } from '../../../fleet/metrics.ts';
import { EmfMetricsSink } from '../../../lambdas/adapters/EmfMetricsSink.ts';
import { captureStdout } from './capture-stdout.ts';

interface EmfRecord {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  [key: string]: unknown;
}

async function flushed(sink: EmfMetricsSink): Promise<EmfRecord[]> {
  const lines = await captureStdout(() => sink.flush());
  return lines.map((line) => JSON.parse(line) as EmfRecord);
}

describe('emitting metrics as EMF', () => {
  it('prints a fleet-wide metric under [Fleet] only, in the Storefleet namespace', async () => {
    // Prepare
    const sink = new EmfMetricsSink({ fleet: 'status.prod' });
    sink.record(METRICS.registryHealthyNodes, 5, 'Count');
    sink.record(METRICS.registryPublications, 1, 'Count');

    // Act
    const records = await flushed(sink);

    // Assess
    assert.equal(records.length, 1);
    const record = records[0] as EmfRecord;
    const directive = record._aws.CloudWatchMetrics[0];
    assert.equal(directive?.Namespace, METRIC_NAMESPACE);
    assert.equal(METRIC_NAMESPACE, 'Storefleet');
    assert.deepEqual(directive?.Dimensions, [[METRIC_DIMENSIONS.fleet]]);
    assert.deepEqual(directive?.Metrics, [
      { Name: 'RegistryHealthyNodes', Unit: 'Count' },
      { Name: 'RegistryPublications', Unit: 'Count' },
    ]);
    assert.equal(record['Fleet'], 'status.prod');
    assert.equal(record['RegistryHealthyNodes'], 5);
    assert.equal(record['RegistryPublications'], 1);
    assert.equal(record['service'], undefined, 'no Powertools service dimension');
  });

  it('adds one [Fleet, X] set per node and vantage dimension, never their cross product', async () => {
    // Prepare
    const sink = new EmfMetricsSink({ fleet: 'status.prod' });
    const nodeId = 'store-01.do-ams3.status.prod';
    sink.record(METRICS.probeSuccess, 1, 'None', {
      [METRIC_DIMENSIONS.node]: nodeId,
      [METRIC_DIMENSIONS.vantage]: 'vp-eu',
    });
    sink.record(METRICS.probeLatencyMs, 12.5, 'Milliseconds', {
      [METRIC_DIMENSIONS.vantage]: 'vp-eu',
      [METRIC_DIMENSIONS.node]: nodeId,
    });

    // Act
    const records = await flushed(sink);

    // Assess
    assert.equal(records.length, 1, 'same dimensions in any order form one record');
    const record = records[0] as EmfRecord;
    assert.deepEqual(record._aws.CloudWatchMetrics[0]?.Dimensions, [
      ['Fleet'],
      ['Fleet', 'NodeId'],
      ['Fleet', 'VantageId'],
    ]);
    assert.deepEqual(record._aws.CloudWatchMetrics[0]?.Metrics, [
      { Name: 'ProbeSuccess', Unit: 'None' },
      { Name: 'ProbeLatencyMs', Unit: 'Milliseconds' },
    ]);
    assert.equal(record['NodeId'], nodeId);
    assert.equal(record['VantageId'], 'vp-eu');
    assert.equal(record['ProbeLatencyMs'], 12.5);
  });

  it('prints one record per node, each with its own values', async () => {
    // Prepare
    const sink = new EmfMetricsSink({ fleet: 'status.prod' });
    for (const [nodeId, score] of [
      ['store-01.do-ams3.status.prod', 0.9],
      ['store-02.do-ams3.status.prod', 0.4],
    ] as const) {
      sink.record(METRICS.reputationScore, score, 'None', { [METRIC_DIMENSIONS.node]: nodeId });
    }

    // Act
    const records = await flushed(sink);

    // Assess
    assert.deepEqual(
      records.map((record) => [record['NodeId'], record['ReputationScore']]),
      [
        ['store-01.do-ams3.status.prod', 0.9],
        ['store-02.do-ams3.status.prod', 0.4],
      ],
    );
  });

  it('splits more than 99 values into several records, keeping the dimensions on each', async () => {
    // Prepare
    const sink = new EmfMetricsSink({ fleet: 'status.prod' });
    for (let i = 0; i < 250; i++) {
      sink.record(METRICS.probeLatencyMs, i, 'Milliseconds', {
        [METRIC_DIMENSIONS.vantage]: 'vp-eu',
      });
    }

    // Act
    const records = await flushed(sink);

    // Assess
    const values = records.flatMap((record) => {
      const value = record['ProbeLatencyMs'];
      return Array.isArray(value) ? value : [value];
    });
    assert.equal(values.length, 250);
    assert.deepEqual(
      values,
      Array.from({ length: 250 }, (_, i) => i),
    );
    for (const record of records) {
      assert.deepEqual(record._aws.CloudWatchMetrics[0]?.Dimensions, [
        ['Fleet'],
        ['Fleet', 'VantageId'],
      ]);
    }
  });

  it("keeps Fleet as the sink's fleet, drops values EMF cannot carry, and prints nothing when empty", async () => {
    // Prepare
    const sink = new EmfMetricsSink({ fleet: 'status.prod' });
    sink.record(METRICS.completeness, Number.NaN, 'None', { [METRIC_DIMENSIONS.node]: 'n' });
    sink.record(METRICS.escalatedNodes, 1, 'Count', { [METRIC_DIMENSIONS.fleet]: 'other.fleet' });

    // Act
    const records = await flushed(sink);
    const afterwards = await flushed(sink);

    // Assess
    assert.equal(records.length, 1);
    assert.equal(records[0]?.['Fleet'], 'status.prod');
    assert.equal(records[0]?.['Completeness'], undefined);
    assert.equal(sink.droppedCount, 1);
    assert.deepEqual(afterwards, []);
  });
});
