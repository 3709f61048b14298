import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { ALARMS } from '../../../fleet/alarms.ts';

const RUNBOOKS = readFileSync(
  join(import.meta.dirname, '..', '..', '..', 'docs', 'runbooks.md'),
  'utf8',
);

/** The text of one runbook section: from its anchor to the next anchor. */
function section(anchor: string): string {
  const start = RUNBOOKS.indexOf(`<a id="${anchor}"></a>`);
  if (start < 0) return '';
  const next = RUNBOOKS.indexOf('<a id="', start + 1);
  return RUNBOOKS.slice(start, next < 0 ? undefined : next);
}

describe('docs/runbooks.md has a section for every alarm', () => {
  for (const alarm of Object.values(ALARMS)) {
    it(`${alarm.name}: anchor, heading, meaning, automatic actions and steps`, () => {
      const [path, anchor] = alarm.runbook.split('#') as [string, string];
      assert.equal(path, 'docs/runbooks.md');
      assert.equal(anchor, alarm.name.toLowerCase());
      const text = section(anchor);
      assert.match(text, new RegExp(`^## ${alarm.name}$`, 'm'));
      assert.match(text, /\*\*What it means\.\*\*/);
      assert.match(text, /\*\*What storefleet already did\.?\*\*/);
      assert.match(text, /\*\*What to do\.\*\*\n\n1\. /);
      assert.match(text, new RegExp(`\\*\\*Severity:\\*\\* ${alarm.severity}\\.`));
    });
  }

  it('every internal link points at an anchor that exists', () => {
    const anchors = new Set([...RUNBOOKS.matchAll(/<a id="([^"]+)"><\/a>/g)].map((m) => m[1]));
    const links = [...RUNBOOKS.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]);
    assert.ok(links.length > 0);
    for (const link of links) assert.ok(anchors.has(link), `#${link} has no anchor`);
  });
});
