// Loads the dashboard page once; it is a static file with no build step.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const DASHBOARD_PATH = join(import.meta.dirname, 'index.html');

export function loadDashboardHtml(): string {
  return readFileSync(DASHBOARD_PATH, 'utf8');
}
