// The benchmark's own arithmetic: percentiles and spreads, wrk's summary, the results table and the cost model's sums.
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { costLines, PRICES } from '../../bench/figures/cost-model.ts';
import { formatRatio, formatSpread, percentile, spreadOf } from '../../bench/stats.ts';
import { renderTable } from '../../bench/table.ts';
import { parseWrkOutput } from '../../bench/wrk.ts';
import { makeConfig } from '../fleet/failover/fleet-fixture.ts';

const WRK_OUTPUT = `Running 4s test @ http://127.0.0.1:40493/store/v3/messages?includeData=true
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    12.41ms    3.02ms  48.10ms   80.11%
    Req/Sec     4.07k   250.12     4.50k    70.00%
  16270 requests in 4.00s, 52.31MB read
  Non-2xx or 3xx responses: 3
  Socket errors: connect 0, read 1, write 0, timeout 2
Requests/sec:   4067.21
Transfer/sec:     13.07MB

STAT 4242 (sh) S 4241 4242 4241 0 -1 4194304 100 200 0 0 1 2 30 12 20 0 1 0 123 4567 89 18446744073709551615
`;

describe('benchmark summaries', () => {
  it('interpolates percentiles and reports the median with its spread, ignoring non-finite samples', () => {
    assert.equal(percentile([1, 2, 3, 4], 0.5), 2.5);
    const spread = spreadOf([5, 1, Number.NaN, 3, 2, 4]);
    assert.deepEqual(
      [spread.n, spread.p50, spread.min, spread.max, spread.p25, spread.p75],
      [5, 3, 1, 5, 2, 4],
    );
    assert.equal(formatSpread(spread, 'ms'), '3 ms (min-max 1-5, n=5)');
    assert.equal(formatRatio(spreadOf([0.9, 1.1, 1])), '1.00x (0.90-1.10)');
    assert.equal(spreadOf([]).n, 0);
  });

  it("reads wrk's totals, errors and its own CPU from the shell's child accounting", () => {
    const result = parseWrkOutput(WRK_OUTPUT);
    assert.equal(result.requests, 16270);
    assert.equal(result.durationSeconds, 4);
    assert.equal(result.requestsPerSecond, 4067.21);
    assert.equal(result.non2xx, 3);
    assert.equal(result.socketErrors, 3);
    // cutime 30 + cstime 12 ticks at 100 Hz (USER_HZ on Linux).
    assert.equal(Math.round(result.cpuMs), 420);
    assert.throws(
      () => parseWrkOutput('unable to connect to 127.0.0.1:1'),
      /unexpected wrk output/,
    );
  });

  it('renders one markdown row per figure row, escaping pipes', () => {
    const table = renderTable([
      {
        figure: 'a | b',
        storefleet: '1 ms',
        peer: '-',
        ratio: '-',
        target: '<= 2 ms',
        met: 'yes',
      },
    ]);
    const lines = table.split('\n');
    assert.equal(lines.length, 3);
    assert.equal(lines[0], '| figure | storefleet | peer | ratio | target | met? |');
    assert.equal(lines[2], '| a \\| b | 1 ms | - | - | <= 2 ms | yes |');
  });

  it('prices Route 53 per node and bills a looping probe function for the whole minute', () => {
    const config = makeConfig({ nodes: 20, vantagePoints: 3 });
    const template = {
      Resources: {
        ProbevpaFunction1: { Type: 'AWS::Lambda::Function', Properties: { MemorySize: 1024 } },
        WatchControllerABC: {
          Type: 'AWS::Lambda::Function',
          Properties: { MemorySize: 512, Timeout: 50 },
        },
        Alarm1: { Type: 'AWS::CloudWatch::Alarm', Properties: { Period: 60 } },
        Key1: { Type: 'AWS::KMS::Key', Properties: {} },
      },
    };
    const { storefleet, route53, facts } = costLines(config, [template]);
    const route53Usd = route53.reduce((sum, line) => sum + line.monthlyUsd, 0);
    assert.equal(
      route53Usd,
      20 * (PRICES.route53HealthCheckAwsEndpoint + 3 * PRICES.route53OptionalFeatureAwsEndpoint),
    );
    const probeSeconds = 60 + config.probe.roundDeadlineMs / 2000;
    assert.equal(facts.probeGbSeconds, probeSeconds * 30 * 24 * 60);
    assert.equal(facts.alarms, 1);
    assert.equal(facts.keys, 1);
    assert.ok(storefleet.every((line) => Number.isFinite(line.monthlyUsd) && line.monthlyUsd >= 0));
  });
});
