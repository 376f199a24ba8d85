// When the real Codex CLI hits a usage limit or a refused key it fires no hook and does not
// exit: it prints the error and waits at its composer. Overseer reads that from its screen
// and pauses the agent the same way as for Claude: bead held for it, the overseer told once,
// no relaunch.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AgentView, BeadView, EscalationView } from '../src/shared/domain';
import { CODEX_BIN, cliInstalled, FAKE_API_KEY } from './helpers/fake-model/cli-env';
import { refuse, type ModelRequest } from './helpers/fake-model/script';
import { startFakeModel } from './helpers/fake-model/server';
import { makeRepo } from './helpers/repo';
import { ServedTown, tempDir, town, townDiagnosis, townJson, waitFor } from './helpers/town';
import { realCliScope } from './helpers/real-cli-scope';

const scope = realCliScope();

const mentions = (bead: string) => (r: ModelRequest) => r.userTexts.some((t) => t.includes(bead));
const bead = (dir: string, id: string) => townJson<BeadView>(dir, 'bead', 'show', id);
/** Codex tries a request 6 times (5 retries) before it gives up; a spare answer or two costs nothing. */
const refusals = (status: 429 | 401, message: string, id: string) => Array.from({ length: 8 }, () => refuse(status, message, mentions(id)));

describe.skipIf(!cliInstalled(CODEX_BIN))('codex runtime faults (need @openai/codex installed)', () => {
  it('pauses an agent whose model answers 429, then one whose key is refused (401): read from the screen, one escalation each, no relaunch', { timeout: 180_000 }, async () => {
    const base = tempDir('codex-blocked');
    const home = path.join(base, 'home');
    fs.mkdirSync(home, { recursive: true });
    const dir = path.join(base, 'town');
    const repo = makeRepo(path.join(base, 'repo'));
    expect((await town(dir, ['init', dir])).code).toBe(0);
    await townJson(dir, 'rig', 'add', 'app', repo, '--test', 'test -f README.md', '--runtime', 'codex', '--permissions', 'bypass', '--model', 'fake-model', '--prefix', 'ap');
    const limited = (await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Write the theta file')).id as string;
    const refused = (await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Write the iota file')).id as string;
    scope.fake = await startFakeModel([...refusals(429, 'Rate limit reached for fake-model', limited), ...refusals(401, 'Incorrect API key provided: sk-fake.', refused)]);
    const s = new ServedTown(dir, { HOME: home, OPENAI_BASE_URL: `${scope.fake.url}/v1`, OPENAI_API_KEY: FAKE_API_KEY });
    scope.served.push(s);
    await s.start();
    const fail = async (err: unknown) => {
      throw new Error(`${(err as Error).message}\n${await townDiagnosis(dir)}\n${s.log.slice(-3000)}\nfake errors: ${scope.fake?.errors.join('\n')}`);
    };

    await townJson(dir, 'sling', limited);
    const a = await waitFor('the first bead to be held', async () => ((await bead(dir, limited)).held_at ? bead(dir, limited) : null), 90_000, 250).catch(fail);
    await townJson(dir, 'sling', refused);
    const b = await waitFor('the second bead to be held', async () => ((await bead(dir, refused)).held_at ? bead(dir, refused) : null), 90_000, 250).catch(fail);
    expect(a.held_reason).toMatch(/paused: usage limit reached$/);
    expect(b.held_reason).toMatch(/paused: authentication failed$/);

    const escalations = await townJson<EscalationView[]>(dir, 'escalations');
    expect(escalations.map((e) => e.reason).sort()).toEqual(['codex: authentication failed', 'codex: usage limit reached']);
    expect(escalations.find((e) => e.reason === 'codex: usage limit reached')!.body).toContain('429');
    expect(escalations.find((e) => e.reason === 'codex: authentication failed')!.body).toContain('Incorrect API key provided');

    // Paused, not crash-looped: stopped, and over several ticks no new launch and no new model request.
    await waitFor('the agents stopped', async () => (await townJson<AgentView[]>(dir, 'agents')).filter((x) => x.role === 'polecat').every((x) => x.pid === null) || null, 30_000, 250).catch(fail);
    const requests = scope.fake.requests.length;
    await new Promise((r) => setTimeout(r, 4000));
    const spawns = ((await townJson(dir, 'events', '--limit', '10000')) as { type: string; bead: string }[]).filter((e) => e.type === 'session.spawned');
    expect(spawns.map((e) => e.bead)).toEqual([limited, refused]);
    expect(scope.fake.requests.length).toBe(requests);
    expect((await townJson<EscalationView[]>(dir, 'escalations')).map((e) => e.raised_count)).toEqual([1, 1]);
  });
});
