// Runs one figure in a process of its own (fresh heap, no handles left by another figure) and writes its result as JSON.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { FIGURES } from './figure-list.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { quick: { type: 'boolean', default: false }, out: { type: 'string' } },
});
const figure = FIGURES.find((candidate) => candidate.id === positionals[0]);
if (figure === undefined || values.out === undefined) {
  console.error(
    `usage: node bench/run-figure.ts <${FIGURES.map((f) => f.id).join('|')}> --out FILE [--quick]`,
  );
  process.exit(2);
}
const result = await figure.run({
  quick: values.quick === true,
  log: (line) => process.stderr.write(`${line}\n`),
});
writeFileSync(values.out, JSON.stringify(result));
// libp2p and HTTP keep-alive handles may linger after the figure closed them.
process.exit(0);
