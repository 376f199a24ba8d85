// Builds the `town` CLI (launcher, overseer and agent entries), the scripted agent and the screen worker into out/cli (CommonJS, Node 20).
// Dependencies stay external: native modules must load from node_modules.
import { build } from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
};

await Promise.all([
  // `town` is a launcher: the overseer's CLI (town-full) or, inside an agent session, the
  // agent's (town-agent: the socket client only, as it runs for every `town hook`/`done`).
  build({ ...common, entryPoints: ['src/cli/town-launcher.ts'], outfile: 'out/cli/town.cjs' }),
  build({ ...common, entryPoints: ['src/cli/town.ts'], outfile: 'out/cli/town-full.cjs' }),
  build({ ...common, entryPoints: ['src/cli/town-agent.ts'], outfile: 'out/cli/town-agent.cjs' }),
  build({ ...common, entryPoints: ['src/main/runtimes/scripted-agent.ts'], outfile: 'out/cli/scripted-agent.cjs' }),
  // Run by a real agent CLI's hooks (claude, codex) on every tool call: the socket client only.
  build({ ...common, entryPoints: ['src/cli/runtime-hook.ts'], outfile: 'out/cli/runtime-hook.cjs' }),
  // The session host's screen worker (a worker thread; see src/main/sessions/screens.ts).
  build({ ...common, entryPoints: ['src/main/sessions/screen-worker.ts'], outfile: 'out/cli/screen-worker.cjs' }),
]);
