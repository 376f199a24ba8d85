// The real Claude Code CLI survives an engine crash: `town serve` is SIGKILLed while the agent
// waits on the model mid-turn (a file written, nothing committed), and the restarted engine
// relaunches it with `--resume` on the same conversation, which the fake model sees whole.
// The bead lands once: one merge request merged, one merge commit on main.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentView } from '../src/shared/domain';
import { CLAUDE_BIN, cliInstalled, FAKE_API_KEY } from './helpers/fake-model/cli-env';
import { shell, usage, type ModelRequest, type Turn } from './helpers/fake-model/script';
import { startFakeModel, type FakeModelServer } from './helpers/fake-model/server';
import { gitIn, makeRepo } from './helpers/repo';
import { removeTempDirs, ServedTown, tempDir, town, townDiagnosis, townJson, waitFor } from './helpers/town';

const served: ServedTown[] = [];
let fake: FakeModelServer | undefined;
afterEach(async () => {
  for (const s of served.splice(0)) await s.stop();
  const server = fake;
  fake = undefined;
  await server?.close();
  removeTempDirs();
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The command line of a live process, as ps would show it. */
const cmdline = (pid: number) => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');

const RESUMED = 'Overseer restarted you';
const resumed = (r: ModelRequest) => r.userTexts.some((t) => t.includes(RESUMED));

describe.skipIf(!cliInstalled(CLAUDE_BIN))('the claude runtime after an engine crash (needs @anthropic-ai/claude-code installed)', () => {
  it('resumes the same conversation after a SIGKILL mid-turn, lands the bead, merges it once', { timeout: 240_000 }, async () => {
    const base = tempDir('claude-resume');
    const home = path.join(base, 'home');
    fs.mkdirSync(home, { recursive: true });
    const dir = path.join(base, 'town');
    const repo = makeRepo(path.join(base, 'repo'));
    expect((await town(dir, ['init', dir])).code).toBe(0);
    await townJson(dir, 'rig', 'add', 'app', repo, '--test', 'test -f README.md', '--runtime', 'claude', '--permissions', 'bypass', '--prefix', 'ap');
    const bead = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Write the gamma file');

    const turns: Turn[] = [
      // First run: write the file, then wait on the model forever (the engine dies meanwhile).
      {
        when: (r) => !resumed(r) && r.toolResults.length === 0,
        expect: (r) => expect(r.userTexts.join('\n')).toContain('Write the gamma file'),
        tools: [shell('echo gamma > gamma.txt && echo wrote-gamma')],
        usage: usage(1000, 50),
      },
      { when: (r) => !resumed(r) && r.toolResults.length > 0, text: 'never said', usage: usage(0, 0), hold: new Promise(() => {}) },
      // Second run: the same conversation plus the restart note; commit what is there and finish.
      {
        when: resumed,
        tools: [shell(`git add gamma.txt && git commit -qm '${bead.id}: add gamma.txt' && town done --summary 'added gamma.txt'`)],
        usage: usage(1500, 60),
      },
      { when: (r) => resumed(r) && r.toolResults.length > 1, text: 'Committed gamma.txt.', usage: usage(1600, 20) },
    ];
    fake = await startFakeModel(turns);
    const env = { HOME: home, ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_API_KEY: FAKE_API_KEY };
    const first = new ServedTown(dir, env);
    served.push(first);
    await first.start();
    await townJson(dir, 'sling', bead.id);

    const fail = (s: ServedTown) => async (err: unknown) => {
      throw new Error(`${(err as Error).message}\n${await townDiagnosis(dir)}\n${s.log.slice(-3000)}\nfake errors: ${fake?.errors.join('\n')}`);
    };
    // The agent is mid-turn: its file is written and the model holds its next answer.
    await waitFor('the agent to wait on the model after writing its file', () => fake!.turnRequests().length >= 2 || null, 120_000, 250).catch(fail(first));
    const [agent] = (await townJson<AgentView[]>(dir, 'agents')).filter((a) => a.role === 'polecat');
    const session = await waitFor('the runtime session id', async () => (await townJson<AgentView[]>(dir, 'agents')).find((a) => a.id === agent.id)?.runtime_session ?? null, 30_000, 250);
    expect(fs.readFileSync(path.join(agent.worktree!, 'gamma.txt'), 'utf8').trim()).toBe('gamma');
    expect(gitIn(agent.worktree!, 'status', '--porcelain')).toContain('gamma.txt');
    const firstPid = agent.pid!;
    expect(alive(firstPid)).toBe(true);

    await first.kill();
    // The agent's terminal died with the engine: Claude gets its hangup and goes (or the restart kills it).
    const second = new ServedTown(dir, env);
    served.push(second);
    await second.start();
    await waitFor('the first run\'s Claude to be gone', () => !alive(firstPid) || null, 20_000, 100);

    // Relaunched on the same conversation.
    const relaunched = await waitFor('the agent to be relaunched', async () => {
      const a = (await townJson<AgentView[]>(dir, 'agents')).find((x) => x.id === agent.id);
      return a?.pid && a.pid !== firstPid && alive(a.pid) ? a : null;
    }, 60_000, 250).catch(fail(second));
    const args = cmdline(relaunched.pid!);
    expect(args[args.indexOf('--resume') + 1]).toBe(session);
    expect(args).not.toContain('--session-id');

    await waitFor('the bead to close', async () => (await townJson(dir, 'bead', 'show', bead.id)).status === 'closed' || null, 150_000, 500).catch(fail(second));

    // The model saw the earlier conversation: the bead's first prompt and the file it wrote, before the restart note.
    const resumedRequest = fake.turnRequests().find(resumed)!;
    expect(resumedRequest.userTexts.join('\n')).toContain('Write the gamma file');
    expect(resumedRequest.toolResults[0]).toContain('wrote-gamma');
    expect(fake.unplayedTurns()).toBe(0);
    const events = (await town(dir, ['events', '--limit', '2000'])).stdout;
    expect(events).toContain(`resumed claude session ${session}`);

    // Landed once.
    const mrs = (await townJson<{ state: string; source_bead_id?: string }[]>(dir, 'mr', 'list'));
    expect(mrs.map((m) => m.state)).toEqual(['merged']);
    const merges = gitIn(repo, 'log', '--first-parent', '--format=%s', 'main').split('\n').filter((s) => s.startsWith(`Merge ${bead.id}:`));
    expect(merges).toHaveLength(1);
    expect(gitIn(repo, 'log', '--format=%s', 'main').split('\n').filter((s) => s === `${bead.id}: add gamma.txt`)).toHaveLength(1);
    expect(fs.readFileSync(path.join(repo, 'gamma.txt'), 'utf8').trim()).toBe('gamma');
  });
});
