// The engine stopping between the refinery's steps (no gate running): the run is abandoned
// as a kill would leave it, never recorded as a failure of the MR's gates, and the next
// engine's run merges it. Real git repo, real store, real PTYs for the gates.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runMergeRequest } from '../src/main/refinery/refinery';
import { SessionHost } from '../src/main/sessions/session-host';
import { gitIn } from './helpers/repo';
import { queueOneCommitMergeRequest, ruleTown } from './helpers/rule-town';
import { removeTempDirs } from './helpers/town';

const hosts: SessionHost[] = [];
afterEach(async () => {
  for (const h of hosts.splice(0)) {
    await h.stopAll('test over');
    await h.dispose();
  }
  removeTempDirs();
});

describe('the engine stopping between refinery steps', () => {
  it('abandons the run without a gate failure, and the restarted engine merges the MR', async () => {
    const t = await ruleTown();
    const marks = path.join(t.base, 'marks');
    await t.town.call('rig.update', { name: 'app', gates: [{ name: 'test', command: `echo ran >> ${marks}`, timeout_s: 60 }] });
    const { mr, mainBefore } = await queueOneCommitMergeRequest(t);
    const logs = fs.mkdirSync(path.join(t.base, 'logs'), { recursive: true })!;
    const runOn = (host: SessionHost) =>
      runMergeRequest({ store: t.store, host, refineryRoot: path.join(t.base, 'refinery'), logs, gateSessions: new Map() }, mr.id);
    const reports = () => t.store.all<{ type: string }>(`SELECT type FROM events WHERE type LIKE 'refinery.%' ORDER BY seq`).map((e) => e.type);

    await t.reconciler.tick(); // claimed, as the run starts
    // The engine stops (not frozen, no gate running) as the refinery is about to take a step.
    const stopping = new SessionHost({ stopGraceMs: 300 });
    hosts.push(stopping);
    await stopping.abandonWork();
    await runOn(stopping);
    expect(reports()).not.toContain('refinery.failed');
    expect(fs.existsSync(marks)).toBe(false); // no gate started
    expect(gitIn(t.repo, 'rev-parse', 'main')).toBe(mainBefore);
    await t.reconciler.tick();
    expect(t.store.get<{ state: string }>('SELECT state FROM merge_requests WHERE id = ?', mr.id)!.state).not.toBe('failed');

    const restarted = new SessionHost({ stopGraceMs: 300 });
    hosts.push(restarted);
    await runOn(restarted);
    expect(reports()).toContain('refinery.merged');
    await t.reconciler.tick();
    expect(t.store.get<{ state: string }>('SELECT state FROM merge_requests WHERE id = ?', mr.id)!.state).toBe('merged');
    expect(reports()).not.toContain('refinery.failed');
    expect(gitIn(t.repo, 'show', 'main:work.md')).toBe('# work');
    expect(fs.readFileSync(marks, 'utf8').trim().split('\n')).toEqual(['ran']);
  }, 60_000);
});
