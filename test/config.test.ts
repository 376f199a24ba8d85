// `town config`: every setting listed with its default, values written as a person writes them
// (`20m`, `0,2m,5m`), the old snake_case keys still working, refusals naming the key, and a
// change that applies to the running engine at once and survives its restart.
import { afterAll, describe, expect, it } from 'vitest';
import { makeRepo } from './helpers/repo';
import { removeTempDirs, ServedTown, tempDir, town, townJson, waitFor } from './helpers/town';

afterAll(removeTempDirs);

/** The keys the issue asks for at least, each with the default domain.md gives it. */
const REQUIRED_DEFAULTS: Record<string, string> = {
  'dispatch.max_attempts': '5',
  'dispatch.backoff': '0s,2m,5m,10m,30m',
  'dispatch.breaker_failures': '20',
  'dispatch.breaker_window': '30m',
  'town.max_polecats': '20',
  'health.nudge_after': '15m',
  'health.escalate_after': '1h',
  'health.stop_after': '2h',
  'health.stale_in_progress_after': '5m',
  'health.respawn_clean_exits': '1',
  'health.crash_restarts': '3',
  'escalation.cooldown': '30m',
  'escalation.reescalate_after': '1h',
  'gc.idle_polecat_after': '1d',
};

async function newTown(label: string): Promise<string> {
  const dir = tempDir(label);
  expect((await town(dir, ['init', dir])).code).toBe(0);
  return dir;
}

const lineOf = (text: string, key: string) => text.split('\n').find((l) => l.startsWith(`${key} `)) ?? '';

describe('town config', () => {
  it('lists every setting with its value, what it does, and its default where they differ', async () => {
    const dir = await newTown('config-list');
    const list = await townJson(dir, 'config', 'list');
    const byKey = Object.fromEntries(list.settings.map((s: any) => [s.key, s]));
    for (const [key, def] of Object.entries(REQUIRED_DEFAULTS)) {
      expect({ key, display: byKey[key]?.display, default: byKey[key]?.default_display }).toEqual({ key, display: def, default: def });
      expect(byKey[key].about.length).toBeGreaterThan(10);
    }
    expect(byKey['agents.sandbox']).toMatchObject({ kind: 'choice', choices: ['none', 'bwrap'], aliases: ['agent_sandbox'] });
    expect(list).toMatchObject({ dispatch_paused: false, town_prefix: 'hq' });

    // `town config` alone is the list; a row at its default leaves DEFAULT empty.
    const bare = await town(dir, ['config']);
    expect(bare.code).toBe(0);
    expect(bare.stdout.split('\n')[0]).toMatch(/^KEY\s+VALUE\s+DEFAULT\s+ABOUT$/);
    for (const s of list.settings.filter((x: any) => x.kind !== 'text')) expect(lineOf(bare.stdout, s.key)).toMatch(new RegExp(`^${s.key}\\s+\\S+\\s+${escape(s.about)}$`));
    // A text setting is cut short in the table, whole in `config get`.
    expect(byKey['health.nudge_text']).toMatchObject({ kind: 'text' });
    expect(byKey['health.nudge_text'].display).toMatch(/\{bead\}.*continue/);
    expect(lineOf(bare.stdout, 'health.nudge_text')).toMatch(/^health\.nudge_text\s+.{39}…\s+typed into/);

    await town(dir, ['config', 'set', 'health.nudge_after', '20m']);
    const after = (await town(dir, ['config', 'list'])).stdout;
    expect(lineOf(after, 'health.nudge_after')).toMatch(/^health\.nudge_after\s+20m\s+15m\s+no progress/);
    await town(dir, ['config', 'set', 'health.nudge_text', 'Still on {bead}? Reply when done.']);
    expect((await town(dir, ['config', 'get', 'health.nudge_text'])).stdout).toMatch(/^health\.nudge_text = Still on \{bead\}\? Reply when done\. \(default \[town\] You have \{bead\}/);
  });

  it('sets a duration as written and reads it back, by key or by its old alias', async () => {
    const dir = await newTown('config-set');
    const set = await town(dir, ['config', 'set', 'health.nudge_after', '20m']);
    expect(set).toMatchObject({ code: 0, stdout: 'health.nudge_after = 20m (was 15m)\n' });
    expect((await town(dir, ['config', 'get', 'health.nudge_after'])).stdout).toBe('health.nudge_after = 20m (default 15m)\n');
    expect(await townJson(dir, 'config', 'get', 'health.nudge_after')).toMatchObject({ key: 'health.nudge_after', value: 20 * 60_000, display: '20m' });

    expect((await town(dir, ['config', 'set', 'dispatch.backoff', '0,90s,2h'])).stdout).toBe('dispatch.backoff = 0s,90s,2h (was 0s,2m,5m,10m,30m)\n');
    expect((await town(dir, ['config', 'set', 'agents.sandbox', 'bwrap'])).stdout).toBe('agents.sandbox = bwrap (was none)\n');
    expect((await town(dir, ['config', 'set', 'town.max_polecats', '7'])).stdout).toBe('town.max_polecats = 7 (was 20)\n');

    // The old keys, in their old units and forms, answer under the new names.
    expect((await town(dir, ['config', 'set', 'dispatch_backoff_s', '0'])).stdout).toBe('dispatch.backoff = 0s (was 0s,90s,2h)\n');
    expect((await town(dir, ['config', 'get', 'dispatch_backoff_s'])).stdout).toBe('dispatch.backoff = 0s (default 0s,2m,5m,10m,30m)\n');
    expect((await town(dir, ['config', 'set', 'dispatch_backoff_s', '[0,60]'])).stdout).toBe('dispatch.backoff = 0s,1m (was 0s)\n');
    expect((await town(dir, ['config', 'set', 'done_exit_grace_s', '30'])).stdout).toBe('health.done_exit_grace = 30s (was 10s)\n');
    expect((await town(dir, ['config', 'set', 'agent_sandbox', 'none'])).stdout).toBe('agents.sandbox = none (was bwrap)\n');
  });

  it('refuses a bad value or an unknown key naming it, and changes nothing', async () => {
    const dir = await newTown('config-bad');
    const before = await townJson(dir, 'config', 'list');

    const soon = await town(dir, ['config', 'set', 'health.nudge_after', 'soon']);
    expect(soon.code).toBe(1);
    expect(soon.stderr).toBe('town: health.nudge_after: expected a duration like 90s, 15m or 2h [set.health.nudge_after]\n');
    // A bare number has no unit under the new keys: said, not guessed.
    expect((await town(dir, ['config', 'set', 'health.stop_after', '120'])).stderr).toContain('[set.health.stop_after]');
    expect((await town(dir, ['config', 'set', 'dispatch.max_attempts', '0'])).stderr).toContain('expected a whole number ≥ 1 [set.dispatch.max_attempts]');
    expect((await town(dir, ['config', 'set', 'agents.sandbox', 'docker'])).stderr).toContain('expected one of none, bwrap [set.agents.sandbox]');
    expect((await town(dir, ['config', 'set', 'max_polecats_town', '-5'])).stderr).toContain('max_polecats_town (town.max_polecats): expected a whole number');
    // A nudge that does not name the bead is refused.
    expect((await town(dir, ['config', 'set', 'health.nudge_text', 'Keep going please'])).stderr).toContain('expected the text to contain {bead} [set.health.nudge_text]');

    const typo = await town(dir, ['config', 'set', 'health.nudge_afer', '5m']);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toBe('town: unknown setting health.nudge_afer; did you mean health.nudge_after? [set.health.nudge_afer]\n');
    const unknown = await town(dir, ['config', 'get', 'colour']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/unknown setting colour; known: dispatch\.max_attempts, .*gc\.idle_polecat_after.* \[get\]/);
    expect((await town(dir, ['config', 'get'])).code).toBe(2);

    expect(await townJson(dir, 'config', 'list')).toEqual(before);
  });

  it('applies a change to the running engine at once, and keeps it across a restart', async () => {
    const dir = await newTown('config-served');
    expect((await town(dir, ['rig', 'add', 'app', makeRepo(tempDir('repo'))])).code).toBe(0);
    let served = new ServedTown(dir, { TOWN_SCRIPTED_PACE_MS: '5000' });
    await served.start();
    try {
      expect((await town(dir, ['config', 'set', 'town.max_polecats', '0'])).stdout).toBe('town.max_polecats = 0 (was 20)\n');
      const bead = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Waits for capacity');
      await townJson(dir, 'sling', bead.id, 'app');
      // Several reconciler passes go by with the town full: the bead stays where it is.
      const ticks = (await townJson(dir, 'status')).reconciler.ticks;
      await waitFor('three more ticks', async () => (await townJson(dir, 'status')).reconciler.ticks >= ticks + 3);
      expect((await townJson(dir, 'bead', 'show', bead.id)).status).toBe('open');
      // Room for one more, said to the running engine: the bead is dispatched without a restart.
      await town(dir, ['config', 'set', 'town.max_polecats', '1']);
      await waitFor('the bead to be dispatched', async () => (await townJson(dir, 'bead', 'show', bead.id)).status !== 'open', 20_000);

      expect((await town(dir, ['config', 'set', 'health.nudge_after', '20m'])).code).toBe(0);
      expect(await served.stop()).toBe(0);
      // Read from the town itself while nothing serves it, then from the restarted engine.
      expect((await town(dir, ['config', 'get', 'health.nudge_after'])).stdout).toBe('health.nudge_after = 20m (default 15m)\n');
      served = new ServedTown(dir, { TOWN_SCRIPTED_PACE_MS: '5000' });
      await served.start();
      expect((await town(dir, ['status'])).code).toBe(0);
      expect((await town(dir, ['config', 'get', 'health.nudge_after'])).stdout).toBe('health.nudge_after = 20m (default 15m)\n');
      expect((await town(dir, ['config', 'get', 'town.max_polecats'])).stdout).toBe('town.max_polecats = 1 (default 20)\n');
    } finally {
      await served.stop();
    }
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
