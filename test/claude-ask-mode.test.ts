// The real Claude Code CLI on a rig in `ask` mode, answered from the UI: the agent's Bash call
// (commit, `town done`) waits on Claude's permission dialog, the overseer sees `waiting` with
// the exact command in Problems and presses Allow (or Deny, which tells the model why) in
// Chromium, and the bead's work lands. Nothing lands in the user's home config or in the
// rig's repository.
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { AgentView, BeadView } from '../src/shared/domain';
import { browserForFile, openTown } from './helpers/browser';
import { CLAUDE_BIN, cliInstalled, FAKE_API_KEY } from './helpers/fake-model/cli-env';
import { shell, usage, type ModelRequest, type Turn } from './helpers/fake-model/script';
import { startFakeModel } from './helpers/fake-model/server';
import { gitIn } from './helpers/repo';
import { snapshot } from './helpers/snapshot';
import { ServedTown, town, townDiagnosis, townJson, waitFor } from './helpers/town';
import { claudeRigTown } from './helpers/claude-town';
import { realCliScope } from './helpers/real-cli-scope';

const SHOT = '/work/helpers/shots/ask-mode.png';
const browser = browserForFile();
const scope = realCliScope({ keepTempDirs: true });

/** A served town with one `ask` rig whose agent plays `turns` (built from the bead's id) against the fake model. */
async function askTown(title: string, turnsFor: (bead: string, mine: (r: ModelRequest) => boolean) => Turn[]) {
  const { home, dir, repo } = await claudeRigTown('claude-ask', ['--permissions', 'ask']);
  const bead = await townJson<BeadView>(dir, 'bead', 'create', '--rig', 'app', '--title', title);
  scope.fake = await startFakeModel(turnsFor(bead.id, (r) => r.userTexts.some((t) => t.includes(bead.id))));
  const before = { home: snapshot(home), repo: snapshot(repo) };
  const s = new ServedTown(dir, { HOME: home, ANTHROPIC_BASE_URL: scope.fake.url, ANTHROPIC_API_KEY: FAKE_API_KEY });
  scope.served.push(s);
  await s.start();
  const diagnose = async (err: unknown): Promise<never> => {
    throw new Error(`${(err as Error).message}\n${await townDiagnosis(dir)}\n${s.log.slice(-3000)}\nfake errors: ${scope.fake?.errors.join('\n')}`);
  };
  /** The agent once it waits on Claude's permission dialog for `command`. */
  const asking = (command: string) =>
    waitFor(`the agent to ask permission for ${command}`, async () => {
      const a = (await townJson<AgentView[]>(dir, 'agents')).find((x) => x.hook === bead.id);
      return a?.status === 'waiting' && a.evidence?.permission?.command === command ? a : null;
    }, 90_000, 250).catch(diagnose);
  const landed = () =>
    waitFor('the bead to land', async () => (await townJson<BeadView>(dir, 'bead', 'show', bead.id)).status === 'closed' || null, 120_000, 500).catch(diagnose);
  /** Nothing of this in the user's home or the repository (Claude's "always allow" would write .claude/ there). */
  const untouched = async (added: string) => {
    await s.stop();
    expect(snapshot(home)).toEqual(before.home);
    const after = snapshot(repo);
    for (const f of Object.keys(after)) if (!(f in before.repo)) expect(f).toBe(added);
    expect(fs.existsSync(path.join(repo, '.claude'))).toBe(false);
  };
  return { dir, repo, bead: bead.id, served: s, asking, landed, untouched };
}

/** The Problems row of an agent waiting on a permission. */
async function permissionRow(page: Page, agent: AgentView, command: string) {
  const row = page.getByRole('region', { name: 'Problems' }).locator(`[data-problem="wait:${agent.id}"]`);
  await expect.poll(() => row.textContent(), { timeout: 15_000 }).toContain(`${agent.name} asks permission to use Bash`);
  await expect.poll(() => row.locator('.evidence').textContent(), { timeout: 15_000 }).toBe(command);
  return row;
}

const commitAndDone = (bead: string, file: string) =>
  `echo ${bead} > ${file} && git add ${file} && git commit -qm '${bead}: add ${file}' && town done --summary 'added ${file}'`;

describe.skipIf(!cliInstalled(CLAUDE_BIN))('the claude runtime in ask mode (needs @anthropic-ai/claude-code installed)', () => {
  it('a Bash call waits on permission with its command shown; Allow in Problems lets it run, and the bead lands', { timeout: 240_000 }, async () => {
    let command = '';
    const t = await askTown('Write the gamma file', (bead, mine) => {
      command = commitAndDone(bead, 'gamma.txt');
      return [
        { when: (r) => mine(r) && r.toolResults.length === 0, tools: [shell(command)], usage: usage(1200, 80) },
        { when: (r) => mine(r) && r.toolResults.length > 0, text: 'Committed gamma.txt; done.', usage: usage(1500, 40) },
      ];
    });
    await townJson(t.dir, 'sling', t.bead);

    // Claude asks before running the call: the agent waits, with the tool and the exact command.
    const agent = await t.asking(command);
    expect(agent.evidence?.summary).toBe(`asks permission to use Bash: ${command}`);
    expect(gitIn(t.repo, 'log', '--format=%s', agent.branch!)).not.toContain(`${t.bead}: add gamma.txt`);

    const page = await openTown(browser(), t.served.url);
    const row = await permissionRow(page, agent, command);
    fs.mkdirSync(path.dirname(SHOT), { recursive: true });
    await page.getByRole('region', { name: 'Problems' }).screenshot({ path: SHOT });
    await row.getByRole('button', { name: `Allow ${agent.name}` }).click();

    // Allowed: the call runs (commit, `town done`), the merge queue lands it on main.
    await t.landed();
    expect(gitIn(t.repo, 'log', '--format=%s', 'main')).toContain(`${t.bead}: add gamma.txt`);
    expect(fs.readFileSync(path.join(t.repo, 'gamma.txt'), 'utf8').trim()).toBe(t.bead);
    expect((await town(t.dir, ['events', '--limit', '2000'])).stdout).toMatch(/overseer allowed Bash/);
    await expect.poll(() => row.count(), { timeout: 10_000 }).toBe(0);
    await page.context().close();
    await t.untouched('gamma.txt');
  });

  it('Deny refuses the call and tells the model why; its next call, allowed, lands the bead', { timeout: 240_000 }, async () => {
    const risky = 'rm -rf node_modules';
    let command = '';
    let denial = '';
    const t = await askTown('Write the delta file', (bead, mine) => {
      command = commitAndDone(bead, 'delta.txt');
      return [
        { when: (r) => mine(r) && r.toolResults.length === 0, tools: [shell(risky)], usage: usage(1000, 30) },
        {
          when: (r) => mine(r) && r.toolResults.length === 1,
          expect: (r) => (denial = r.toolResults[0]!),
          tools: [shell(command)],
          usage: usage(1100, 60),
        },
        { when: (r) => mine(r) && r.toolResults.length > 1, text: 'Committed delta.txt; done.', usage: usage(1200, 20) },
      ];
    });
    await townJson(t.dir, 'sling', t.bead);
    const page = await openTown(browser(), t.served.url);

    const first = await t.asking(risky);
    await (await permissionRow(page, first, risky)).getByRole('button', { name: `Deny ${first.name}` }).click();
    // The refusal reaches the model as the tool's result, with the overseer's reason; the command never ran.
    const second = await t.asking(command);
    expect(denial).toMatch(/doesn't want to proceed[\s\S]*The overseer denied this/);
    await (await permissionRow(page, second, command)).getByRole('button', { name: `Allow ${second.name}` }).click();

    await t.landed();
    expect(gitIn(t.repo, 'log', '--format=%s', 'main')).toContain(`${t.bead}: add delta.txt`);
    const events = (await town(t.dir, ['events', '--limit', '2000'])).stdout;
    expect(events).toMatch(/overseer denied Bash/);
    await page.context().close();
    await t.untouched('delta.txt');
  });
});
