// The real Codex CLI as a rig's runtime, end to end: `town serve` starts its TUI in a PTY
// with the bead in the first prompt, the fake model server plays each agent's turns through
// Codex's shell tool (commit, `town done`), hooks report the agent's session, the rollout its
// tokens, and the convoy lands. A restart of the engine mid-bead resumes the conversation with
// `codex resume <id>`. Nothing lands in the user's ~/.codex or in the rig's repository.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AgentView, BeadView, ConvoyView, CostReport } from '../src/shared/domain';
import { CODEX_BIN, cliInstalled, FAKE_API_KEY } from './helpers/fake-model/cli-env';
import { shell, totalUsage, usage, type ModelRequest, type Turn } from './helpers/fake-model/script';
import { startFakeModel, type FakeModelServer } from './helpers/fake-model/server';
import { gitIn, makeRepo } from './helpers/repo';
import { ServedTown, tempDir, town, townDiagnosis, townJson, waitFor } from './helpers/town';
import { realCliScope } from './helpers/real-cli-scope';
import { snapshot } from './helpers/snapshot';

const scope = realCliScope();

const mentions = (bead: string) => (r: ModelRequest) => r.userTexts.some((t) => t.includes(bead));
const restarted = (r: ModelRequest) => r.userTexts.some((t) => t.includes('Overseer restarted you'));
const finish = (bead: string, file: string) =>
  shell(`echo ${bead} > ${file} && git add ${file} && git commit -qm '${bead}: add ${file}' && town done --summary 'added ${file}'`);

/** One agent's work on a bead: commit a file, then `town done`; then a closing word. */
function workOn(bead: string, title: string, file: string): Turn[] {
  return [
    {
      when: (r) => mentions(bead)(r) && r.toolResults.length === 0,
      // The bead reaches the agent in its first prompt.
      expect: (r) => expect(r.userTexts.join('\n')).toContain(title),
      tools: [finish(bead, file)],
      usage: usage(1200, 80, 300, 2000),
    },
    { when: (r) => mentions(bead)(r) && r.toolResults.length > 0, text: `Committed ${file}; ${bead} is done.`, usage: usage(1500, 40, 0, 2500) },
  ];
}

/** A town with one codex rig, the engine pointed at the fake server through OpenAI's variables. */
async function codexTown(label: string) {
  const base = tempDir(label);
  const home = path.join(base, 'home');
  fs.mkdirSync(home, { recursive: true });
  const dir = path.join(base, 'town');
  const repo = makeRepo(path.join(base, 'repo'));
  expect((await town(dir, ['init', dir])).code).toBe(0);
  await townJson(dir, 'rig', 'add', 'app', repo, '--test', 'test -f README.md', '--runtime', 'codex', '--permissions', 'bypass', '--model', 'fake-model', '--prefix', 'ap');
  const serve = (f: FakeModelServer) => new ServedTown(dir, { HOME: home, OPENAI_BASE_URL: `${f.url}/v1`, OPENAI_API_KEY: FAKE_API_KEY });
  return { home, dir, repo, serve };
}

async function landed(dir: string, convoy: string, s: ServedTown) {
  await waitFor('the convoy to land', async () => (await townJson<ConvoyView>(dir, 'convoy', 'show', convoy)).status === 'landed' || null, 150_000, 500).catch(
    async (err) => {
      throw new Error(`${(err as Error).message}\n${await townDiagnosis(dir)}\n${s.log.slice(-3000)}\nfake errors: ${scope.fake?.errors.join('\n')}\ntool output: ${scope.fake?.turnRequests().flatMap((r) => r.toolResults).join('\n---\n').slice(-3000)}`);
    },
  );
}

const polecats = async (dir: string) => (await townJson<AgentView[]>(dir, 'agents')).filter((x) => x.role === 'polecat');

describe.skipIf(!cliInstalled(CODEX_BIN))('the codex runtime (skipped only when @openai/codex is not installed)', () => {
  it('lands a convoy of two beads: each agent gets its bead in the first prompt, commits, runs town done; tokens equal the model usage', { timeout: 240_000 }, async () => {
    const { home, dir, repo, serve } = await codexTown('codex');
    const a = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Write the alpha file');
    const b = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Write the beta file');
    const convoy = await townJson<ConvoyView>(dir, 'convoy', 'create', '--title', 'Two files', a.id, b.id);

    const turns = [...workOn(a.id, 'Write the alpha file', 'alpha.txt'), ...workOn(b.id, 'Write the beta file', 'beta.txt')];
    scope.fake = await startFakeModel(turns);
    const homeBefore = snapshot(home);
    const repoBefore = snapshot(repo);
    const s = serve(scope.fake);
    scope.served.push(s);
    await s.start();
    await townJson(dir, 'convoy', 'start', convoy.id);
    await landed(dir, convoy.id, s);

    const log = gitIn(repo, 'log', '--format=%s', 'main');
    expect(log).toContain(`${a.id}: add alpha.txt`);
    expect(log).toContain(`${b.id}: add beta.txt`);
    expect(fs.readFileSync(path.join(repo, 'alpha.txt'), 'utf8').trim()).toBe(a.id);

    // Hooks told the engine each agent's Codex session (a UUIDv7, as in its rollout's name).
    const agents = await polecats(dir);
    expect(agents).toHaveLength(2);
    for (const agent of agents) expect(agent.runtime_session).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect((await town(dir, ['events', '--limit', '2000'])).stdout).toMatch(/started codex session/);

    // Every token the script reported, once, from the rollouts; Codex prices nothing and Overseer has no table: the cost is unknown, not $0.
    const expected = totalUsage(turns);
    const costs = await waitFor('usage of both sessions', async () => {
      const r = await townJson<CostReport>(dir, 'costs', '--by', 'convoy');
      return r.town.output_tokens === expected.output ? r : null;
    }, 30_000, 250);
    expect(costs.town).toMatchObject({
      input_tokens: expected.input, output_tokens: expected.output, cache_creation_tokens: expected.cacheCreation, cache_read_tokens: expected.cacheRead,
      cost_usd: null, cost_partial: true, unpriced_tokens: expected.input + expected.output + expected.cacheCreation + expected.cacheRead,
    });
    expect(costs.rows).toEqual([expect.objectContaining({ key: convoy.id, cost_usd: null, cost_partial: true })]);
    expect((await town(dir, ['costs'])).stdout).toMatch(/^town: — · /);

    await s.stop();
    // Nothing of this in the user's home (no ~/.codex) or the repository.
    expect(snapshot(home)).toEqual(homeBefore);
    expect(fs.existsSync(path.join(home, '.codex'))).toBe(false);
    const repoAfter = snapshot(repo);
    for (const f of Object.keys(repoAfter)) if (!(f in repoBefore)) expect(['alpha.txt', 'beta.txt']).toContain(f);
    expect(fs.existsSync(path.join(repo, '.codex'))).toBe(false);
  });

  it('resumes the conversation with codex resume after the engine stops mid-bead', { timeout: 240_000 }, async () => {
    const { dir, repo, serve } = await codexTown('codex-resume');
    const a = await townJson<BeadView>(dir, 'bead', 'create', '--rig', 'app', '--title', 'Write the gamma file');
    const convoy = await townJson<ConvoyView>(dir, 'convoy', 'create', '--title', 'One file', a.id);
    const turns: Turn[] = [
      // Before the stop: a look around, then the turn ends without `town done`.
      { when: (r) => !restarted(r) && r.toolResults.length === 0, tools: [shell('echo looked-around')], usage: usage(100, 10) },
      { when: (r) => !restarted(r) && r.toolResults.length === 1, text: 'Looked around; more to do.', usage: usage(120, 12) },
      {
        when: (r) => restarted(r) && r.toolResults.length === 1,
        // The resumed session carries the earlier conversation: the bead's prompt and the tool's output.
        expect: (r) => {
          expect(r.userTexts.join('\n')).toContain('Write the gamma file');
          expect(r.toolResults.join('\n')).toContain('looked-around');
        },
        tools: [finish(a.id, 'gamma.txt')],
        usage: usage(300, 30),
      },
      { when: (r) => restarted(r) && r.toolResults.length === 2, text: 'Done.', usage: usage(320, 5) },
    ];
    scope.fake = await startFakeModel(turns);
    const s = serve(scope.fake);
    scope.served.push(s);
    await s.start();
    await townJson(dir, 'convoy', 'start', convoy.id);

    const first = await waitFor('the first turn to end', async () => {
      const [agent] = await polecats(dir);
      return agent?.last_hook?.event === 'turn_end' ? agent : null;
    }, 90_000, 250);
    expect(first.runtime_session).toMatch(/^[0-9a-f-]{36}$/);
    await s.stop();
    await s.start();

    // The restarted agent is launched as `codex resume <id>`.
    const spawned = async () =>
      (await townJson<Array<{ type: string; payload: { command?: unknown } }>>(dir, 'events', '--limit', '2000'))
        .filter((e) => e.type === 'session.spawned')
        .map((e) => JSON.stringify(e.payload.command));
    const commands = await waitFor('the agent to start again', async () => ((await spawned()).length >= 2 ? spawned() : null), 60_000, 250);
    expect(commands).toHaveLength(2);
    expect(commands[0]).not.toMatch(/\/codex resume /);
    expect(commands[1]).toMatch(new RegExp(`/codex resume .* ${first.runtime_session} `));

    await landed(dir, convoy.id, s);
    expect(gitIn(repo, 'log', '--format=%s', 'main')).toContain(`${a.id}: add gamma.txt`);
    const [agent] = await polecats(dir);
    expect(agent.runtime_session).toBe(first.runtime_session);
    // Codex went on in the same session: the earlier conversation (checked by the script) under the same id.
    const resumedRequest = scope.fake.requests.find((r) => r.kind === 'turn' && r.model && restarted(r.model));
    expect(resumedRequest?.headers['session-id']).toBe(first.runtime_session);
    expect((await town(dir, ['events', '--limit', '2000'])).stdout).toMatch(/resumed codex session/);
  });
});
