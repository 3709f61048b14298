// End to end against `storefleet start`: four of six node processes killed at once are the nodes' failure, not the probers'; all four are replaced.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { fastFleetConfig, waitFor } from './fleet-harness.ts';
import { fetchVerifiedRegistry, isAlive, nodePids, StartProcess } from './npm-start-process.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'storefleet-mass-'));
const configPath = join(dataDir, 'fleet.json');
const config = fastFleetConfig(6);
writeFileSync(configPath, JSON.stringify(config));
let fleet: StartProcess | undefined;
afterAll(async () => {
  await fleet?.stop('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('kill 4 of 6 node processes at once', () => {
  it('raises no ProberBlind, never shows a stopped node healthy, and replaces all four', async () => {
    // Prepare: all six running, a registry served, a few quiet rounds.
    fleet = new StartProcess(configPath, dataDir);
    const url = await fleet.url();
    const started = await waitFor(
      'six running nodes and a quiet round',
      async () => {
        const snapshot = await fleet!.snapshot();
        return (
          snapshot.round >= 3 &&
          snapshot.activeAlarms.length === 0 &&
          snapshot.nodes.every(
            (node) => node.taskState === 'running' && node.state === 'healthy',
          ) &&
          (await fetch(`${url}/fleets.json`)).ok &&
          snapshot
        );
      },
      90_000,
    );
    const killed = config.nodes.slice(0, 4).map((node) => node.id);
    const before = nodePids(dataDir, config);
    // Act
    for (const nodeId of killed) process.kill(before.get(nodeId) as number, 'SIGKILL');
    // Assess, every 200 ms until all four run again.
    const alarmsSeen = new Set<string>();
    const shownHealthyWhileStopped: string[] = [];
    await waitFor(
      'all four killed nodes replaced and running',
      async () => {
        const snapshot = await fleet!.snapshot();
        for (const alarm of snapshot.activeAlarms) alarmsSeen.add(alarm.split(':')[0] as string);
        for (const node of snapshot.nodes) {
          if (node.taskState !== 'running' && node.state === 'healthy') {
            shownHealthyWhileStopped.push(`${node.id} in round ${snapshot.round}`);
          }
        }
        const now = nodePids(dataDir, config);
        return (
          snapshot.round > started.round &&
          killed.every((nodeId) => {
            const pid = now.get(nodeId);
            const view = snapshot.nodes.find((node) => node.id === nodeId);
            return (
              pid !== undefined &&
              pid !== before.get(nodeId) &&
              isAlive(pid) &&
              view?.taskState === 'running'
            );
          })
        );
      },
      90_000,
    );
    assert.ok(!alarmsSeen.has('ProberBlind'), `alarms seen: ${[...alarmsSeen].join(', ')}`);
    assert.deepEqual(shownHealthyWhileStopped, []);
    const log = (await (await fetch(`${url}/api/log`)).json()) as {
      events: { name: string; nodeId: string | null; message: string }[];
    };
    const replaced = new Set(log.events.filter((e) => e.name === 'Replace').map((e) => e.nodeId));
    assert.deepEqual(
      killed.filter((nodeId) => !replaced.has(nodeId)),
      [],
      'every killed node had a replacement',
    );
    const drains = log.events.filter((e) => e.name === 'Drain');
    assert.ok(drains.length >= 1, 'the dead nodes were drained, within the cap');
    // The registry never went below minHealthy and what is served still verifies.
    const snapshot = await fleet.snapshot();
    assert.ok(snapshot.listedNodeIds.length >= config.failover.minHealthy);
    await fetchVerifiedRegistry(url);
    assert.equal(await fleet.stop(), 0);
  }, 240_000);
});
