// The town the real-Claude tests start from: one `claude` rig on a new repository, and a HOME
// of the test's own (snapshotted by the tests: nothing may land there).
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { makeRepo } from './repo';
import { tempDir, town, townJson } from './town';

/** Rig `app` (prefix ap, gate `test -f README.md`, runtime claude) with `rigArgs` added; `before` runs ahead of the rig. */
export async function claudeRigTown(label: string, rigArgs: string[], before?: (dir: string) => Promise<void>) {
  const base = tempDir(label);
  const home = path.join(base, 'home');
  fs.mkdirSync(home, { recursive: true });
  const dir = path.join(base, 'town');
  const repo = makeRepo(path.join(base, 'repo'));
  expect((await town(dir, ['init', dir])).code).toBe(0);
  await before?.(dir);
  await townJson(dir, 'rig', 'add', 'app', repo, '--test', 'test -f README.md', '--runtime', 'claude', '--prefix', 'ap', ...rigArgs);
  return { base, home, dir, repo };
}
