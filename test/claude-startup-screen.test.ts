// A startup screen Overseer did not answer ahead never leaves a real Claude agent silent:
// with `runtimes.trust_worktrees off` Claude asks whether to trust the agent's worktree,
// sends no hook while it asks, and the agent shows as waiting with that question as its
// evidence. Answered from the terminal, the agent goes on and its bead lands.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AgentView } from '../src/shared/domain';
import { SocketClient } from '../src/main/control/socket-client';
import { claudeConfigDir } from '../src/main/runtimes/claude';
import { CLAUDE_BIN, cliInstalled, FAKE_API_KEY } from './helpers/fake-model/cli-env';
import { shell, usage, type ModelRequest, type Turn } from './helpers/fake-model/script';
import { startFakeModel } from './helpers/fake-model/server';
import { gitIn } from './helpers/repo';
import { overseerToken, ServedTown, townDiagnosis, townJson, waitFor } from './helpers/town';
import { claudeRigTown } from './helpers/claude-town';
import { realCliScope } from './helpers/real-cli-scope';

const scope = realCliScope();

const mentions = (bead: string) => (r: ModelRequest) => r.userTexts.some((t) => t.includes(bead));

describe.skipIf(!cliInstalled(CLAUDE_BIN))('a claude startup screen nobody answered ahead (needs @anthropic-ai/claude-code installed)', () => {
  it('folder trust not pre-answered: the agent is waiting with the question as evidence; answered from the terminal, it lands', { timeout: 240_000 }, async () => {
    const { home, dir, repo } = await claudeRigTown('claude-trust', ['--permissions', 'bypass'], (d) => townJson(d, 'config', 'set', 'runtimes.trust_worktrees', 'off'));
    const bead = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Write the delta file');
    const turns: Turn[] = [
      {
        when: (r) => mentions(bead.id)(r) && r.toolResults.length === 0,
        tools: [shell(`echo delta > delta.txt && git add delta.txt && git commit -qm '${bead.id}: add delta.txt' && town done --summary 'added delta.txt'`)],
        usage: usage(1000, 50),
      },
      { when: (r) => mentions(bead.id)(r) && r.toolResults.length > 0, text: 'Committed delta.txt.', usage: usage(1100, 20) },
    ];
    scope.fake = await startFakeModel(turns);
    const s = new ServedTown(dir, { HOME: home, ANTHROPIC_BASE_URL: scope.fake.url, ANTHROPIC_API_KEY: FAKE_API_KEY });
    scope.served.push(s);
    await s.start();
    await townJson(dir, 'sling', bead.id);
    const fail = async (err: unknown) => {
      throw new Error(`${(err as Error).message}\n${await townDiagnosis(dir)}\n${s.log.slice(-3000)}\nfake errors: ${scope.fake?.errors.join('\n')}`);
    };

    const waiting = await waitFor('the agent to wait at the trust question', async () =>
      (await townJson<AgentView[]>(dir, 'agents')).find((a) => a.role === 'polecat' && a.status === 'waiting') ?? null, 90_000, 250).catch(fail);
    const evidence = [waiting.evidence?.summary ?? '', ...(waiting.evidence?.last_lines ?? [])].join('\n');
    expect(evidence).toMatch(/trust/i);
    // Nothing reached the model while Claude asked, and the town's Claude config does not trust the worktree.
    expect(scope.fake.turnRequests()).toHaveLength(0);
    const config = JSON.parse(fs.readFileSync(path.join(claudeConfigDir(dir), '.claude.json'), 'utf8')) as { projects?: Record<string, { hasTrustDialogAccepted?: boolean }> };
    expect(config.projects?.[waiting.worktree!]?.hasTrustDialogAccepted).not.toBe(true);

    // Down to "Yes, I trust this folder" and Enter, typed into its terminal as from the UI.
    const client = new SocketClient(path.join(dir, 'town.sock'), overseerToken(dir));
    await client.call('agent.input', { agent: waiting.id, data: '\x1b[B' });
    await client.call('agent.input', { agent: waiting.id, data: '\r' });
    client.close();
    await waitFor('the bead to close', async () => (await townJson(dir, 'bead', 'show', bead.id)).status === 'closed' || null, 150_000, 500).catch(fail);
    expect(gitIn(repo, 'log', '--format=%s', 'main')).toContain(`${bead.id}: add delta.txt`);
  });
});
