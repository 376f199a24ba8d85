// `npm run bench`: bundles the benchmarks (TypeScript) and runs them on the real stack.
// With no argument it runs the reconciler bench (P1, P2, P9), the UI bench (P3–P6), the UI at
// town scale (P6 with 5k/10k imported beads, P8's UI half), the merge queue bench (MQ1
// done→merged, MQ2 throughput of 20 MRs), the import bench (P7, and P1 at 100k imported beads),
// the footprint bench (P8) and the agent CLI bench (P11);
// `node scripts/bench.mjs slow-reader` runs test/bench/slow-reader.ts alone.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const names = process.argv[2] ? [process.argv[2]] : ['reconciler-bench', 'ui-bench', 'scale-ui-bench', 'merge-queue-bench', 'import-bench', 'footprint-bench', 'agent-cli-bench'];
let status = 0;
for (const name of names) {
  const outfile = `out/bench/${name}.cjs`;
  await build({ entryPoints: [`test/bench/${name}.ts`], outfile, bundle: true, platform: 'node', target: 'node20', format: 'cjs', packages: 'external', sourcemap: 'inline', logLevel: 'warning' });
  // --expose-gc: the footprint bench collects garbage before it reads RSS.
  // The bench's temp towns keep their overseer tokens in a temp dir, not in ~/.overseer.
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'ov-bench-home-'));
  const r = spawnSync(process.execPath, ['--enable-source-maps', '--expose-gc', outfile], { stdio: 'inherit', env: { ...process.env, OVERSEER_HOME: home } });
  fs.rmSync(home, { recursive: true, force: true });
  status ||= r.status ?? 1;
}
process.exit(status);
