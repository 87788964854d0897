#!/usr/bin/env node
// Runs the compiled CLI (npm install builds dist/ through the `prepare` script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  process.stderr.write('switchyard: dist/ is missing; run `npm run build` (npm install does it through `prepare`)\n');
  process.exit(1);
}
const { main } = await import(cli.href);
main(process.argv);
