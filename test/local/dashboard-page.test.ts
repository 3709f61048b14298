// The dashboard page stays self-contained: no external network, live updates over SSE.
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { loadDashboardHtml } from '../../local/dashboard/page.ts';

describe('the dashboard page', () => {
  const html = loadDashboardHtml();

  it('loads nothing from another origin', () => {
    const external = [
      ...html.matchAll(/\b(?:src|href)\s*=\s*["']([^"']+)["']|url\(([^)]+)\)|@import/g),
    ]
      .map((match) => match[1] ?? match[2] ?? match[0])
      .filter((target) => !target.startsWith('#') && !target.startsWith('data:'));
    assert.deepEqual(external, []);
    assert.doesNotMatch(html, /https?:\/\//);
  });

  it('subscribes to live updates and reads the fleet API', () => {
    assert.match(html, /new EventSource\('\/api\/events'\)/);
    assert.match(html, /\/api\/nodes\//);
    assert.match(html, /fetch\('\/fleets\.json'/);
  });
});
