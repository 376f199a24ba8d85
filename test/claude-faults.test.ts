// When the real Claude Code cannot work, the overseer hears once and nothing loops: a CLI
// that is not where the town says is refused at dispatch (the bead held, one escalation
// saying where it looked and how to fix it), and a usage limit or a refused key pauses the
// agent (its bead held for it, one escalation naming which and the model's message) instead
// of relaunching it over and over. And an agent whose turn ends without `town done` is
// reminded, in its own prompt, how to finish.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AgentView, BeadView, EscalationView } from '../src/shared/domain';
import { CLAUDE_BIN, cliInstalled, FAKE_API_KEY } from './helpers/fake-model/cli-env';
import { refuse, shell, usage, type ModelRequest, type Turn } from './helpers/fake-model/script';
import { startFakeModel } from './helpers/fake-model/server';
import { gitIn } from './helpers/repo';
import { ServedTown, town, townDiagnosis, townJson, waitFor } from './helpers/town';
import { claudeRigTown } from './helpers/claude-town';
import { realCliScope } from './helpers/real-cli-scope';

const scope = realCliScope();

const mentions = (bead: string) => (r: ModelRequest) => r.userTexts.some((t) => t.includes(bead));
const eventsOf = async (dir: string, type: string, bead: string) =>
  ((await townJson(dir, 'events', '--limit', '10000')) as { type: string; bead: string | null }[]).filter((e) => e.type === type && e.bead === bead).length;
const bead = (dir: string, id: string) => townJson<BeadView>(dir, 'bead', 'show', id);
/** Several reconciler ticks (1 s each) in which nothing should happen. */
const someTicks = () => new Promise((r) => setTimeout(r, 4000));

/** A town with one claude rig (bypass mode) and `beads` to work on; the model plays `script(ids)`. */
async function claudeTown(label: string, titles: string[], script: (ids: string[]) => Turn[], before?: (dir: string) => Promise<void>) {
  const { base, home, dir } = await claudeRigTown(label, ['--permissions', 'bypass']);
  const ids: string[] = [];
  for (const title of titles) ids.push((await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', title)).id);
  await before?.(dir);
  scope.fake = await startFakeModel(script(ids));
  const s = new ServedTown(dir, { HOME: home, ANTHROPIC_BASE_URL: scope.fake.url, ANTHROPIC_API_KEY: FAKE_API_KEY });
  scope.served.push(s);
  await s.start();
  const fail = async (err: unknown) => {
    throw new Error(`${(err as Error).message}\n${await townDiagnosis(dir)}\n${s.log.slice(-3000)}\nfake errors: ${scope.fake?.errors.join('\n')}`);
  };
  return { dir, base, ids, fail };
}

describe.skipIf(!cliInstalled(CLAUDE_BIN))('claude runtime faults (need @anthropic-ai/claude-code installed)', () => {
  it('refuses a bead at dispatch when runtimes.claude_path names no executable: held, one escalation saying how to fix it, no retry loop; fixed and released, the agent starts', { timeout: 120_000 }, async () => {
    let missing = '';
    const t = await claudeTown(
      'claude-missing',
      ['Write the delta file'],
      ([id]) => [{ when: mentions(id), expect: (r) => expect(r.userTexts.join('\n')).toContain('Write the delta file'), text: 'Looking at it.', usage: usage(100, 10) }],
      async (dir) => {
        missing = path.join(path.dirname(dir), 'nowhere', 'claude');
        await townJson(dir, 'config', 'set', 'runtimes.claude_path', missing);
      },
    );
    const [id] = t.ids;
    await townJson(t.dir, 'sling', id);

    const held = await waitFor('the bead to be held', async () => ((await bead(t.dir, id)).held_at ? bead(t.dir, id) : null), 30_000, 250).catch(t.fail);
    expect(held.status).toBe('open');
    expect(held.held_reason).toContain(`claude cannot start: runtimes.claude_path is ${missing}`);
    const [esc, ...more] = await townJson<EscalationView[]>(t.dir, 'escalations');
    expect(more).toEqual([]);
    expect(esc.reason).toBe('rig app: claude is not available');
    // Where it looked and both ways out: fix the path, or look claude up on PATH again; then release.
    expect(esc.body).toContain(missing);
    expect(esc.body).toContain('PATH is not searched while it is set');
    expect(esc.body).toContain('town config set runtimes.claude_path /path/to/claude');
    expect(esc.body).toContain('town config set runtimes.claude_path default');
    expect(esc.body).toContain(`town release ${id}`);

    // No loop: over several ticks the bead is not dispatched again and the overseer is not told again.
    await someTicks();
    expect(await eventsOf(t.dir, 'runtime.missing', id)).toBe(1);
    expect(await eventsOf(t.dir, 'session.spawned', id)).toBe(0);
    expect((await townJson<EscalationView[]>(t.dir, 'escalations')).map((e) => e.raised_count)).toEqual([1]);
    expect((await bead(t.dir, id)).held_at).not.toBeNull();
    expect(scope.fake!.requests.filter((r) => r.kind === 'turn')).toEqual([]);

    // Fixed and released: the agent starts and gets its bead.
    await townJson(t.dir, 'config', 'set', 'runtimes.claude_path', CLAUDE_BIN);
    expect((await town(t.dir, ['release', id])).code).toBe(0);
    await waitFor('the agent to start and ask the model about its bead', () => scope.fake!.turnRequests().some(mentions(id)) || null, 90_000, 250).catch(t.fail);
    expect(await eventsOf(t.dir, 'session.spawned', id)).toBe(1);
  });

  it('pauses an agent whose model answers 429 or 401: bead held for it, one escalation naming limit or auth with the message, not relaunched', { timeout: 150_000 }, async () => {
    const LIMIT = 'Number of request tokens has exceeded your per-minute rate limit';
        const t = await claudeTown('claude-blocked', ['Write the epsilon file', 'Write the zeta file'], ([a, b]) => [
      refuse(429, LIMIT, mentions(a)),
      refuse(401, 'invalid x-api-key', mentions(b)),
    ]);
    const [limited, refused] = t.ids;
    await townJson(t.dir, 'sling', limited);
    await townJson(t.dir, 'sling', refused);

    const heldBoth = async () => {
      const [a, b] = [await bead(t.dir, limited), await bead(t.dir, refused)];
      return a.held_at && b.held_at ? [a, b] : null;
    };
    const [a, b] = await waitFor('both beads to be held', heldBoth, 90_000, 250).catch(t.fail);
    expect(a.held_reason).toMatch(/paused: usage limit reached$/);
    expect(b.held_reason).toMatch(/paused: authentication failed$/);
    // Held for the agent that hit it (released, it resumes its conversation); its process is stopped.
    const polecats = await waitFor('the agents stopped', async () => {
      const all = (await townJson<AgentView[]>(t.dir, 'agents')).filter((x) => x.role === 'polecat');
      return all.every((x) => x.pid === null) ? all : null;
    }, 30_000, 250).catch(t.fail);
    // Idle, not dead: nothing restarts them; each bead stays slung to the agent that hit the error.
    expect(polecats.map((x) => x.status)).toEqual(polecats.map(() => 'idle'));
    const blocked = ((await townJson(t.dir, 'events', '--limit', '10000')) as { type: string; bead: string; agent: string; payload: { kind: string } }[])
      .filter((e) => e.type === 'agent.runtime_blocked')
      .map((e) => [e.bead, e.agent, e.payload.kind]);
    expect(blocked.sort()).toEqual([[limited, a.slung_to, 'limit'], [refused, b.slung_to, 'auth']].sort());

    const escalations = await townJson<EscalationView[]>(t.dir, 'escalations');
    expect(escalations.map((e) => e.reason).sort()).toEqual(['claude: authentication failed', 'claude: usage limit reached']);
    const limitEsc = escalations.find((e) => e.reason === 'claude: usage limit reached')!;
    const authEsc = escalations.find((e) => e.reason === 'claude: authentication failed')!;
    expect(limitEsc.body).toContain(LIMIT);
    expect(limitEsc.body).toContain(`town release ${limited}`);
    // For a 401 Claude says its own words, not the server's message.
    expect(authEsc.body).toContain('Invalid API key');
    expect(authEsc.body).toContain('key is fixed');

    // Paused, not crash-looped: over several ticks no new launch, no new model request, no new escalation.
    const requests = scope.fake!.requests.length;
    await someTicks();
    for (const id of t.ids) expect(await eventsOf(t.dir, 'session.spawned', id)).toBe(1);
    expect(scope.fake!.requests.length).toBe(requests);
    expect((await townJson<EscalationView[]>(t.dir, 'escalations')).map((e) => e.raised_count)).toEqual([1, 1]);
  });

  it('reminds an agent whose turn ended without town done, in its prompt; the agent runs town done and the bead lands', { timeout: 150_000 }, async () => {
    const reminded = (r: ModelRequest) => r.userTexts.some((x) => x.includes('[town] Your turn ended'));
    const t = await claudeTown(
      'claude-remind',
      ['Write the eta file'],
      ([id]) => [
        // The first turn commits and stops there, as if the agent forgot to report.
        { when: (r) => mentions(id)(r) && r.toolResults.length === 0, tools: [shell(`echo eta > eta.txt && git add eta.txt && git commit -qm '${id}: add eta.txt'`)], usage: usage(900, 40) },
        { when: (r) => r.toolResults.length === 1 && !reminded(r), text: 'Committed eta.txt.', usage: usage(1000, 20) },
        // The reminder arrives as the overseer's next message, naming the bead and how to finish.
        {
          when: (r) => reminded(r) && r.toolResults.length === 1,
          expect: (r) => {
            const reminder = r.userTexts.find((x) => x.includes('[town] Your turn ended'))!;
            expect(reminder).toContain(`${id} is not done`);
            expect(reminder).toContain('town done');
          },
          tools: [shell("town done --summary 'added eta.txt'")],
          usage: usage(1100, 30),
        },
        { when: (r) => r.toolResults.length === 2, text: 'Reported done.', usage: usage(1200, 10) },
      ],
      async (dir) => void (await townJson(dir, 'config', 'set', 'agents.idle_nudge_after', '2s')),
    );
    const [id] = t.ids;
    await townJson(t.dir, 'sling', id);

    await waitFor('the bead to land', async () => (await bead(t.dir, id)).status === 'closed' || null, 120_000, 500).catch(t.fail);
    expect(gitIn(path.join(path.dirname(t.dir), 'repo'), 'log', '--format=%s', 'main')).toContain(`${id}: add eta.txt`);
    // Reminded once: the turn that ran town done ended the need.
    const nudges = ((await townJson(t.dir, 'events', '--limit', '10000')) as { type: string; payload: { text?: string } }[]).filter((e) => e.type === 'agent.nudged');
    expect(nudges.map((e) => e.payload.text?.slice(0, 22))).toEqual(['[town] Your turn ended']);
    expect(await townJson<EscalationView[]>(t.dir, 'escalations')).toEqual([]);
  });
});
