// Which file changes make the refinery run the rig's setup again.
import { describe, expect, it } from 'vitest';
import { api } from '../src/shared/api';
import { DEFAULT_SETUP_WATCH, setupWatchOf, watchMatcher } from '../src/shared/setup-watch';
import { setupReason } from '../src/main/refinery/refinery-worktree';

describe('the files the refinery watches for its setup', () => {
  it('matches lockfiles by name in any folder, and a glob with a folder from the root', () => {
    const byDefault = watchMatcher(DEFAULT_SETUP_WATCH);
    for (const f of ['package-lock.json', 'web/package-lock.json', 'requirements.txt', 'svc/requirements-dev.txt', 'Cargo.lock', 'go.sum']) {
      expect(byDefault(f), f).toBe(true);
    }
    for (const f of ['package.json', 'src/lock.ts', 'requirements.txt.bak', 'docs/requirements/notes.md', 'go.mod']) {
      expect(byDefault(f), f).toBe(false);
    }
    const rooted = watchMatcher(['tools/*.lock', 'services/**/go.sum']);
    expect(rooted('tools/a.lock')).toBe(true);
    expect(rooted('x/tools/a.lock')).toBe(false);
    expect(rooted('tools/sub/a.lock')).toBe(false);
    expect(rooted('services/go.sum')).toBe(true);
    expect(rooted('services/api/v2/go.sum')).toBe(true);
  });

  it('uses the default list until the rig names its own', () => {
    expect(setupWatchOf({ setup_watch: null })).toEqual([...DEFAULT_SETUP_WATCH]);
    expect(setupWatchOf({ setup_watch: '["package.json"]' })).toEqual(['package.json']);
    expect(setupWatchOf({ setup_watch: '[]' })).toEqual([]);
  });

  it('runs setup first, when the command changes, and when a watched file changes, appears or goes', () => {
    const prior = { setup_command: 'npm ci', watched: JSON.stringify({ 'package-lock.json': 'aaa' }) };
    expect(setupReason(undefined, 'npm ci', {})).toMatch(/first setup/);
    expect(setupReason(prior, 'npm ci', { 'package-lock.json': 'aaa' })).toBeNull();
    expect(setupReason(prior, 'npm install', { 'package-lock.json': 'aaa' })).toMatch(/command changed/);
    expect(setupReason(prior, 'npm ci', { 'package-lock.json': 'bbb' })).toBe('package-lock.json changed');
    expect(setupReason(prior, 'npm ci', { 'package-lock.json': 'aaa', 'web/package-lock.json': 'ccc' })).toBe('web/package-lock.json changed');
    expect(setupReason(prior, 'npm ci', {})).toBe('package-lock.json changed');
  });

  it('refuses a glob that leaves the repository, naming the field', () => {
    const r = api['rig.update'].input.safeParse({ name: 'app', setup_watch: ['../outside.lock'] });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0].path).toEqual(['setup_watch', 0]);
    expect(api['rig.update'].input.safeParse({ name: 'app', setup_watch: null }).success).toBe(true);
  });
});
