// Answering a runtime's permission ask from the UI: the ask is kept on the agent (tool and
// command), Allow and Deny type the dialog's keys once, and a stale answer (the agent no
// longer waits on a permission, or now asks about another command) is refused with nothing typed.
import { afterEach, describe, expect, it } from 'vitest';
import { typedClient } from '../src/shared/api';
import { inMemoryTransport } from '../src/main/api/in-memory-transport';
import { getAgent } from '../src/main/store/views';
import { healthyTown } from './helpers/working-town';
import { removeTempDirs } from './helpers/town';

afterEach(() => removeTempDirs());

async function askingTown(runtime = 'claude') {
  const typed: string[] = [];
  const t = await healthyTown({ writeToAgent: (_agent, data) => (typed.push(data), data.length) });
  t.sql(`UPDATE sessions SET runtime = ? WHERE id = 's1'`, runtime);
  const hooks = typedClient(inMemoryTransport(t.dispatcher, { kind: 'agent', agentId: t.agent }));
  const ask = async (command: string) => {
    await hooks.call('agent.runtime_event', { runtime: 'claude', event: 'permission', tool: 'Bash', command });
    await t.reconciler.tick();
  };
  const view = async () => (await t.town.call('agent.list', {})).find((a) => a.id === t.agent)!;
  return { ...t, typed, hooks, ask, view };
}

describe('answering a permission ask', () => {
  it('keeps the tool and command on the waiting agent; Allow types the dialog key once, a second click is refused', async () => {
    const t = await askingTown();
    await t.ask("git commit -qm 'add alpha'");
    const waiting = await t.view();
    expect(waiting.status).toBe('waiting');
    expect(waiting.evidence).toMatchObject({ summary: "asks permission to use Bash: git commit -qm 'add alpha'", permission: { tool: 'Bash', command: "git commit -qm 'add alpha'" } });

    // The terminal's own guess that the screen waits does not take the ask away.
    t.store.report({ type: 'session.waiting', agent: t.agent, bead: t.work, payload: { session: 's1', evidence: { summary: 'reads the terminal', source: 'terminal read' } } });
    await t.reconciler.tick();
    expect((await t.view()).evidence?.permission?.command).toBe("git commit -qm 'add alpha'");

    // Two clicks at once (both wait for the dialog to settle): one answer is typed, the other refused.
    const [first, second] = await Promise.allSettled([
      t.town.call('agent.answer_permission', { agent: t.agent, decision: 'allow', command: "git commit -qm 'add alpha'" }),
      t.town.call('agent.answer_permission', { agent: t.agent, decision: 'allow' }),
    ]);
    expect(first).toMatchObject({ status: 'fulfilled', value: { status: 'working' } });
    expect(second).toMatchObject({ status: 'rejected', reason: { code: 'stale', field: 'agent' } });
    expect(t.typed).toEqual(['1']);
    await expect(t.town.call('agent.answer_permission', { agent: t.agent, decision: 'allow' })).rejects.toMatchObject({ code: 'stale', field: 'agent' });
    expect(t.typed).toEqual(['1']);

    // The next hook is ordinary progress; the agent stays at work.
    await t.hooks.call('agent.runtime_event', { runtime: 'claude', event: 'tool_done', tool: 'Bash', command: "git commit -qm 'add alpha'" });
    await t.reconciler.tick();
    expect((await t.view()).status).toBe('working');
  });

  it('refuses, typing nothing, when the agent is not waiting on a permission or asks about another command', async () => {
    const t = await askingTown();
    await expect(t.town.call('agent.answer_permission', { agent: t.agent, decision: 'allow' })).rejects.toMatchObject({ code: 'stale', field: 'agent' });
    // Waiting, but on something else than a permission.
    await t.hooks.call('agent.runtime_event', { runtime: 'claude', event: 'notification', message: 'Claude needs your attention' });
    await t.reconciler.tick();
    expect(getAgent(t.store, t.agent)!.status).toBe('waiting');
    await expect(t.town.call('agent.answer_permission', { agent: t.agent, decision: 'deny' })).rejects.toMatchObject({ code: 'stale' });

    await t.ask('rm -rf build');
    await expect(t.town.call('agent.answer_permission', { agent: t.agent, decision: 'allow', command: 'ls' })).rejects.toMatchObject({ code: 'stale', field: 'command' });
    // A tool without a command (WebFetch, an MCP tool): the tool tells one ask from another.
    await t.hooks.call('agent.runtime_event', { runtime: 'claude', event: 'permission', tool: 'mcp__db__drop' });
    await t.reconciler.tick();
    await expect(t.town.call('agent.answer_permission', { agent: t.agent, decision: 'allow', tool: 'WebFetch', command: null })).rejects.toMatchObject({ code: 'stale', field: 'tool' });
    expect(t.typed).toEqual([]);
    expect(getAgent(t.store, t.agent)!.status).toBe('waiting');
  });

  it('Deny picks "No" and tells the agent why, on one line', async () => {
    const t = await askingTown();
    await t.ask('rm -rf build');
    t.clock.advance(5000); // the dialog has long settled: no pause before the keys
    await t.town.call('agent.answer_permission', { agent: t.agent, decision: 'deny', reason: 'not the build dir;\nclean with npm run clean' });
    expect(t.typed).toEqual(['\x1b[A', '\t', 'not the build dir; clean with npm run clean', '\r']);
    expect((await t.view()).status).toBe('working');
    await expect(t.town.call('agent.answer_permission', { agent: t.agent, decision: 'deny', reason: '' })).rejects.toMatchObject({ code: 'invalid_input' });
  });

  it("answers Codex's dialog with its own keys: y allows once; Esc refuses, and the reason follows as the next prompt", async () => {
    const t = await askingTown('codex');
    await t.ask('git commit -qm x');
    t.clock.advance(5000);
    await t.town.call('agent.answer_permission', { agent: t.agent, decision: 'allow' });
    expect(t.typed).toEqual(['y']);
    await t.ask('rm -rf build');
    t.clock.advance(5000);
    await t.town.call('agent.answer_permission', { agent: t.agent, decision: 'deny', reason: 'not the build dir;\nclean with npm run clean' });
    expect(t.typed).toEqual(['y', '\x1b', 'not the build dir; clean with npm run clean', '\r']);
  });
});
