// A CloudWatch emulator (awsJson1_0, GraniteServiceVersion20100801): DescribeAlarms over alarms the test sets, per region.
import { type RunningService, startJsonService } from './json-service.ts';

export interface EmulatedAlarm {
  AlarmName: string;
  StateValue: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
  StateReason?: string;
  AlarmDescription?: string;
}

export interface CloudWatchEmulator extends RunningService {
  setAlarm(region: string, alarm: EmulatedAlarm): void;
}

export async function startCloudWatchEmulator(options: {
  port: number;
  regions: readonly string[];
}): Promise<CloudWatchEmulator> {
  const alarms = new Map<string, Map<string, EmulatedAlarm & { updatedAtSeconds: number }>>();
  const service = await startJsonService({
    targetPrefix: 'GraniteServiceVersion20100801',
    jsonVersion: '1.0',
    port: options.port,
    regions: options.regions,
    operations: {
      DescribeAlarms: (input, { region }) => {
        const names = Array.isArray(input['AlarmNames']) ? (input['AlarmNames'] as string[]) : [];
        const prefix = typeof input['AlarmNamePrefix'] === 'string' ? input['AlarmNamePrefix'] : '';
        const state = input['StateValue'];
        const found = [...(alarms.get(region)?.values() ?? [])].filter(
          (alarm) =>
            (names.length === 0 || names.includes(alarm.AlarmName)) &&
            alarm.AlarmName.startsWith(prefix) &&
            (state === undefined || alarm.StateValue === state),
        );
        return {
          MetricAlarms: found.map(({ updatedAtSeconds, ...alarm }) => ({
            ...alarm,
            AlarmArn: `arn:aws:cloudwatch:${region}:000000000000:alarm:${alarm.AlarmName}`,
            StateUpdatedTimestamp: updatedAtSeconds,
          })),
          CompositeAlarms: [],
        };
      },
    },
  });
  return {
    ...service,
    setAlarm: (region, alarm) => {
      const inRegion = alarms.get(region) ?? new Map();
      inRegion.set(alarm.AlarmName, { ...alarm, updatedAtSeconds: Math.floor(Date.now() / 1000) });
      alarms.set(region, inRegion);
    },
  };
}
