// `npm run bench`: bundles the benchmarks (TypeScript) and runs them on the real stack.
// `node scripts/bench.mjs slow-reader` runs test/bench/slow-reader.ts instead of the UI bench.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const name = process.argv[2] ?? 'ui-bench';
const outfile = `out/bench/${name}.cjs`;
await build({ entryPoints: [`test/bench/${name}.ts`], outfile, bundle: true, platform: 'node', target: 'node20', format: 'cjs', packages: 'external', sourcemap: 'inline', logLevel: 'warning' });
// The bench's temp towns keep their overseer tokens in a temp dir, not in ~/.overseer.
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'ov-bench-home-'));
const r = spawnSync(process.execPath, ['--enable-source-maps', outfile], { stdio: 'inherit', env: { ...process.env, OVERSEER_HOME: home } });
fs.rmSync(home, { recursive: true, force: true });
process.exit(r.status ?? 1);
