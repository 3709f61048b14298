// The one table `npm run bench` prints and writes: figure | storefleet | peer | ratio | target | met?
import type { FigureRow } from './figure.ts';

/** Markdown table cells hold neither pipes nor line breaks. */
function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function renderTable(rows: readonly FigureRow[]): string {
  return [
    '| figure | storefleet | peer | ratio | target | met? |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (row) =>
        `| ${[row.figure, row.storefleet, row.peer, row.ratio, row.target, row.met].map(escapeCell).join(' | ')} |`,
    ),
  ].join('\n');
}
