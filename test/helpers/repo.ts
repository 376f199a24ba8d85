// Real git repositories for tests.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export function gitIn(dir: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' },
  }).trim();
}

/** A repo on `main` with a test gate script that checks every work note has a title. */
export function makeRepo(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  gitIn(dir, 'init', '-q', '-b', 'main');
  fs.writeFileSync(path.join(dir, 'README.md'), '# test repo\n');
  fs.writeFileSync(
    path.join(dir, 'check.sh'),
    '#!/bin/sh\nset -e\nfor f in work/*.md; do [ -e "$f" ] || continue; head -n1 "$f" | grep -q "^# "; echo "ok $f"; done\necho gate passed\n',
  );
  gitIn(dir, 'add', '.');
  gitIn(dir, 'commit', '-q', '-m', 'init');
  return dir;
}
