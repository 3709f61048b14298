// End to end in a real browser: the dashboard shows the six nodes live and a killed node changing state.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { Orchestrator } from '../../local/orchestrator.ts';
import { fastFleetConfig, PROBE_INTERVAL_MS, waitFor } from './fleet-harness.ts';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = join(tmpdir(), 'storefleet-dashboard.png');
const BROWSER_TIMEOUT_MS = 30_000;
const config = fastFleetConfig(6);
const victim = config.nodes[2]?.id as string;
let fleet: Orchestrator | undefined;
let browser: BrowserContext | undefined;
let dataDir: string | undefined;
let userDataDir: string | undefined;

describe('the dashboard in a browser', {
  // CI installs chromium (.ci/system-packages), so there a missing browser fails instead of skipping.
  skip: !process.env.CI && !existsSync(CHROMIUM),
}, () => {
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'storefleet-dashboard-'));
    userDataDir = mkdtempSync(join(tmpdir(), 'storefleet-chromium-'));
    fleet = await Orchestrator.start({
      config,
      dataDir,
      port: 0,
      intervalMs: PROBE_INTERVAL_MS,
      log: () => {},
    });
    // A fresh profile per run: playwright passes it to chromium as --user-data-dir.
    browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      viewport: { width: 1280, height: 800 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await fleet?.stop();
    for (const dir of [dataDir, userDataDir])
      if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows six nodes, then a killed node changing state', async () => {
    assert.ok(fleet && browser);
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${fleet.url}/`);
    const rows = page.locator('tbody#nodes tr[data-node]');
    await waitFor('six node rows', async () => (await rows.count()) === 6, BROWSER_TIMEOUT_MS);
    await waitFor('a round decided with every node healthy', () =>
      fleet?.snapshot().nodes.every((node) => node.state === 'healthy'),
    );
    const row = page.locator(`tbody#nodes tr[data-node="${victim}"]`);
    await waitFor(
      'the victim shown healthy',
      async () => (await row.getAttribute('data-state')) === 'healthy',
      BROWSER_TIMEOUT_MS,
    );
    await page.locator('#live.on').waitFor({ timeout: BROWSER_TIMEOUT_MS });
    // Every vantage point reported the latest decided round: the API names them and the page shows them.
    const vantageIds = config.vantagePoints.map((vantage) => vantage.id).sort();
    const nodesApi = (await (await fetch(`${fleet.url}/api/nodes`)).json()) as {
      reportingVantageIds: string[];
    };
    assert.deepEqual(nodesApi.reportingVantageIds, vantageIds);
    await waitFor(
      'the reporting vantage points on the page',
      async () => (await page.locator('#reporting').textContent()) === vantageIds.join(' '),
      BROWSER_TIMEOUT_MS,
    );
    // Act
    await fleet.chaos({ action: 'kill', nodeId: victim });
    // Assess: the page changes by itself (server-sent events), no reload.
    const changedTo = await waitFor(
      'the victim to change state on the page',
      async () => {
        const state = await row.getAttribute('data-state');
        return state !== null && state !== 'healthy' && state;
      },
      BROWSER_TIMEOUT_MS,
    );
    assert.ok(['suspect', 'drained', 'replacing', 'probation'].includes(changedTo), changedTo);
    await waitFor(
      'the victim unlisted on the page',
      async () => (await row.locator('td.listed.no').count()) === 1,
      BROWSER_TIMEOUT_MS,
    );
    assert.match((await page.locator('#fleets').textContent()) ?? '', /"sequence": \d+/);
    assert.match((await page.locator('#log').textContent()) ?? '', /Drain/);
    await page.screenshot({ path: SCREENSHOT });
    assert.deepEqual(pageErrors, []);
  });
});
