// On-call: a controller heartbeat, reporting vantage points against the quorum, function and task health, a healthy-listed gauge; one page per region; no page while a region first starts; one dashboard for every region.
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { ALARMS } from '../../fleet/alarms.ts';
import { METRICS } from '../../fleet/metrics.ts';
import { type CfnJson, mentions, resourcesOf, synthesizeFleet } from './synthesize-fleet.ts';

const fleet = synthesizeFleet({ alarmEmail: 'oncall@example.org' });
const control = fleet.template(fleet.stacks.control);
const alarms = (template = control) =>
  new Map(
    resourcesOf(template, 'AWS::CloudWatch::Alarm').map(({ Properties }) => [
      Properties.AlarmName as string,
      Properties,
    ]),
  );
const page = (template = control) => {
  const found = resourcesOf(template, 'AWS::CloudWatch::CompositeAlarm').find(
    ({ Properties }) => Properties.AlarmName === 'storefleet.test-Page',
  );
  assert.ok(found);
  return ruleText(found.Properties.AlarmRule);
};
/** A composite rule with each alarm reference replaced by its logical id: `ALARM("AlarmsRegistryStale...")`. */
function ruleText(rule: CfnJson): string {
  if (typeof rule === 'string') return rule;
  const [, parts] = rule['Fn::Join'] as [string, CfnJson[]];
  return parts.map((part) => (typeof part === 'string' ? part : part['Fn::GetAtt'][0])).join('');
}
const text = (value: CfnJson): string =>
  typeof value === 'string' ? value : JSON.stringify(value);

describe('the control region', () => {
  it('has a heartbeat on decided rounds where missing data is breaching', () => {
    const heartbeat = alarms().get('storefleet.test-ControllerHeartbeat');
    assert.equal(heartbeat?.MetricName, METRICS.controllerRounds);
    assert.equal(heartbeat?.TreatMissingData, 'breaching');
    assert.equal(heartbeat?.ComparisonOperator, 'LessThanThreshold');
  });

  it('compares reporting vantage points with failover.quorum', () => {
    const reporting = alarms().get('storefleet.test-ReportingBelowQuorum');
    assert.equal(reporting?.MetricName, METRICS.reportingVantagePoints);
    assert.equal(reporting?.Threshold, fleet.config.failover.quorum);
  });

  it('reads the healthy-listed gauge for RegistryBelowMinHealthy, not the listed count', () => {
    const minHealthy = alarms().get('storefleet.test-RegistryBelowMinHealthy');
    assert.equal(minHealthy?.MetricName, METRICS.healthyListedNodes);
    assert.equal(minHealthy?.Threshold, fleet.config.failover.minHealthy);
  });

  it('watches errors, throttles and near-timeouts of every function', () => {
    for (const name of ['publisher', 'completeness', 'stress', 'api']) {
      assert.equal(alarms().get(`storefleet.test-FunctionErrors-${name}`)?.MetricName, 'Errors');
      assert.equal(
        alarms().get(`storefleet.test-FunctionThrottles-${name}`)?.MetricName,
        'Throttles',
      );
      const nearTimeout = alarms().get(`storefleet.test-FunctionNearTimeout-${name}`);
      assert.equal(nearTimeout?.MetricName, 'Duration');
      assert.ok((nearTimeout?.Threshold as number) > 0);
    }
    assert.equal(alarms().get('storefleet.test-FunctionNearTimeout-publisher')?.Threshold, 27_000);
  });

  it('watches each node task and each watcher task, missing data breaching', () => {
    for (const name of [
      'storefleet.test-TasksBelowDesired-store-01.eu-central.storefleet.test',
      'storefleet.test-WatcherTasksBelowDesired-vp-eu',
    ]) {
      assert.equal(alarms().get(name)?.TreatMissingData, 'breaching', name);
    }
  });

  it('describes every alarm with its severity and runbook anchor', () => {
    for (const [name, properties] of alarms()) {
      const description = text(properties.AlarmDescription);
      if (description.includes('[guard]')) continue;
      const definition = Object.values(ALARMS).find((d) =>
        name.startsWith(`storefleet.test-${d.name}`),
      );
      assert.ok(definition, name);
      assert.ok(description.startsWith(`[${definition.severity}]`), name);
      assert.ok(description.endsWith(`runbooks.md#${definition.name.toLowerCase()}`), name);
    }
  });
});

describe('paging', () => {
  it('pages once per region through one composite to the encrypted on-call topic', () => {
    for (const stack of fleet.all) {
      const template = fleet.template(stack);
      const pages = resourcesOf(template, 'AWS::CloudWatch::CompositeAlarm').filter(
        ({ Properties }) => Properties.AlarmName === 'storefleet.test-Page',
      );
      assert.equal(pages.length, 1, stack.stackName);
      const [topic] = resourcesOf(template, 'AWS::SNS::Topic').filter((t) =>
        /on-call/.test(t.Properties.DisplayName),
      );
      assert.ok(topic?.Properties.KmsMasterKeyId);
    }
  });

  it('pages for start-up sensitive alarms only once their region or controller has run (no page during a first deploy)', () => {
    const rule = page();
    // The heartbeat pages only together with the guard that says the controller reported in the last day.
    assert.match(
      rule,
      /\(ALARM\("AlarmsControllerHeartbeat\w+"\) AND ALARM\("AlarmsControllerReported\w+"\)\)/,
    );
    // Task alarms page only together with the guard that says the region has run tasks in the last day.
    const guarded =
      /\(\((ALARM\("Alarms(Watcher)?TasksBelowDesired\w+"\)( OR )?)+\) AND ALARM\("AlarmsRegionRan\w+"\)\)/;
    assert.match(rule, guarded);
    assert.ok(!rule.replace(guarded, '').includes('TasksBelowDesired'));
    const guard = alarms().get('storefleet.test-RegionRan');
    assert.equal(guard?.TreatMissingData, 'missing');
    assert.equal(guard?.EvaluationPeriods, 24);
    assert.equal(guard?.AlarmActions, undefined);
    // Steady critical alarms page directly.
    assert.ok(mentions(rule, 'RegistryStale'));
    assert.ok(mentions(rule, 'ReportingBelowQuorum'));
  });

  it('pages in a region with only nodes and watchers for their tasks, guarded the same way', () => {
    const remote = fleet.all.find((stack) => stack.region === 'us-east-1')!;
    const names = [...alarms(fleet.template(remote)).keys()].sort();
    assert.deepEqual(names, [
      'storefleet.test-RegionRan',
      'storefleet.test-TasksBelowDesired-store-01.us-east.storefleet.test',
      'storefleet.test-TasksBelowDesired-store-02.us-east.storefleet.test',
      'storefleet.test-WatcherTasksBelowDesired-vp-us',
    ]);
    assert.match(page(fleet.template(remote)), /RegionRan/);
  });

  it('sends warnings to the notification topic and never pages for them', () => {
    for (const [name, properties] of alarms()) {
      if (!text(properties.AlarmDescription).startsWith('[warning]')) continue;
      assert.ok(
        !page().includes(`"Alarms${name.slice('storefleet.test-'.length).split('-')[0]}`),
        name,
      );
      assert.equal((properties.AlarmActions as CfnJson[]).length, 1, name);
    }
  });
});

describe('one dashboard for every region', () => {
  it('exists once, in the control region, with fleet-level figures and every region', () => {
    const dashboards = fleet.all.flatMap((stack) =>
      resourcesOf(fleet.template(stack), 'AWS::CloudWatch::Dashboard'),
    );
    assert.equal(dashboards.length, 1);
    const body = JSON.stringify(dashboards[0]?.Properties.DashboardBody);
    for (const region of ['eu-central-1', 'us-east-1', 'ap-east-1']) {
      assert.ok(body.includes(`\\"region\\":\\"${region}\\"`), region);
    }
    for (const metric of [
      METRICS.reportingVantagePoints,
      METRICS.healthyListedNodes,
      METRICS.roundDurationMs,
    ]) {
      assert.ok(body.includes(metric), metric);
    }
    // Per-node figures live in logs, not in one custom metric per node.
    assert.ok(!body.includes(METRICS.probeSuccess));
  });
});
