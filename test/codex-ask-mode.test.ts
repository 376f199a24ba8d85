// The real Codex CLI on a rig in `ask` mode, answered through the API: each command the model
// wants run outside Codex's sandbox waits on Codex's approval dialog, the agent is `waiting`
// with the exact command, Deny refuses it and tells the model why (nothing of it is
// committed), Allow runs the next one and the bead lands. Nothing lands in the user's home
// or in the rig's repository.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AgentView, BeadView } from '../src/shared/domain';
import { SocketClient } from '../src/main/control/socket-client';
import { CODEX_BIN, cliInstalled, FAKE_API_KEY } from './helpers/fake-model/cli-env';
import { usage, type ModelRequest, type ToolCall } from './helpers/fake-model/script';
import { startFakeModel } from './helpers/fake-model/server';
import { gitIn, makeRepo } from './helpers/repo';
import { snapshot } from './helpers/snapshot';
import { overseerToken, ServedTown, tempDir, town, townDiagnosis, townJson, waitFor } from './helpers/town';
import { realCliScope } from './helpers/real-cli-scope';

const scope = realCliScope();

/** Codex's shell tool asking to run outside its read-only sandbox: this is what brings up its approval dialog. */
const escalated = (cmd: string): ToolCall => ({
  kind: 'tool',
  name: 'exec_command',
  input: { cmd, sandbox_permissions: 'require_escalated', justification: 'commit the work' },
});

describe.skipIf(!cliInstalled(CODEX_BIN))('the codex runtime in ask mode (needs @openai/codex installed)', () => {
  it('a shell call waits with its command; Deny tells the model why and commits nothing, Allow runs the next and the bead lands', { timeout: 240_000 }, async () => {
    const base = tempDir('codex-ask');
    const home = path.join(base, 'home');
    fs.mkdirSync(home, { recursive: true });
    const dir = path.join(base, 'town');
    const repo = makeRepo(path.join(base, 'repo'));
    expect((await town(dir, ['init', dir])).code).toBe(0);
    await townJson(dir, 'rig', 'add', 'app', repo, '--test', 'test -f README.md', '--runtime', 'codex', '--permissions', 'ask', '--model', 'fake-model', '--prefix', 'ap');
    const bead = (await townJson<BeadView>(dir, 'bead', 'create', '--rig', 'app', '--title', 'Write the epsilon file')).id;
    const mine = (r: ModelRequest) => r.userTexts.some((t) => t.includes(bead));
    const risky = `echo ${bead} > risky.txt && git add risky.txt && git commit -qm '${bead}: risky'`;
    const command = `echo ${bead} > epsilon.txt && git add epsilon.txt && git commit -qm '${bead}: add epsilon.txt' && town done --summary 'added epsilon.txt'`;
    let afterDeny: ModelRequest | undefined;
    scope.fake = await startFakeModel([
      { when: (r) => mine(r) && r.toolResults.length === 0, tools: [escalated(risky)], usage: usage(1000, 30) },
      { when: (r) => mine(r) && r.toolResults.length === 1, expect: (r) => (afterDeny = r), tools: [escalated(command)], usage: usage(1100, 60) },
      { when: (r) => mine(r) && r.toolResults.length > 1, text: 'Committed epsilon.txt; done.', usage: usage(1200, 20) },
    ]);
    const before = { home: snapshot(home), repo: snapshot(repo) };
    const s = new ServedTown(dir, { HOME: home, OPENAI_BASE_URL: `${scope.fake.url}/v1`, OPENAI_API_KEY: FAKE_API_KEY });
    scope.served.push(s);
    await s.start();
    const diagnose = async (err: unknown): Promise<never> => {
      throw new Error(`${(err as Error).message}\n${await townDiagnosis(dir)}\n${s.log.slice(-3000)}\nfake errors: ${scope.fake?.errors.join('\n')}`);
    };
    const asking = (cmd: string) =>
      waitFor(`the agent to ask permission for ${cmd}`, async () => {
        const a = (await townJson<AgentView[]>(dir, 'agents')).find((x) => x.hook === bead);
        return a?.status === 'waiting' && a.evidence?.permission?.command === cmd ? a : null;
      }, 90_000, 250).catch(diagnose);
    const client = new SocketClient(path.join(dir, 'town.sock'), overseerToken(dir));
    await townJson(dir, 'sling', bead);

    // Codex asks before running the call: the agent waits, with the tool and the exact command.
    const first = await asking(risky);
    expect(first.evidence?.summary).toBe(`asks permission to use Bash: ${risky}`);
    await client.call('agent.answer_permission', { agent: first.id, decision: 'deny', command: risky });

    // Denied: the model learns the call was refused and why, in its next request; the call never ran.
    const second = await asking(command);
    expect(afterDeny?.toolResults[0]).toMatch(/aborted by user/);
    expect(afterDeny?.userTexts.join('\n')).toContain('The overseer denied this');
    expect(gitIn(repo, 'log', '--format=%s', second.branch!)).not.toContain(`${bead}: risky`);
    // The answered ask is gone: a second answer is refused with nothing typed.
    await client.call('agent.answer_permission', { agent: second.id, decision: 'allow', command });
    await expect(client.call('agent.answer_permission', { agent: second.id, decision: 'allow', command })).rejects.toMatchObject({ code: 'stale' });
    client.close();

    // Allowed: the call runs (commit, `town done`), the merge queue lands it on main.
    await waitFor('the bead to land', async () => (await townJson<BeadView>(dir, 'bead', 'show', bead)).status === 'closed' || null, 120_000, 500).catch(diagnose);
    const log = gitIn(repo, 'log', '--format=%s', 'main');
    expect(log).toContain(`${bead}: add epsilon.txt`);
    expect(log).not.toContain(`${bead}: risky`);
    const events = (await town(dir, ['events', '--limit', '2000'])).stdout;
    expect(events).toMatch(/overseer denied Bash/);
    expect(events).toMatch(/overseer allowed Bash/);

    // Nothing of this in the user's home or the repository beyond the landed file.
    await s.stop();
    expect(snapshot(home)).toEqual(before.home);
    const after = snapshot(repo);
    for (const f of Object.keys(after)) if (!(f in before.repo)) expect(f).toBe('epsilon.txt');
    expect(fs.existsSync(path.join(repo, '.codex'))).toBe(false);
  });
});
