// Gas Town interop: a bd JSONL export (test/fixtures/bd-town.jsonl, modelled on real
// .beads/issues.jsonl files) imported into a real town, re-imported, exported and imported
// into a new town; through the engine API and through the real `town` CLI.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { typedClient } from '../src/shared/api';
import { Engine } from '../src/main/engine/engine';
import { storeQueries } from '../src/main/reconciler/queries';
import type { Store } from '../src/main/store/store';
import { makeRepo } from './helpers/repo';
import { removeTempDirs, tempDir, town, townJson } from './helpers/town';

/** What the dispatcher would consider with 100 free slots in every rig. */
function dispatchable100(store: Store) {
  const q = storeQueries(store);
  const rooms = q.rigCapacities().map((r) => ({ rig: r.rig, autoDispatch: r.autoDispatch, limit: 100 }));
  return q.dispatchableBeads(rooms, { now: store.now(), maxAttempts: 5, backoff: [0], pausedRigs: [], pausedBeads: [] });
}

const FIXTURE = path.resolve(__dirname, 'fixtures', 'bd-town.jsonl');
const WORK = ['gt-a1', 'gt-a2', 'gt-a3', 'gt-a4', 'gt-a5', 'gt-a6', 'gt-a7', 'gt-ep1', 'gt-ep1.1', 'gt-ep1.2'];
/** By the rule: open, not waiting on an open bead, no blocked ancestor. */
const READY = ['gt-a2', 'gt-a4', 'gt-a6', 'gt-a7', 'gt-a5'];

const engines: Engine[] = [];
afterEach(() => {
  for (const e of engines.splice(0)) e.closeOffline();
  removeTempDirs();
});

async function openTown(o: { autoDispatch?: boolean; rigs?: string[] } = {}) {
  const base = tempDir('bd');
  const engine = Engine.open({ townDir: path.join(base, 'town') });
  engines.push(engine);
  const api = typedClient(engine.client());
  for (const name of o.rigs ?? ['gastown']) {
    await api.call('rig.add', { name, path: makeRepo(path.join(base, `repo-${name}`)), prefix: name.slice(0, 2), auto_dispatch: o.autoDispatch ?? false });
  }
  return { engine, api, dir: path.join(base, 'town') };
}

const deps = (engine: Engine) =>
  engine.store.all<{ bead_id: string; depends_on_id: string; type: string }>('SELECT bead_id, depends_on_id, type FROM dependencies ORDER BY bead_id, depends_on_id, type');

describe('bd import', () => {
  it('imports work beads and convoys, skips the rest by reason, and reports the bad line', async () => {
    const { engine, api } = await openTown();
    const s = await api.call('bead.import', { path: FIXTURE });
    expect(s).toMatchObject({ rig: 'gastown', lines: 23, imported: 12, updated: 0, convoys: 2, dependencies: 14, bad_line_count: 1 });
    expect(s.skipped).toEqual({ tombstone: 2, agent: 1, role: 1, molecule: 1, 'merge-request': 1, memory: 1 });
    // Messages are mail; the handoff names a mayor this town does not have.
    expect(s.mail).toEqual({ imported: 2, updated: 0, to_absent: 1 });
    expect(s.dependencies_dropped).toEqual({ 'target not imported': 2 });
    // Where the line broke, never its text: the summary does not echo the file.
    expect(s.bad_lines).toEqual([{ line: 9, error: 'not JSON (at character 69)' }]);

    const all = await api.call('bead.list', { all: true });
    expect(all.map((b) => b.id).sort()).toEqual([...WORK, 'gt-cv1', 'gt-cv2'].sort());
    const a1 = await api.call('bead.show', { id: 'gt-a1' });
    expect(a1).toMatchObject({ rig: 'gastown', type: 'task', status: 'open', priority: 1, labels: ['backend'], origin: { kind: 'import' } });
    expect(a1.body).toBe(
      'Read the TOML config at startup.\n\n## Design\n\nUse a streaming parser.\n\n## Acceptance criteria\n\nBad keys are reported with line numbers.\n\n## Notes\n\nSee the old loader for edge cases.',
    );
    expect(a1.created_at).toBe('2026-01-21T16:28:03.388Z');
    // Live bd statuses are open here, the original kept as a label; closed stays closed.
    const byId = new Map(all.map((b) => [b.id, b]));
    expect(byId.get('gt-a2')).toMatchObject({ status: 'open', labels: ['bd:in_progress'], assignee: null, priority: 0 });
    expect(byId.get('gt-ep1.2')!.labels).toEqual(['bd:hooked']);
    expect(byId.get('gt-a5')).toMatchObject({ labels: ['bd:deferred'], priority: 4 });
    expect(byId.get('gt-a3')).toMatchObject({ status: 'closed', close_reason: 'Schema merged', closed_at: '2026-01-22T10:00:00.000Z' });

    expect(deps(engine)).toEqual([
      { bead_id: 'gt-a1', depends_on_id: 'gt-a2', type: 'blocks' },
      { bead_id: 'gt-a4', depends_on_id: 'gt-a1', type: 'related' },
      { bead_id: 'gt-a4', depends_on_id: 'gt-a2', type: 'discovered-from' },
      { bead_id: 'gt-a4', depends_on_id: 'gt-a3', type: 'blocks' },
      { bead_id: 'gt-a6', depends_on_id: 'gt-a2', type: 'relates-to' },
      { bead_id: 'gt-a6', depends_on_id: 'gt-a3', type: 'supersedes' },
      { bead_id: 'gt-a6', depends_on_id: 'gt-a4', type: 'duplicates' },
      { bead_id: 'gt-a7', depends_on_id: 'gt-a1', type: 'replies-to' },
      { bead_id: 'gt-cv1', depends_on_id: 'gt-a1', type: 'tracks' },
      { bead_id: 'gt-cv1', depends_on_id: 'gt-a2', type: 'tracks' },
      { bead_id: 'gt-cv2', depends_on_id: 'gt-a3', type: 'tracks' },
      // blocked-by: the epic waits on gt-a5, the same edge as bd's blocks.
      { bead_id: 'gt-ep1', depends_on_id: 'gt-a5', type: 'blocks' },
      { bead_id: 'gt-ep1.1', depends_on_id: 'gt-ep1', type: 'parent-child' },
      { bead_id: 'gt-ep1.2', depends_on_id: 'gt-ep1', type: 'parent-child' },
    ]);

    // Convoys from their tracks: landed when closed (and every member closed), else staged.
    const convoys = await api.call('convoy.list', {});
    expect(convoys.map((c) => [c.id, c.status, c.beads])).toEqual(
      expect.arrayContaining([
        ['gt-cv1', 'staged', ['gt-a1', 'gt-a2']],
        ['gt-cv2', 'landed', ['gt-a3']],
      ]),
    );
    // One event per batch and one for the links, never one per bead.
    const events = engine.store.all<{ type: string }>(`SELECT type FROM events WHERE type LIKE 'bead%' OR type LIKE 'convoy%' OR type LIKE 'dependency%'`);
    expect(events.map((e) => e.type)).toEqual(['beads.imported', 'beads.imported']);
  });

  it('re-imports the same file as updates, never duplicates, and keeps what the town did since', async () => {
    const { engine, api } = await openTown();
    await api.call('bead.import', { path: FIXTURE });
    await api.call('bead.update', { id: 'gt-a1', title: 'Renamed here' });
    await api.call('bead.close', { id: 'gt-a4', reason: 'done here' });
    const before = { beads: engine.store.get<{ n: number }>('SELECT count(*) AS n FROM beads')!.n, deps: deps(engine), members: engine.store.all('SELECT * FROM convoy_members ORDER BY convoy_id, position') };

    const unread = (await api.call('mail.inbox', { unread: true })).map((m) => m.id);
    await api.call('mail.read', { id: unread[0]! });
    const mailBefore = engine.store.all('SELECT * FROM mail ORDER BY id');

    const again = await api.call('bead.import', { path: FIXTURE });
    expect(again).toMatchObject({ imported: 0, updated: 12, convoys: 0, dependencies: 14, mail: { imported: 0, updated: 2 } });
    // The same messages, not copies, and one the overseer read since stays read.
    expect(engine.store.all('SELECT * FROM mail ORDER BY id')).toEqual(mailBefore);
    expect(await api.call('mail.inbox', { unread: true })).toEqual([]);
    expect(engine.store.get<{ n: number }>('SELECT count(*) AS n FROM beads')!.n).toBe(before.beads);
    expect(deps(engine)).toEqual(before.deps);
    expect(engine.store.all('SELECT * FROM convoy_members ORDER BY convoy_id, position')).toEqual(before.members);
    // Content follows the file; a bead the town closed stays closed (terminal beads change only by reopen).
    expect((await api.call('bead.show', { id: 'gt-a1' })).title).toBe('Parse the config file');
    expect(await api.call('bead.show', { id: 'gt-a4' })).toMatchObject({ status: 'closed', close_reason: 'done here' });
  });

  it('takes bd messages in as mail: sender, recipient, thread, reply and read state', async () => {
    const { api } = await openTown();
    await api.call('bead.import', { path: FIXTURE });
    // Not beads: a message never shows on the Board or waits on anything.
    expect((await api.call('bead.list', { all: true })).map((b) => b.id)).not.toContain('gt-msg1');
    // bd's own shape: no recipient (the overseer's), the sender who created it, a reply by replies-to.
    const inbox = await api.call('mail.inbox', { unread: true });
    expect(inbox).toEqual([
      expect.objectContaining({ from: 'mayor', to: 'overseer', subject: 'Re: config defaults', body: 'Use 4 spaces.', kind: 'reply', priority: 'normal', read_at: null, created_at: '2026-01-21T16:28:03.388Z' }),
    ]);
    // Gas Town's shape: from:/thread:/msg-type: labels, `mayor/` as recipient, closed = read.
    const all = await api.call('town.snapshot', {});
    const handoff = all.mail.find((m) => m.subject === 'Handoff: config crash');
    expect(handoff).toMatchObject({ from: 'gastown/nux', to: 'mayor', kind: 'task', priority: 'high', read_at: '2026-01-22T11:00:00.000Z' });
  });

  it('addresses a Gas Town polecat\'s mail to the agent of that name here', async () => {
    const { engine, api } = await openTown();
    const now = engine.store.now();
    engine.store.run(`INSERT INTO agents (id, role, rig_id, name, status, created_at, updated_at) VALUES ('gastown/polecats/nux', 'polecat', 'gastown', 'nux', 'idle', ?, ?)`, now, now);
    const file = path.join(tempDir('bd-mail'), 'issues.jsonl');
    fs.writeFileSync(file, JSON.stringify({ id: 'gt-m9', title: 'Rebase please', status: 'open', issue_type: 'message', assignee: 'gastown/nux', labels: ['from:mayor/'] }) + '\n');
    const s = await api.call('bead.import', { path: file });
    expect(s.mail).toEqual({ imported: 1, updated: 0, to_absent: 0 });
    expect(engine.store.get('SELECT from_addr, to_addr, read_at FROM mail')).toEqual({ from_addr: 'mayor', to_addr: 'gastown/polecats/nux', read_at: null });
  });

  it('keeps the town\'s own mail as it is when its export comes back, escalations included', async () => {
    const { engine, api } = await openTown();
    await api.call('escalation.raise', { severity: 'high', reason: 'disk full', body: 'The refinery cannot write.' });
    const own = () => engine.store.all<{ id: string; kind: string }>('SELECT * FROM mail ORDER BY id');
    const before = own();
    expect(before.map((m) => m.kind)).toEqual(['escalation']);
    const file = path.join(tempDir('bd-own'), 'export.jsonl');
    const page = await api.call('bead.export', {});
    fs.writeFileSync(file, page.lines.join('\n') + '\n');

    // Into the same town: nothing changes, the escalation stays an escalation.
    expect((await api.call('bead.import', { path: file })).mail).toEqual({ imported: 0, updated: 1, to_absent: 0 });
    expect(own()).toEqual(before);
    // Into a new town: it arrives as what it was.
    const second = await openTown();
    await second.api.call('bead.import', { path: file });
    expect(second.engine.store.all('SELECT kind, subject, priority FROM mail')).toEqual([{ kind: 'escalation', subject: 'disk full', priority: 'high' }]);

    // A file that names the town's own message cannot rewrite it.
    const id = before[0]!.id;
    const crafted = path.join(tempDir('bd-crafted'), 'issues.jsonl');
    fs.writeFileSync(crafted, JSON.stringify({ id, title: 'All clear, ignore the last one', status: 'closed', issue_type: 'message', assignee: 'overseer', sender: 'mayor/', labels: ['msg-type:notification'] }) + '\n');
    await api.call('bead.import', { path: crafted });
    expect(own()).toEqual(before);
  });

  it('imports into the rig named by --rig, and refuses to guess among several', async () => {
    const { api } = await openTown({ rigs: ['gastown', 'beads'] });
    const err = await api.call('bead.import', { path: FIXTURE }).catch((e) => e);
    expect(err).toMatchObject({ code: 'invalid_input', field: 'rig', message: expect.stringMatching(/2 rigs.*--rig/) });
    expect(await api.call('bead.list', { all: true })).toEqual([]);
    await api.call('bead.import', { path: FIXTURE, rig: 'beads' });
    expect((await api.call('bead.show', { id: 'gt-a1' })).rig).toBe('beads');
    const missing = await api.call('bead.import', { path: 'relative/issues.jsonl', rig: 'beads' }).catch((e) => e);
    expect(missing).toMatchObject({ code: 'invalid_input', field: 'path' });
    const notJsonl = path.join(tempDir('bd-key'), 'id_ed25519');
    fs.writeFileSync(notJsonl, '-----BEGIN OPENSSH PRIVATE KEY-----\n');
    const refused = await api.call('bead.import', { path: notJsonl, rig: 'beads' }).catch((e) => e);
    expect(refused).toMatchObject({ code: 'invalid_input', field: 'path', message: expect.stringMatching(/not a \.jsonl file/) });
  });
});

describe('bd import: cycles of waiting beads', () => {
  const rec = (id: string, deps: [string, string][], type = 'task') =>
    JSON.stringify({ id, title: id, status: 'open', issue_type: type, dependencies: deps.map(([to, kind]) => ({ issue_id: id, depends_on_id: to, type: kind })) });
  function cyclicFile() {
    const file = path.join(tempDir('bd-cycle'), 'issues.jsonl');
    fs.writeFileSync(file, [
      rec('gt-c1', [['gt-c2', 'blocks']]),
      rec('gt-c2', [['gt-c3', 'blocks']]),
      rec('gt-c3', [['gt-c1', 'blocks']]),
      rec('gt-p1', [['gt-p2', 'blocked-by']], 'epic'),
      rec('gt-p2', [['gt-p1', 'parent-child']]),
      rec('gt-ok', [['gt-c1', 'blocks'], ['gt-p1', 'related']]),
    ].join('\n') + '\n');
    return file;
  }

  it('drops the dependency that closes a cycle, says where and which, and keeps the beads', async () => {
    const { engine, api } = await openTown();
    const s = await api.call('bead.import', { path: cyclicFile() });
    expect(s).toMatchObject({ imported: 6, dependencies: 5, dependencies_dropped: { cycle: 2 }, cycle_count: 2 });
    expect(s.cycles).toEqual([
      { line: 3, dependency: 'gt-c3 blocks on gt-c1', cycle: 'gt-c3 → gt-c1 → gt-c2 → gt-c3' },
      // A child waits on its parent's blockers: under a parent that waits on it, it never could start.
      { line: 5, dependency: 'gt-p2 is a child of gt-p1', cycle: 'gt-p2 → gt-p1 → gt-p2' },
    ]);
    expect(deps(engine).filter((d) => d.type !== 'related')).toEqual([
      { bead_id: 'gt-c1', depends_on_id: 'gt-c2', type: 'blocks' },
      { bead_id: 'gt-c2', depends_on_id: 'gt-c3', type: 'blocks' },
      { bead_id: 'gt-ok', depends_on_id: 'gt-c1', type: 'blocks' },
      { bead_id: 'gt-p1', depends_on_id: 'gt-p2', type: 'blocks' },
    ]);
    expect(engine.store.get('SELECT parent_id FROM beads WHERE id = ?', 'gt-p2')).toEqual({ parent_id: null });
    // The chain can be worked now: its last bead first.
    expect((await api.call('bead.list', { ready: true })).map((b) => b.id).sort()).toEqual(['gt-c3', 'gt-p2']);
    // Importing it again finds the same cycles, not new dependencies.
    const again = await api.call('bead.import', { path: cyclicFile() });
    expect(again.cycles.map((c) => c.line)).toEqual([3, 5]);
    expect(deps(engine)).toHaveLength(5);
  });

  it('lists the first 100 cycles and counts them all', async () => {
    const { api } = await openTown();
    const file = path.join(tempDir('bd-cycles'), 'issues.jsonl');
    const lines: string[] = [];
    for (let i = 0; i < 150; i++) lines.push(rec(`gt-x${i}`, [[`gt-y${i}`, 'blocks']]), rec(`gt-y${i}`, [[`gt-x${i}`, 'blocks']]));
    fs.writeFileSync(file, lines.join('\n') + '\n');
    const s = await api.call('bead.import', { path: file });
    expect(s).toMatchObject({ imported: 300, cycle_count: 150, dependencies_dropped: { cycle: 150 } });
    expect(s.cycles).toHaveLength(100);
    expect(s.cycles[99]).toEqual({ line: 200, dependency: 'gt-y99 blocks on gt-x99', cycle: 'gt-y99 → gt-x99 → gt-y99' });
  });

  it('stops at the cycle under --strict, with nothing imported', async () => {
    const { api } = await openTown();
    const err = await api.call('bead.import', { path: cyclicFile(), strict: true }).catch((e) => e);
    expect(err).toMatchObject({ code: 'invalid_input', field: 'path', message: 'line 3: gt-c3 blocks on gt-c1 would close the cycle gt-c3 → gt-c1 → gt-c2 → gt-c3 (--strict: nothing imported)' });
    expect(await api.call('bead.list', { all: true })).toEqual([]);
    // And the town takes the next import.
    expect((await api.call('bead.import', { path: FIXTURE })).imported).toBe(12);
  });

  it('refuses the same cycle through town bead dep add, parent included', async () => {
    const { api } = await openTown();
    const a = await api.call('bead.create', { title: 'a', rig: 'gastown' });
    const b = await api.call('bead.create', { title: 'b', rig: 'gastown', parent: a.id });
    const err = await api.call('dep.add', { bead: a.id, depends_on: b.id }).catch((e) => e);
    expect(err).toMatchObject({ code: 'conflict', message: expect.stringContaining(`${a.id} → ${b.id} → ${a.id}`) });
  });
});

describe('bd import from the window (a dropped file, sent in chunks)', () => {
  it('gives the same town and summary as the file import, one import at a time', async () => {
    const { engine, api } = await openTown();
    const lines = fs.readFileSync(FIXTURE, 'utf8').split('\n');
    if (lines.at(-1) === '') lines.pop();
    const { import: id, rig } = await api.call('bead.import_begin', { name: 'issues.jsonl' });
    expect(rig).toBe('gastown');
    const busy = await api.call('bead.import_begin', { name: 'other.jsonl' }).catch((e) => e);
    expect(busy).toMatchObject({ code: 'conflict' });
    for (let i = 0; i < lines.length; i += 5) expect((await api.call('bead.import_lines', { import: id, lines: lines.slice(i, i + 5) })).lines).toBe(Math.min(i + 5, lines.length));
    const s = await api.call('bead.import_finish', { import: id });
    expect(s).toMatchObject({ imported: 12, convoys: 2, dependencies: 14, bad_line_count: 1, bad_lines: [{ line: 9 }], mail: { imported: 2 } });
    expect(s.skipped).toEqual({ tombstone: 2, agent: 1, role: 1, molecule: 1, 'merge-request': 1, memory: 1 });
    expect(deps(engine)).toHaveLength(14);
    // Finished: its id is spent, and the next import may begin.
    expect(await api.call('bead.import_lines', { import: id, lines: [] }).catch((e) => e)).toMatchObject({ code: 'not_found', field: 'import' });
    await api.call('bead.import_begin', { name: 'again.jsonl' });
    expect(await api.call('bead.import_begin', { name: 'notes.txt' }).catch((e) => e)).toMatchObject({ field: 'path' });
  });
});

describe('the ready rule', () => {
  it('is the same list for bead list --ready, each bead\'s ready flag and the dispatcher', async () => {
    const { engine, api } = await openTown({ autoDispatch: true });
    await api.call('bead.import', { path: FIXTURE });
    const ready = (await api.call('bead.list', { ready: true })).map((b) => b.id);
    // Blocked by an open bead (a1), a parent blocked (ep1.1, ep1.2 under ep1), closed (a3) are out;
    // related/duplicates/... never block (a4, a6, a7), nor a dependency on a record not imported (a5).
    expect(ready.sort()).toEqual([...READY].sort());
    const flagged = (await api.call('bead.list', { all: true })).filter((b) => b.ready).map((b) => b.id);
    expect(flagged.sort()).toEqual([...READY].sort());
    const dispatchable = dispatchable100(engine.store).map((c) => c.bead.id);
    expect(dispatchable.sort()).toEqual([...READY].sort());

    // Closing the blocker frees the epic and, with it, its children (their flags follow).
    await api.call('bead.close', { id: 'gt-a5' });
    const after = (await api.call('bead.list', { ready: true })).map((b) => b.id);
    expect(after).toEqual(expect.arrayContaining(['gt-ep1', 'gt-ep1.1', 'gt-ep1.2']));
    expect((await api.call('bead.show', { id: 'gt-ep1.1' })).ready).toBe(true);
    const freed = dispatchable100(engine.store).map((c) => c.bead.id);
    expect(freed).toEqual(expect.arrayContaining(['gt-ep1.1', 'gt-ep1.2']));
    // The epic is ready work on the Board, but its children deliver it: no agent takes it.
    expect(freed).not.toContain('gt-ep1');
  });

  it('starts nothing on an auto-dispatch rig until the import has linked every dependency', async () => {
    const { engine, api } = await openTown({ autoDispatch: true });
    const line = (id: string, deps: string[] = []) =>
      JSON.stringify({ id, title: id, status: 'open', issue_type: 'task', dependencies: deps.map((d) => ({ issue_id: id, depends_on_id: d, type: 'blocks' })) });
    const { import: id } = await api.call('bead.import_begin', { name: 'issues.jsonl' });
    // The waiting bead comes first; the bead it waits on, in a later batch.
    await api.call('bead.import_lines', { import: id, lines: [line('gt-later', ['gt-first'])] });
    expect(dispatchable100(engine.store)).toEqual([]);
    expect((await api.call('bead.show', { id: 'gt-later' })).held_reason).toMatch(/importing/);
    await api.call('bead.import_lines', { import: id, lines: [line('gt-first')] });
    expect(dispatchable100(engine.store)).toEqual([]);
    await api.call('bead.import_finish', { import: id });
    expect(dispatchable100(engine.store).map((c) => c.bead.id)).toEqual(['gt-first']);
    expect((await api.call('bead.show', { id: 'gt-later' })).held_reason).toBeNull();
  });
});

describe('town import / town export (CLI)', () => {
  it('prints the summary, stops at the bad line under --strict, and round-trips through export', async () => {
    const { engine, dir } = await openTown();
    engine.closeOffline();
    engines.splice(engines.indexOf(engine), 1);

    const strict = await town(dir, ['import', FIXTURE, '--strict']);
    expect(strict.code).not.toBe(0);
    expect(strict.stderr).toMatch(/line 9: not JSON.*nothing imported/);
    expect(await townJson(dir, 'bead', 'list', '--all')).toEqual([]);

    const plain = await town(dir, ['import', FIXTURE]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain('imported 12, updated 0 beads into rig gastown');
    expect(plain.stdout).toMatch(/skipped: tombstone 2, .*molecule 1/);
    expect(plain.stdout).not.toMatch(/skipped:.*message/);
    expect(plain.stdout).toContain('mail imported 2, updated 0 (1 to recipients not in this town)');
    expect(plain.stdout).toContain('dependencies kept 14; dropped: target not imported 2');
    expect(plain.stdout).toContain('line 9: not JSON');
    const ready = await townJson<{ id: string }[]>(dir, 'bead', 'list', '--ready');
    expect(ready.map((b) => b.id).sort()).toEqual([...READY].sort());

    // Export, then import into a new town: every bead, dependency and convoy comes back.
    const out = path.join(tempDir('bd-out'), 'export.jsonl');
    const exported = await town(dir, ['export', '--out', out, '--json']);
    expect(JSON.parse(exported.stdout)).toMatchObject({ beads: 12, mail: 2 });
    const stdout = await town(dir, ['export']);
    expect(stdout.stdout).toBe(fs.readFileSync(out, 'utf8'));

    const second = await openTown();
    const s = await second.api.call('bead.import', { path: out });
    expect(s).toMatchObject({ imported: 12, dependencies: 14, convoys: 2, bad_line_count: 0, skipped: {}, dependencies_dropped: {}, mail: { imported: 2, updated: 0 } });
    const original = await typedClient(reopen(dir).client()).call('bead.list', { all: true });
    const copy = await second.api.call('bead.list', { all: true });
    const shape = (bs: typeof copy) =>
      bs.map((b) => ({ id: b.id, type: b.type, title: b.title, body: b.body, status: b.status, priority: b.priority, labels: b.labels, ready: b.ready, created_at: b.created_at, closed_at: b.closed_at, close_reason: b.close_reason, depends_on: b.depends_on }));
    expect(shape(copy)).toEqual(shape(original));
    expect(deps(second.engine)).toEqual(deps(engines.at(-1)!));
    expect((await second.api.call('convoy.list', {})).map((c) => [c.id, c.status, c.beads])).toEqual(
      (await typedClient(engines.at(-1)!.client()).call('convoy.list', {})).map((c) => [c.id, c.status, c.beads]),
    );
    // Mail travels as message records: same ids, senders, recipients, threads and read state.
    const mailRows = (e: Engine) => e.store.all('SELECT id, from_addr, to_addr, subject, body, priority, kind, thread_id, reply_to, bd_id, created_at, read_at FROM mail ORDER BY id');
    expect(mailRows(second.engine)).toEqual(mailRows(engines.at(-1)!));
    expect(mailRows(second.engine)).toHaveLength(2);
  });

  it('counts what it exported by record, not by what a bead\'s text happens to hold', async () => {
    const { engine, api, dir } = await openTown();
    const file = path.join(tempDir('bd-meta'), 'issues.jsonl');
    fs.writeFileSync(file, JSON.stringify({ id: 'gt-t1', title: 'Looks like mail inside', status: 'open', issue_type: 'task', metadata: { issue_type: 'message' } }) + '\n');
    await api.call('bead.import', { path: file });
    engine.closeOffline();
    engines.splice(engines.indexOf(engine), 1);
    const out = path.join(tempDir('bd-meta-out'), 'export.jsonl');
    const exported = await town(dir, ['export', '--out', out, '--json']);
    expect(fs.readFileSync(out, 'utf8')).toContain('"issue_type":"message"');
    expect(JSON.parse(exported.stdout)).toMatchObject({ beads: 1, mail: 0 });
  });
});

function reopen(dir: string): Engine {
  const e = Engine.open({ townDir: dir });
  engines.push(e);
  return e;
}
