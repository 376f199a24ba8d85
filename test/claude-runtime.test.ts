// The real Claude Code CLI as a rig's runtime, end to end: `town serve` starts its TUI in a
// PTY with the bead in the first prompt, the fake model server plays each agent's turns
// (commit, `town done`), hooks report the agent's session and usage, the convoy lands, and
// the costs Overseer shows are the model's usage. Nothing lands in the user's home config
// or in the rig's repository.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AgentView, ConvoyView, CostReport } from '../src/shared/domain';
import { CLAUDE_BIN, cliInstalled, FAKE_API_KEY } from './helpers/fake-model/cli-env';
import { shell, totalUsage, usage, type ModelRequest, type Turn } from './helpers/fake-model/script';
import { startFakeModel } from './helpers/fake-model/server';
import { gitIn } from './helpers/repo';
import { snapshot } from './helpers/snapshot';
import { ServedTown, town, townDiagnosis, townJson, waitFor } from './helpers/town';
import { claudeRigTown } from './helpers/claude-town';
import { realCliScope } from './helpers/real-cli-scope';

const scope = realCliScope();

const mentions = (bead: string) => (r: ModelRequest) => r.userTexts.some((t) => t.includes(bead));

/** One agent's work on a bead: commit a file, then `town done`; then a closing word. */
function workOn(bead: string, title: string, file: string): Turn[] {
  return [
    {
      when: (r) => mentions(bead)(r) && r.toolResults.length === 0,
      // The bead reaches the agent in its first prompt.
      expect: (r) => expect(r.userTexts.join('\n')).toContain(title),
      tools: [shell(`echo ${bead} > ${file} && git add ${file} && git commit -qm '${bead}: add ${file}' && town done --summary 'added ${file}'`)],
      usage: usage(1200, 80, 300, 2000),
    },
    { when: (r) => mentions(bead)(r) && r.toolResults.length > 0, text: `Committed ${file}; ${bead} is done.`, usage: usage(1500, 40, 0, 2500) },
  ];
}

describe.skipIf(!cliInstalled(CLAUDE_BIN))('the claude runtime (needs @anthropic-ai/claude-code installed)', () => {
  it('lands a convoy of two beads: each agent gets its bead in the first prompt, commits, runs town done; costs equal the model usage', { timeout: 240_000 }, async () => {
    const { home, dir, repo } = await claudeRigTown('claude', ['--permissions', 'bypass', '--model', 'claude-sonnet-4-5']);
    const a = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Write the alpha file');
    const b = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Write the beta file');
    const convoy = await townJson<ConvoyView>(dir, 'convoy', 'create', '--title', 'Two files', a.id, b.id);

    const turns = [...workOn(a.id, 'Write the alpha file', 'alpha.txt'), ...workOn(b.id, 'Write the beta file', 'beta.txt')];
    scope.fake = await startFakeModel(turns);
    const homeBefore = snapshot(home);
    const repoBefore = snapshot(repo);
    const s = new ServedTown(dir, { HOME: home, ANTHROPIC_BASE_URL: scope.fake.url, ANTHROPIC_API_KEY: FAKE_API_KEY });
    scope.served.push(s);
    await s.start();
    await townJson(dir, 'convoy', 'start', convoy.id);

    await waitFor('the convoy to land', async () => (await townJson<ConvoyView>(dir, 'convoy', 'show', convoy.id)).status === 'landed' || null, 150_000, 500).catch(
      async (err) => {
        throw new Error(`${(err as Error).message}\n${await townDiagnosis(dir)}\n${s.log.slice(-3000)}\nfake errors: ${scope.fake?.errors.join('\n')}`);
      },
    );
    const log = gitIn(repo, 'log', '--format=%s', 'main');
    expect(log).toContain(`${a.id}: add alpha.txt`);
    expect(log).toContain(`${b.id}: add beta.txt`);
    expect(fs.readFileSync(path.join(repo, 'alpha.txt'), 'utf8').trim()).toBe(a.id);
    expect(fs.readFileSync(path.join(repo, 'beta.txt'), 'utf8').trim()).toBe(b.id);

    // Hooks told the engine each agent's Claude session; the turn that ran `town done` ended it.
    const agents = (await townJson<AgentView[]>(dir, 'agents')).filter((x) => x.role === 'polecat');
    expect(agents).toHaveLength(2);
    for (const agent of agents) expect(agent.runtime_session).toMatch(/^[0-9a-f-]{36}$/);
    // The closing turn's hooks may still be on their way when the convoy lands.
    await waitFor('each agent\'s closing turn reported', async () => {
      const now = (await townJson<AgentView[]>(dir, 'agents')).filter((x) => x.role === 'polecat');
      return now.every((x) => /turn_end|session_end|usage/.test(x.last_hook?.event ?? '')) || null;
    }, 30_000, 250);
    const events = (await town(dir, ['events', '--limit', '2000'])).stdout;
    expect(events).toMatch(/started claude session/);

    // The costs Overseer shows are the model's usage: every token the script reported, once.
    const expected = totalUsage(turns);
    const costs = await waitFor('usage of both sessions', async () => {
      const r = await townJson<CostReport>(dir, 'costs', '--by', 'convoy');
      return r.town.output_tokens === expected.output ? r : null;
    }, 30_000, 250);
    expect(costs.town).toMatchObject({
      input_tokens: expected.input, output_tokens: expected.output, cache_creation_tokens: expected.cacheCreation, cache_read_tokens: expected.cacheRead,
    });
    // Claude's own price for claude-sonnet-4-5 (USD per million: 3 in, 15 out, 3.75 cache write, 0.30 cache read).
    const price = (expected.input * 3 + expected.output * 15 + expected.cacheCreation * 3.75 + expected.cacheRead * 0.3) / 1e6;
    expect(costs.town.cost_usd).toBeCloseTo(price, 6);
    expect(costs.rows).toEqual([expect.objectContaining({ key: convoy.id, cost_usd: costs.town.cost_usd })]);

    await s.stop();
    // Nothing of this in the user's home (no ~/.claude, ~/.claude.json, ~/.config) or the repository.
    expect(snapshot(home)).toEqual(homeBefore);
    const repoAfter = snapshot(repo);
    for (const f of Object.keys(repoAfter)) if (!(f in repoBefore)) expect(['alpha.txt', 'beta.txt']).toContain(f);
    expect(fs.existsSync(path.join(repo, '.claude'))).toBe(false);
  });
});
