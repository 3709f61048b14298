// Alarms and dashboards: names from the catalogue, severities and runbooks in descriptions, one page per region.
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { ALARMS } from '../../fleet/alarms.ts';
import { DASHBOARD_WIDGET_LIMIT } from '../../infra/FleetDashboard.ts';
import { type CfnJson, resourcesOf, synthesizeFleet } from './synthesize-fleet.ts';

// Prepare: the example fleet (2 nodes in each of 3 regions), synthesised once.
const fleet = synthesizeFleet({
  alarmEmail: 'oncall@example.org',
  notifyEmail: 'team@example.org',
});
const name = fleet.config.fleet;
const controlAlarms = resourcesOf(fleet.template(fleet.stacks.control), 'AWS::CloudWatch::Alarm');
const allAlarms = fleet.all.flatMap((stack) =>
  resourcesOf(fleet.template(stack), 'AWS::CloudWatch::Alarm'),
);
const catalogue = Object.values(ALARMS);

describe('alarm names and descriptions', () => {
  it('creates one task alarm per node and every control-plane alarm once', () => {
    const perNode = allAlarms.filter((alarm) =>
      alarm.Properties.AlarmName.startsWith(`${name}-TasksBelowDesired-`),
    );
    assert.deepEqual(
      perNode.map((alarm) => alarm.Properties.AlarmName).sort(),
      fleet.config.nodes.map((node) => `${name}-TasksBelowDesired-${node.id}`).sort(),
    );
    const controlPlane = catalogue.filter(
      (definition) => definition.name !== ALARMS.tasksBelowDesired.name,
    );
    assert.deepEqual(
      controlAlarms
        .map((alarm) => alarm.Properties.AlarmName)
        .filter((alarmName: string) => !alarmName.includes('TasksBelowDesired'))
        .sort(),
      controlPlane.map((definition) => `${name}-${definition.name}`).sort(),
    );
    // 6 task alarms + 7 control-plane alarms, and nothing else (cdk-monitoring-constructs adds none).
    assert.equal(allAlarms.length, fleet.config.nodes.length + controlPlane.length);
  });

  it('labels each alarm with its severity and links its runbook anchor', () => {
    for (const alarm of allAlarms) {
      const definition = catalogue.find((d) =>
        alarm.Properties.AlarmName.startsWith(`${name}-${d.name}`),
      );
      assert.ok(definition, alarm.Properties.AlarmName);
      assert.ok(alarm.Properties.AlarmDescription.startsWith(`[${definition.severity}]`));
      assert.ok(alarm.Properties.AlarmDescription.endsWith(`Runbook: ${definition.runbook}`));
    }
  });

  it('treats missing task data and missing publications as breaching', () => {
    for (const alarm of allAlarms) {
      const alarmName: string = alarm.Properties.AlarmName;
      if (alarmName.includes('TasksBelowDesired') || alarmName === `${name}-RegistryStale`) {
        assert.equal(alarm.Properties.TreatMissingData, 'breaching', alarmName);
      }
    }
  });

  it('compares desired with running tasks from Container Insights', () => {
    const taskAlarm = allAlarms.find((alarm) =>
      alarm.Properties.AlarmName.includes('TasksBelowDesired'),
    );
    const metrics = taskAlarm?.Properties.Metrics as CfnJson[];
    assert.equal(metrics.find((m) => m.Expression)?.Expression, 'desired - running');
    assert.deepEqual(
      metrics
        .filter((m) => m.MetricStat)
        .map((m) => m.MetricStat.Metric.MetricName)
        .sort(),
      ['DesiredTaskCount', 'RunningTaskCount'],
    );
    assert.ok(
      metrics.every(
        (m) => !m.MetricStat || m.MetricStat.Metric.Namespace === 'ECS/ContainerInsights',
      ),
    );
  });

  it('reads the Storefleet metrics under the Fleet dimension only', () => {
    const custom = controlAlarms.filter((alarm) => alarm.Properties.Namespace === 'Storefleet');
    assert.equal(custom.length, catalogue.length - 1);
    for (const alarm of custom) {
      assert.deepEqual(alarm.Properties.Dimensions, [{ Name: 'Fleet', Value: name }]);
    }
  });
});

describe('paging', () => {
  it('pages through one composite alarm per region over the critical alarms only, to an encrypted topic', () => {
    for (const stack of fleet.all) {
      const template = fleet.template(stack);
      const composites = resourcesOf(template, 'AWS::CloudWatch::CompositeAlarm');
      assert.equal(composites.length, 1, stack.stackName);
      const composite = composites[0]!;
      assert.equal(composite.Properties.AlarmName, `${name}-Page`);
      assert.equal(composite.Properties.AlarmActions.length, 1);
      const rule = JSON.stringify(composite.Properties.AlarmRule);
      for (const alarm of resourcesOf(template, 'AWS::CloudWatch::Alarm')) {
        const critical = alarm.Properties.AlarmDescription.startsWith('[critical]');
        assert.equal(
          rule.includes(alarm.id),
          critical,
          `${alarm.Properties.AlarmName} in the page rule`,
        );
      }
      template.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'email',
        Endpoint: 'oncall@example.org',
        TopicArn: composite.Properties.AlarmActions[0],
      });
      const topics = resourcesOf(template, 'AWS::SNS::Topic');
      assert.equal(topics.length, 2, 'on-call and warnings');
      assert.ok(topics.every((topic) => topic.Properties.KmsMasterKeyId));
    }
  });

  it('sends warnings to the notification topic and critical alarms only through the page', () => {
    for (const stack of fleet.all) {
      const template = fleet.template(stack);
      const [composite] = resourcesOf(template, 'AWS::CloudWatch::CompositeAlarm');
      for (const alarm of resourcesOf(template, 'AWS::CloudWatch::Alarm')) {
        const actions = alarm.Properties.AlarmActions ?? [];
        if (alarm.Properties.AlarmDescription.startsWith('[critical]')) {
          assert.deepEqual(actions, [], alarm.Properties.AlarmName);
        } else {
          assert.equal(actions.length, 1);
          assert.notDeepEqual(actions[0], composite?.Properties.AlarmActions[0]);
        }
      }
    }
    fleet.template(fleet.stacks.control).hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'team@example.org',
    });
  });
});

describe('dashboards', () => {
  it('stay far below the widget limit by graphing all nodes with SEARCH', () => {
    for (const stack of fleet.all) {
      const dashboards = resourcesOf(fleet.template(stack), 'AWS::CloudWatch::Dashboard');
      assert.equal(dashboards.length, 1);
      const body = JSON.stringify(dashboards[0]?.Properties.DashboardBody).replaceAll('\\', '');
      const widgets = body.split('"type":').length - 1;
      assert.ok(
        widgets > 0 && widgets < DASHBOARD_WIDGET_LIMIT,
        `${stack.stackName}: ${widgets} widgets`,
      );
      // No graph names a node: per-node graphs are SEARCH expressions over the NodeId dimension.
      for (const node of fleet.config.nodes) assert.ok(!body.includes(`"NodeId","${node.id}"`));
      if (stack === fleet.stacks.control) {
        assert.ok(
          body.includes(
            `SEARCH('{"Storefleet","Fleet","NodeId"} "Fleet"="${name}" MetricName="ProbeSuccess"`,
          ),
        );
      }
    }
  });
});
