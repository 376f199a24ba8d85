// Preloaded (NODE_OPTIONS=--require) into a CLI under test: when it exits, appends one JSON
// line to $TOWN_TEST_LOADED with its arguments, the native libraries mapped into it
// (/proc/self/maps: a `.node` addon is there once loaded) and every JS module it required.
const fs = require('node:fs');

process.on('exit', (code) => {
  const out = process.env.TOWN_TEST_LOADED;
  if (!out) return;
  const maps = fs.readFileSync('/proc/self/maps', 'utf8');
  const natives = [...new Set(maps.split('\n').map((l) => l.split(/\s+/)[5]).filter((f) => f && f.endsWith('.node')))];
  const modules = Object.keys(require.cache);
  fs.appendFileSync(out, JSON.stringify({ argv: process.argv.slice(2), code, natives, modules }) + '\n');
});
