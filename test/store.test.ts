// The store on real SQLite files: migrations, backups, ids, cycles, origins, the change feed.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { typedClient } from '../src/shared/api';
import type { Patch } from '../src/shared/domain';
import { ApiError } from '../src/shared/errors';
import { Engine } from '../src/main/engine/engine';
import { beadIdLength, newBeadId } from '../src/main/store/bead-ids';
import { openDatabase, SchemaTooNewError } from '../src/main/store/database';
import { MIGRATIONS } from '../src/main/store/migrations';
import { makeRepo } from './helpers/repo';
import { removeTempDirs, tempDir } from './helpers/town';

afterEach(() => removeTempDirs());

describe('town.db', () => {
  it('is created with WAL, foreign keys and every migration recorded', () => {
    const file = path.join(tempDir('db'), 'town.db');
    const db = openDatabase(file);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    const versions = db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[];
    expect(versions.map((v) => v.version)).toEqual(MIGRATIONS.map((m) => m.version));
    const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[]).map((t) => t.name);
    for (const t of ['rigs', 'beads', 'dependencies', 'convoys', 'convoy_members', 'agents', 'sessions', 'merge_requests', 'mail', 'events']) {
      expect(tables).toContain(t);
    }
    db.close();
  });

  it('refuses a database with a migration it does not know, leaving the file untouched', () => {
    const file = path.join(tempDir('db'), 'town.db');
    openDatabase(file).close();
    const raw = new Database(file);
    raw.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, ?, 0)').run('from the future');
    raw.close();
    const before = fs.readFileSync(file);
    expect(() => openDatabase(file)).toThrow(SchemaTooNewError);
    expect(() => openDatabase(file)).toThrow(/newer Overseer.*999/);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  });

  it('backs up a database of the previous release before applying this release\'s migrations', () => {
    const dir = tempDir('db');
    const file = path.join(dir, 'town.db');
    // A town written by the release before refinery intents (schema v1).
    const db = openDatabase(file, { migrations: MIGRATIONS.filter((m) => m.version === 1) });
    db.prepare(`INSERT INTO settings (key, value) VALUES ('marker', '"kept"')`).run();
    db.close();
    let backup = '';
    const migrated = openDatabase(file, { onBackup: (b) => (backup = b) });
    expect(migrated.prepare(`SELECT value FROM settings WHERE key = 'marker'`).get()).toEqual({ value: '"kept"' });
    expect(migrated.prepare(`SELECT count(*) AS n FROM refinery_intents`).get()).toEqual({ n: 0 });
    migrated.close();
    expect(backup).toMatch(/town\.db\.backup-v1-/);
    const copy = new Database(backup, { readonly: true });
    expect(copy.prepare(`SELECT value FROM settings WHERE key = 'marker'`).get()).toEqual({ value: '"kept"' });
    expect(copy.prepare('SELECT max(version) AS v FROM schema_migrations').get()).toEqual({ v: 1 });
    copy.close();
  });

  it('rejects a bead without an origin at the schema level', () => {
    const db = openDatabase(path.join(tempDir('db'), 'town.db'));
    expect(() =>
      db.prepare(`INSERT INTO beads (id, title, origin_kind, origin_id, created_at, updated_at) VALUES ('x-1', 't', '', '', 0, 0)`).run(),
    ).toThrow(/CHECK constraint/);
    db.close();
  });
});

describe('bead ids', () => {
  it('grow from 4 to 5 to 6 characters as the town grows', () => {
    expect(beadIdLength(0)).toBe(4);
    expect(beadIdLength(1_999)).toBe(4);
    expect(beadIdLength(2_000)).toBe(5);
    expect(beadIdLength(60_000)).toBe(6);
    expect(newBeadId('ov', 10, () => false)).toMatch(/^ov-[0-9a-z]{4}$/);
    expect(newBeadId('ov', 5_000, () => false)).toMatch(/^ov-[0-9a-z]{5}$/);
    expect(newBeadId('ov', 100_000, () => false)).toMatch(/^ov-[0-9a-z]{6}$/);
  });

  it('never reuse an existing id', () => {
    const taken = new Set<string>();
    for (let i = 0; i < 3000; i++) taken.add(newBeadId('ov', 0, (id) => taken.has(id)));
    expect(taken.size).toBe(3000);
  });
});

describe('engine API in process', () => {
  async function openTown() {
    const base = tempDir('api');
    const repo = makeRepo(path.join(base, 'repo'));
    const engine = Engine.open({ townDir: path.join(base, 'town') });
    const town = typedClient(engine.client());
    await town.call('rig.add', { name: 'app', path: repo, prefix: 'ap' });
    return { engine, town };
  }

  it('publishes revisioned patches after each commit and a snapshot with its revision', async () => {
    const { engine, town } = await openTown();
    const seen: Patch[] = [];
    engine.store.onPatches((p) => seen.push(...p));
    const a = await town.call('bead.create', { rig: 'app', title: 'first' });
    const b = await town.call('bead.create', { rig: 'app', title: 'second', after: [a.id] });
    const revisions = seen.map((p) => p.revision);
    expect(revisions).toEqual([...revisions].sort((x, y) => x - y));
    expect(new Set(revisions).size).toBe(revisions.length);
    const lastB = seen.filter((p) => p.kind === 'bead' && p.id === b.id).at(-1)!;
    expect(lastB.value).toMatchObject({ id: b.id, blocked_by: [a.id] });
    const snap = await town.call('town.snapshot', {});
    expect(snap.revision).toBe(revisions.at(-1));
    expect(snap.beads.map((x) => x.id)).toEqual(expect.arrayContaining([a.id, b.id]));
    engine.closeOffline();
  });

  it('lets an agent act only for itself', async () => {
    const { engine, town } = await openTown();
    const agentTown = typedClient(engine.client({ kind: 'agent', agentId: 'app/refinery' }));
    const err = await agentTown.call('rig.list', {}).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.code).toBe('forbidden');
    const bead = await town.call('bead.create', { rig: 'app', title: 'mine?' });
    const done = await agentTown.call('agent.done', { bead: bead.id }).catch((e) => e);
    expect(done.code).toBe('stale');
    expect((await town.call('bead.show', { id: bead.id })).status).toBe('open');
    engine.closeOffline();
  });

  it('refuses a second core on the same town', async () => {
    const { engine } = await openTown();
    expect(() => Engine.open({ townDir: engine.paths.dir })).toThrow(/already served by process/);
    engine.closeOffline();
  });
});
