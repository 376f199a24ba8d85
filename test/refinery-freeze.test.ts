// An e-stop holds the refinery's own git steps, not only its gates: frozen, it builds no
// candidate, starts no next gate, and does not move the target; the thaw lets it finish.
// Real git repo, real store, real PTYs for the gates.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runMergeRequest } from '../src/main/refinery/refinery';
import { SessionHost } from '../src/main/sessions/session-host';
import { gitIn } from './helpers/repo';
import { queueOneCommitMergeRequest, ruleTown } from './helpers/rule-town';
import { removeTempDirs, waitFor } from './helpers/town';

const hosts: SessionHost[] = [];
afterEach(async () => {
  for (const h of hosts.splice(0)) {
    h.thaw();
    await h.stopAll('test over');
    await h.dispose();
  }
  removeTempDirs();
});

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A town whose rig has these gates, with a merge request of one commit queued. */
async function mergeRequestTown(gates: (marks: string) => { name: string; command: string; timeout_s: number }[]) {
  const t = await ruleTown();
  const marks = path.join(t.base, 'marks');
  await t.town.call('rig.update', { name: 'app', gates: gates(marks) });
  const { mr, mainBefore } = await queueOneCommitMergeRequest(t);
  const host = new SessionHost({ stopGraceMs: 300 });
  hosts.push(host);
  const logs = fs.mkdirSync(path.join(t.base, 'logs'), { recursive: true })!;
  const run = () => runMergeRequest({ store: t.store, host, refineryRoot: path.join(t.base, 'refinery'), logs, gateSessions: new Map() }, mr.id);
  const reports = () => t.store.all<{ type: string }>(`SELECT type FROM events WHERE type LIKE 'refinery.%' ORDER BY seq`).map((e) => e.type);
  return { t, host, marks, mainBefore, run, reports };
}

describe('the refinery in a frozen town', () => {
  it('builds no candidate, starts no next gate and moves no branch while frozen, and merges after the thaw', async () => {
    const { t, host, marks, mainBefore, run: runIt, reports } = await mergeRequestTown((marks) => [
      { name: 'one', command: `echo one >> ${marks}`, timeout_s: 60 },
      { name: 'two', command: `echo two >> ${marks}`, timeout_s: 60 },
    ]);
    // An e-stop pressed the moment a gate ends, before the refinery's next step.
    let freezeAfter: string | null = null;
    host.onExit((info) => {
      if (freezeAfter && info.sessionId.includes(`-${freezeAfter}-`)) host.freeze();
    });
    const gatesRun = () => (fs.existsSync(marks) ? fs.readFileSync(marks, 'utf8').split('\n').filter(Boolean) : []);

    host.freeze();
    const run = runIt();
    await pause(1000);
    expect(reports()).toEqual([]); // no candidate built
    expect(gatesRun()).toEqual([]);

    freezeAfter = 'one';
    host.thaw();
    await waitFor('gate one run and the town frozen again', () => gatesRun().includes('one') && host.isFrozen, 20_000, 20);
    await pause(1000);
    expect(gatesRun()).toEqual(['one']); // gate two waits

    freezeAfter = 'two';
    host.thaw();
    await waitFor('gate two run and the town frozen again', () => gatesRun().includes('two') && host.isFrozen, 20_000, 20);
    await pause(1000);
    expect(gitIn(t.repo, 'rev-parse', 'main')).toBe(mainBefore); // the target waits too
    expect(reports()).not.toContain('refinery.merged');

    host.thaw();
    await run;
    expect(reports()).toContain('refinery.merged');
    expect(gitIn(t.repo, 'rev-parse', 'main')).not.toBe(mainBefore);
    expect(gitIn(t.repo, 'show', 'main:work.md')).toBe('# work');
  }, 60_000);
});

describe('a gate', () => {
  it('killed by a signal fails its merge request: the target does not move', async () => {
    const { t, mainBefore, run, reports } = await mergeRequestTown(() => [{ name: 'test', command: 'kill -KILL $$', timeout_s: 60 }]);
    await run();
    expect(reports()).toContain('refinery.failed');
    expect(reports()).not.toContain('refinery.merged');
    expect(gitIn(t.repo, 'rev-parse', 'main')).toBe(mainBefore);
  }, 60_000);
});
