// What the Overview's Problems offer for each kind of problem, and which changes raise a
// notification: pure functions over the renderer's copy of the town.
import { describe, expect, it } from 'vitest';
import { AttentionTracker, attentionItems } from '../src/shared/attention';
import type { AgentView, BeadView, EscalationView, Snapshot } from '../src/shared/domain';
import { fromSnapshot } from '../src/renderer/src/state/feed';
import { problemsOf } from '../src/renderer/src/state/selectors';

const agent = (name: string, status: AgentView['status'], o: Partial<AgentView> = {}): AgentView =>
  ({ id: `app/polecats/${name}`, name, role: 'polecat', rig: 'app', status, hook: 'ap-1', session: 's1', evidence: null, status_since: '2026-01-01T00:00:00.000Z', ...o }) as AgentView;

const escalation = (id: string, severity: EscalationView['severity'], o: Partial<EscalationView> = {}): EscalationView =>
  ({ id, severity, source: 'town', agent: 'app/polecats/onyx', bead: 'ap-2', reason: `reason ${id}`, evidence: { summary: `evidence ${id}` }, raised_count: 1, acked_at: null, ...o }) as EscalationView;

const snapshot = (agents: AgentView[], escalations: EscalationView[], beads: BeadView[] = []): Snapshot => ({
  revision: 1, rigs: [], beads, convoys: [], agents, merge_requests: [], mail: [], escalations, settings: [], frozen: null,
});

describe('problems', () => {
  it('each carries its action and evidence: answer, nudge and restart, reopen, ack', () => {
    const waiting = agent('quartz', 'waiting', { evidence: { summary: 'no output for 3 s, node is reading the terminal, last line "Proceed? [y/N]"' } });
    const stalled = agent('onyx', 'stalled', { evidence: { summary: 'no screen change for 17 min; nudged' } });
    const failed = { id: 'ap-9', type: 'task', status: 'failed', title: 'broken', close_reason: 'dispatch attempts exhausted' } as BeadView;
    const { entities } = fromSnapshot(snapshot([waiting, stalled], [escalation('esc-01', 'high'), escalation('esc-02', 'low', { acked_at: '2026-01-01T00:00:00.000Z' })], [failed]));
    const byKey = Object.fromEntries(problemsOf(entities, null).map((p) => [p.key, p]));
    expect(Object.keys(byKey).sort()).toEqual(['bead:ap-9', 'esc:esc-01', 'stall:app/polecats/onyx', 'wait:app/polecats/quartz']);
    expect(byKey['wait:app/polecats/quartz']).toMatchObject({ actions: ['answer'], evidence: waiting.evidence!.summary });
    expect(byKey['stall:app/polecats/onyx']).toMatchObject({ actions: ['nudge', 'restart'], evidence: 'no screen change for 17 min; nudged' });
    expect(byKey['bead:ap-9']).toMatchObject({ actions: ['reopen'] });
    expect(byKey['esc:esc-01']).toMatchObject({ actions: ['ack', 'open-agent'], evidence: 'evidence esc-01', target: { escalation: 'esc-01', agent: 'app/polecats/onyx' } });
  });
});

describe('notifications', () => {
  it('only for what is new since the first look: a newly waiting agent, an urgent escalation raised or raised again', () => {
    const tracker = new AttentionTracker();
    const look = (agents: AgentView[], escalations: EscalationView[]) => tracker.update(attentionItems(agents, escalations)).map((a) => a.title);
    // What was already there when the page opened is not announced.
    expect(look([agent('quartz', 'waiting')], [escalation('esc-01', 'critical')])).toEqual([]);
    expect(look([agent('quartz', 'waiting')], [escalation('esc-01', 'critical')])).toEqual([]);
    const onyxWaits = agent('onyx', 'waiting');
    expect(look([agent('quartz', 'waiting'), onyxWaits], [escalation('esc-01', 'critical'), escalation('esc-02', 'low'), escalation('esc-03', 'high')])).toEqual([
      'onyx is waiting for input',
      'High: reason esc-03',
    ]);
    // Raised again while unacked: once more; acked: never.
    expect(look([onyxWaits], [escalation('esc-01', 'critical', { raised_count: 2 }), escalation('esc-03', 'high', { acked_at: 'x' })])).toEqual(['Critical: reason esc-01']);
    // Waiting again later (a new status_since) is news again.
    expect(look([agent('onyx', 'waiting', { status_since: '2026-01-01T01:00:00.000Z' })], [])).toEqual(['onyx is waiting for input']);
  });
});
