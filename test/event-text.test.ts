// The event log reads as sentences: each automatic action with its evidence.
import { describe, expect, it } from 'vitest';
import { describeEvent } from '../src/shared/event-text';

describe('event lines for people', () => {
  it('gives a status change its evidence, or its cause when there is none', () => {
    const summary = 'no output for 3 s, node is reading the terminal, last line "? Proceed? [y/N]"';
    expect(describeEvent('agent.status', { from: 'working', to: 'waiting', cause: 'needs input', evidence: { summary } })).toBe(`working → waiting: ${summary}`);
    expect(describeEvent('agent.status', { from: 'waiting', to: 'working', cause: 'answered' })).toBe('waiting → working: answered');
  });

  it('says why a nudge, a restart, a release and a stop happened', () => {
    expect(describeEvent('agent.nudged', { text: 'x', evidence: { summary: 'no progress (screen, CLI or git) for 17 min' } })).toBe('nudged: no progress (screen, CLI or git) for 17 min');
    expect(describeEvent('agent.respawn', { cause: 'exited 0 without done', after_ms: 5000 })).toBe('restarting on the same hook in 5 s: exited 0 without done');
    expect(describeEvent('agent.released', { status: 'idle', cause: 'stopped by overseer' })).toBe('released (idle): stopped by overseer');
    expect(describeEvent('session.exited', { exit_code: null, signal: 9, reason: 'exited' })).toBe('killed by signal 9');
  });

  it('shows bead and merge request moves with their cause', () => {
    expect(describeEvent('bead.open', { from: 'in_progress', cause: 'crash restarts used up', reason: 'exit 1' })).toBe('in_progress → open: crash restarts used up: exit 1');
    expect(describeEvent('bead.closed', { from: 'open', cause: 'merged', reason: 'merged' })).toBe('open → closed: merged');
    expect(describeEvent('bead.closed', { from: 'open', cause: 'convoy landed', reason: 'landed' })).toBe('open → closed: convoy landed');
    expect(describeEvent('mr.failed', { mr: 'm', from: 'testing', failure: 'gate:test' })).toBe('testing → failed: gate:test');
  });

  it('copes with payloads an older writer left short', () => {
    expect(describeEvent('agent.status', {})).toBe('?');
    expect(describeEvent('something.new', { reason: 'because' })).toBe('because');
    expect(describeEvent('bead.created', { title: 'T' })).toBe('');
  });
});
