// Agents run `town hook`, `done`, `mail` all the time: in their sessions `town` loads the
// socket client only, never the engine, SQLite, node-pty, git or the API's schemas. Run for
// real: an agent session of a served town calls the CLI through its own `town` shim, with a
// preload that records which native addons and modules each process loaded.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeRepo } from './helpers/repo';
import { removeTempDirs, ServedTown, tempDir, town, townJson, waitFor } from './helpers/town';

const served: ServedTown[] = [];
afterAll(async () => {
  for (const s of served) await s.stop();
  removeTempDirs();
});

interface Loaded {
  argv: string[];
  code: number;
  natives: string[];
  modules: string[];
}

/** Packages an agent-side `town` must not load (the engine's and the schemas'). */
const HEAVY = ['better-sqlite3', 'node-pty', 'isomorphic-git', '@xterm', 'ws', 'zod'];

describe('town inside an agent session', () => {
  it('hook, signal, mail, prime and done load neither better-sqlite3 nor node-pty (nor the engine)', async () => {
    const base = tempDir('agent-lean');
    const dir = path.join(base, 'town');
    const loaded = path.join(base, 'loaded.jsonl');
    const preload = path.join(__dirname, 'helpers', 'loaded-modules.cjs');
    const script = path.join(base, 'agent.sh');
    fs.writeFileSync(
      script,
      [
        `export NODE_OPTIONS="--require ${preload}" TOWN_TEST_LOADED="${loaded}"`,
        `town hook --json > "${base}/hook.json" || exit 3`,
        'town signal working || exit 3',
        'town mail inbox --json > /dev/null || exit 3',
        'town prime > /dev/null || exit 3',
        'echo done > work.txt && git add work.txt && git commit -qm work',
        'town done || exit 3',
      ].join('\n') + '\n',
    );
    expect((await town(dir, ['init', dir])).code).toBe(0);
    await townJson(dir, 'rig', 'add', 'app', makeRepo(path.join(base, 'repo')), '--prefix', 'ap', '--runtime', 'shell', '--command', `sh ${script}`);
    const s = new ServedTown(dir);
    served.push(s);
    await s.start();
    const bead = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Lean');
    await townJson(dir, 'sling', bead.id);
    await waitFor('the bead to land', async () => (await townJson(dir, 'bead', 'show', bead.id)).status === 'closed', 60_000, 200);

    // The calls worked: `town hook --json` answered the agent's bead.
    expect(JSON.parse(fs.readFileSync(path.join(base, 'hook.json'), 'utf8'))).toMatchObject({ bead: { id: bead.id } });
    const runs: Loaded[] = fs.readFileSync(loaded, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(runs.map((r) => r.argv[0])).toEqual(['hook', 'signal', 'mail', 'prime', 'done']);
    for (const run of runs) {
      expect(run.code, `town ${run.argv.join(' ')}`).toBe(0);
      expect(run.natives, `native addons loaded by town ${run.argv.join(' ')}`).toEqual([]);
      const heavy = run.modules.filter((m) => HEAVY.some((p) => m.includes(`${path.sep}node_modules${path.sep}${p}${path.sep}`)));
      expect(heavy, `packages loaded by town ${run.argv.join(' ')}`).toEqual([]);
      // The launcher and the agent entry, nothing of the overseer's CLI.
      expect(run.modules.map((m) => path.basename(m)).filter((m) => m.startsWith('town'))).toEqual(['town.cjs', 'town-agent.cjs']);
    }
  });

  it('the overseer’s CLI in the same town still loads the engine (the check above can see it)', async () => {
    const base = tempDir('overseer-loads');
    const dir = path.join(base, 'town');
    const loaded = path.join(base, 'loaded.jsonl');
    expect((await town(dir, ['init', dir])).code).toBe(0);
    const preload = path.join(__dirname, 'helpers', 'loaded-modules.cjs');
    expect((await town(dir, ['bead', 'list', '--json'], { NODE_OPTIONS: `--require ${preload}`, TOWN_TEST_LOADED: loaded })).code).toBe(0);
    const [run]: Loaded[] = fs.readFileSync(loaded, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(run.natives.map((n) => path.basename(n))).toContain('better_sqlite3.node');
  });
});
