// The real Claude Code CLI survives an engine crash: `town serve` is SIGKILLed while the agent
// waits on the model mid-turn (a file written, nothing committed), and the restarted engine
// relaunches it with `--resume` on the same conversation, which the fake model sees whole.
// The bead lands once: one merge request merged, one merge commit on main.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AgentView } from '../src/shared/domain';
import { CLAUDE_BIN, cliInstalled, FAKE_API_KEY } from './helpers/fake-model/cli-env';
import { shell, usage, type ModelRequest, type Turn } from './helpers/fake-model/script';
import { startFakeModel } from './helpers/fake-model/server';
import { gitIn } from './helpers/repo';
import { ServedTown, town, townDiagnosis, townJson, waitFor } from './helpers/town';
import { claudeRigTown } from './helpers/claude-town';
import { realCliScope } from './helpers/real-cli-scope';

const scope = realCliScope();

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

/**
 * A town with one claude rig and a bead whose agent writes gamma.txt, then waits on the model
 * (held forever); `secondRun` is what the model plays the agent's next launch, told apart by `isSecond`.
 */
async function midTurn(label: string, isSecond: (r: ModelRequest) => boolean, secondRun: (bead: string) => Turn[]) {
  const { home, dir, repo } = await claudeRigTown(label, ['--permissions', 'bypass']);
  const bead = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Write the gamma file');
  const turns: Turn[] = [
    // First run: write the file, then wait on the model forever (the run ends meanwhile).
    {
      when: (r) => !isSecond(r) && r.toolResults.length === 0,
      expect: (r) => expect(r.userTexts.join('\n')).toContain('Write the gamma file'),
      tools: [shell('echo gamma > gamma.txt && echo wrote-gamma')],
      usage: usage(1000, 50),
    },
    { when: (r) => !isSecond(r) && r.toolResults.length > 0, text: 'never said', usage: usage(0, 0), hold: new Promise(() => {}) },
    ...secondRun(bead.id),
  ];
  scope.fake = await startFakeModel(turns);
  const env = { HOME: home, ANTHROPIC_BASE_URL: scope.fake.url, ANTHROPIC_API_KEY: FAKE_API_KEY };
  const first = new ServedTown(dir, env);
  scope.served.push(first);
  await first.start();
  await townJson(dir, 'sling', bead.id);
  const fail = (s: ServedTown) => async (err: unknown) => {
    throw new Error(`${(err as Error).message}\n${await townDiagnosis(dir)}\n${s.log.slice(-3000)}\nfake errors: ${scope.fake?.errors.join('\n')}`);
  };
  // The agent is mid-turn: its file is written and the model holds its next answer.
  await waitFor('the agent to wait on the model after writing its file', () => scope.fake!.turnRequests().length >= 2 || null, 120_000, 250).catch(fail(first));
  const [agent] = (await townJson<AgentView[]>(dir, 'agents')).filter((a) => a.role === 'polecat');
  const session = await waitFor('the runtime session id', async () => (await townJson<AgentView[]>(dir, 'agents')).find((a) => a.id === agent.id)?.runtime_session ?? null, 30_000, 250);
  expect(fs.readFileSync(path.join(agent.worktree!, 'gamma.txt'), 'utf8').trim()).toBe('gamma');
  expect(gitIn(agent.worktree!, 'status', '--porcelain')).toContain('gamma.txt');
  expect(alive(agent.pid!)).toBe(true);
  return { dir, repo, bead, env, first, agent, session, fail };
}

/** The agent's next process (not `before`), once it runs. */
async function relaunched(dir: string, agentId: string, before: number) {
  return waitFor('the agent to be relaunched', async () => {
    const a = (await townJson<AgentView[]>(dir, 'agents')).find((x) => x.id === agentId);
    return a?.pid && a.pid !== before && alive(a.pid) ? a : null;
  }, 60_000, 250);
}

/** Landed once: one merge request merged, one merge commit and one commit of the bead on main. */
async function landedOnce(dir: string, repo: string, bead: string) {
  const mrs = await townJson<{ state: string }[]>(dir, 'mr', 'list');
  expect(mrs.map((m) => m.state)).toEqual(['merged']);
  const merges = gitIn(repo, 'log', '--first-parent', '--format=%s', 'main').split('\n').filter((s) => s.startsWith(`Merge ${bead}:`));
  expect(merges).toHaveLength(1);
  expect(gitIn(repo, 'log', '--format=%s', 'main').split('\n').filter((s) => s === `${bead}: add gamma.txt`)).toHaveLength(1);
  expect(fs.readFileSync(path.join(repo, 'gamma.txt'), 'utf8').trim()).toBe('gamma');
}

const finish = (bead: string, isSecond: (r: ModelRequest) => boolean): Turn[] => [
  {
    when: (r) => isSecond(r) && !r.toolResults.some((t) => t.includes('done')),
    tools: [shell(`git add gamma.txt && git commit -qm '${bead}: add gamma.txt' && town done --summary 'added gamma.txt' && echo done-ok`)],
    usage: usage(1500, 60),
  },
  { when: (r) => isSecond(r) && r.toolResults.some((t) => t.includes('done-ok')), text: 'Committed gamma.txt.', usage: usage(1600, 20) },
];

describe.skipIf(!cliInstalled(CLAUDE_BIN))('the claude runtime restarted (needs @anthropic-ai/claude-code installed)', () => {
  it('resumes the same conversation after a SIGKILL of the engine mid-turn, lands the bead, merges it once', { timeout: 240_000 }, async () => {
    const t = await midTurn('claude-resume', resumed, (bead) => finish(bead, resumed));
    await t.first.kill();
    // The agent's terminal died with the engine: Claude gets its hangup and goes (or the restart kills it).
    const second = new ServedTown(t.dir, t.env);
    scope.served.push(second);
    await second.start();
    await waitFor('the first run\'s Claude to be gone', () => !alive(t.agent.pid!) || null, 20_000, 100);

    // Relaunched on the same conversation.
    const again = await relaunched(t.dir, t.agent.id, t.agent.pid!).catch(t.fail(second));
    const args = cmdline(again.pid!);
    expect(args[args.indexOf('--resume') + 1]).toBe(t.session);
    expect(args).not.toContain('--session-id');
    await waitFor('the bead to close', async () => (await townJson(t.dir, 'bead', 'show', t.bead.id)).status === 'closed' || null, 150_000, 500).catch(t.fail(second));

    // The model saw the earlier conversation: the bead's first prompt and the file it wrote, before the restart note.
    const resumedRequest = scope.fake!.turnRequests().find(resumed)!;
    expect(resumedRequest.userTexts.join('\n')).toContain('Write the gamma file');
    expect(resumedRequest.toolResults[0]).toContain('wrote-gamma');
    expect(scope.fake!.unplayedTurns()).toBe(0);
    expect((await town(t.dir, ['events', '--limit', '2000'])).stdout).toContain(`resumed claude session ${t.session}`);
    await landedOnce(t.dir, t.repo, t.bead.id);
  });

  it('restart --fresh starts a new conversation on the same bead and worktree, which lands it', { timeout: 240_000 }, async () => {
    // Every model request after the first run stopped belongs to the fresh run.
    let firstRunOver = false;
    const fresh = (r: ModelRequest) => firstRunOver && !resumed(r);
    const t = await midTurn('claude-fresh', fresh, (bead) => finish(bead, fresh));
    firstRunOver = true;
    const restart = await town(t.dir, ['restart', t.agent.id, '--fresh']);
    expect(restart.code).toBe(0);
    expect(restart.stdout).toContain('in a new conversation');

    const again = await relaunched(t.dir, t.agent.id, t.agent.pid!).catch(t.fail(t.first));
    const args = cmdline(again.pid!);
    expect(args).not.toContain('--resume');
    expect(args[args.indexOf('--session-id') + 1]).not.toBe(t.session);
    expect(again.worktree).toBe(t.agent.worktree);
    await waitFor('the bead to close', async () => (await townJson(t.dir, 'bead', 'show', t.bead.id)).status === 'closed' || null, 150_000, 500).catch(t.fail(t.first));

    // The new conversation began from the bead's prompt, without the first run's tool call.
    const freshRequest = scope.fake!.turnRequests().find(fresh)!;
    expect(freshRequest.userTexts.join('\n')).toContain('Write the gamma file');
    expect(freshRequest.userTexts.join('\n')).not.toContain(RESUMED);
    expect(freshRequest.toolResults).toHaveLength(0);
    const events = (await town(t.dir, ['events', '--limit', '2000'])).stdout;
    expect(events).toContain('restart asked, in a new conversation');
    expect(events).not.toContain('resumed claude session');
    await landedOnce(t.dir, t.repo, t.bead.id);
  });
});
