// `npm run bench`: bundles the benchmarks (TypeScript) and runs them on the real stack.
// `node scripts/bench.mjs slow-reader` runs test/bench/slow-reader.ts instead of the UI bench.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';

const name = process.argv[2] ?? 'ui-bench';
const outfile = `out/bench/${name}.cjs`;
await build({ entryPoints: [`test/bench/${name}.ts`], outfile, bundle: true, platform: 'node', target: 'node20', format: 'cjs', packages: 'external', sourcemap: 'inline', logLevel: 'warning' });
const r = spawnSync(process.execPath, ['--enable-source-maps', outfile], { stdio: 'inherit' });
process.exit(r.status ?? 1);
