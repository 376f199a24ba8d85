// Opening town.db: WAL, foreign keys, forward-only migrations with a backup first.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import { MIGRATIONS, type Migration } from './migrations';

export type Db = Database.Database;

export class SchemaTooNewError extends Error {
  constructor(file: string, unknown: number[]) {
    super(
      `${file} was written by a newer Overseer (schema migration ${unknown.join(', ')} is unknown to this version). ` +
        'Upgrade Overseer to open it; the file was not changed.',
    );
    this.name = 'SchemaTooNewError';
  }
}

/**
 * Electron and Node need better-sqlite3 built for different ABIs. The Electron shell
 * points this at its own copy (built beside the Node one), so neither build evicts the other.
 */
function nativeBinding(): string | undefined {
  const file = process.env.OVERSEER_SQLITE_BINDING;
  return file && fs.existsSync(file) ? file : undefined;
}

export interface OpenOptions {
  migrations?: Migration[];
  /** Called with the backup path when an existing DB was copied before migrating. */
  onBackup?: (backupPath: string) => void;
}

export function openDatabase(file: string, options: OpenOptions = {}): Db {
  const migrations = options.migrations ?? MIGRATIONS;
  const existed = fs.existsSync(file) && fs.statSync(file).size > 0;
  const db = new Database(file, { nativeBinding: nativeBinding() });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    migrate(db, file, existed, migrations, options.onBackup);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

function migrate(db: Db, file: string, existed: boolean, migrations: Migration[], onBackup?: (p: string) => void) {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  const applied = new Set((db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version));
  const known = new Set(migrations.map((m) => m.version));
  const unknown = [...applied].filter((v) => !known.has(v)).sort((a, b) => a - b);
  if (unknown.length > 0) throw new SchemaTooNewError(file, unknown);

  const pending = migrations.filter((m) => !applied.has(m.version)).sort((a, b) => a.version - b.version);
  if (pending.length === 0) return;

  if (existed && applied.size > 0) {
    const backup = `${file}.backup-v${Math.max(...applied)}-${Date.now()}`;
    db.pragma('wal_checkpoint(TRUNCATE)');
    // VACUUM INTO writes a consistent copy even while the WAL holds pages.
    db.prepare('VACUUM INTO ?').run(backup);
    onBackup?.(backup);
  }

  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const m of pending) {
    db.transaction(() => {
      db.exec(m.sql);
      record.run(m.version, m.name, Date.now());
    })();
  }
}
