// `npm run bench`: bundles the benchmarks (TypeScript) and runs them on the real stack.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';

const outfile = 'out/bench/ui-bench.cjs';
await build({ entryPoints: ['test/bench/ui-bench.ts'], outfile, bundle: true, platform: 'node', target: 'node20', format: 'cjs', packages: 'external', sourcemap: 'inline', logLevel: 'warning' });
const r = spawnSync(process.execPath, ['--enable-source-maps', outfile], { stdio: 'inherit' });
process.exit(r.status ?? 1);
