#!/usr/bin/env node
// The `town` command. The CLI is built into out/cli by `npm run build` (run by `npm ci`).
const path = require('node:path');
const fs = require('node:fs');
const built = path.join(__dirname, '..', 'out', 'cli', 'town.cjs');
if (!fs.existsSync(built)) {
  process.stderr.write('town: the CLI is not built yet; run `npm run build` in ' + path.dirname(__dirname) + '\n');
  process.exit(2);
}
require(built);
