// `town demo DIR`: a small town to explore. A sample repository with a test gate, a few
// beads (one waiting on another, one that asks before it proceeds) and two staged convoys, the
// second showing each way a merge fails and comes back. Nothing runs until it is started.
import fs from 'node:fs';
import path from 'node:path';
import { typedClient } from '../../shared/api';
import { Engine } from '../engine/engine';
import { git } from '../git/git-cli';

const TEST_SCRIPT = `#!/bin/sh
# The sample rig's test gate: every work note must have a title line; any work/*.fail is a
# failing test; a work/*.flaky file fails the first run that sees it, then passes (the seen
# ones are kept in the repository's git dir, outside every worktree).
set -e
for f in work/*.md; do
  [ -e "$f" ] || continue
  head -n 1 "$f" | grep -q '^# ' || { echo "FAIL: $f has no title"; exit 1; }
  echo "ok   $f"
done
for f in work/*.fail; do
  [ -e "$f" ] || continue
  echo "FAIL: $f: the tests fail with this change"; exit 1
done
seen="$(git rev-parse --git-common-dir)/demo-flaky-seen"
for f in work/*.flaky; do
  [ -e "$f" ] || continue
  if ! grep -qxF "$f" "$seen" 2>/dev/null; then
    echo "$f" >> "$seen"
    echo "FAIL: $f: timed out talking to the test server (flaky)"; exit 1
  fi
  echo "ok   $f (flaky, passed this time)"
done
echo "all checks passed"
`;

export async function createSampleRepo(dir: string): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  await git(dir, ['init', '-q', '-b', 'main']);
  fs.writeFileSync(path.join(dir, 'README.md'), '# sample-app\n\nA small repository for the Overseer demo town.\n');
  fs.writeFileSync(path.join(dir, 'test.sh'), TEST_SCRIPT, { mode: 0o755 });
  fs.mkdirSync(path.join(dir, 'work'));
  fs.writeFileSync(path.join(dir, 'work', '.keep'), '');
  await git(dir, ['add', '.']);
  await git(dir, ['commit', '-q', '-m', 'Initial commit']);
  return dir;
}

export interface DemoTown {
  townDir: string;
  repo: string;
  convoy: string;
  beads: string[];
  /** The second staged convoy: every way a merge can go wrong, and back. */
  rework: { convoy: string; beads: string[] };
}

export async function createDemoTown(dir: string): Promise<DemoTown> {
  const townDir = path.resolve(dir);
  if (fs.existsSync(path.join(townDir, 'town.db'))) throw new Error(`${townDir} already holds a town`);
  const repo = await createSampleRepo(path.join(townDir, 'repos', 'sample-app'));
  const engine = Engine.open({ townDir });
  try {
    const town = typedClient(engine.client());
    await town.call('rig.add', { name: 'sample', path: repo, test: 'sh test.sh', max_polecats: 3, prefix: 'sa' });
    // Every failure path of the refinery: two beads that conflict (the second is resolved by its
    // polecat), one that fails the tests until fixed, one the gate is flaky on, and one that is
    // fine. Staged first, so the planner opens on the newer "First release".
    const rework = [
      await town.call('bead.create', { rig: 'sample', title: 'Add the changelog entry for 1.1', scenario: 'conflict' }),
      await town.call('bead.create', { rig: 'sample', title: 'Add the changelog entry for the API', scenario: 'conflict' }),
      await town.call('bead.create', { rig: 'sample', title: 'Speed up the login query', scenario: 'fail-tests' }),
      await town.call('bead.create', { rig: 'sample', title: 'Cache the session lookups', scenario: 'flaky' }),
      await town.call('bead.create', { rig: 'sample', title: 'Tidy the settings page' }),
    ].map((b) => b.id);
    const second = await town.call('convoy.create', { title: 'Second release (conflicts, failing tests, a flaky gate)', beads: rework });
    const health = await town.call('bead.create', { rig: 'sample', title: 'Add a health check endpoint', priority: 1 });
    const docs = await town.call('bead.create', { rig: 'sample', title: 'Document the health check', after: [health.id] });
    const typo = await town.call('bead.create', { rig: 'sample', title: 'Fix the typo on the login page', priority: 3 });
    // In the convoy so that starting it shows, within seconds, an agent waiting for the overseer.
    const confirm = await town.call('bead.create', { rig: 'sample', title: 'Rotate the API keys (asks first)', priority: 1, scenario: 'needs-input' });
    const convoy = await town.call('convoy.create', { title: 'First release', beads: [confirm.id, health.id, docs.id, typo.id] });
    return { townDir, repo, convoy: convoy.id, beads: [confirm.id, health.id, docs.id, typo.id], rework: { convoy: second.id, beads: rework } };
  } finally {
    engine.closeOffline();
  }
}
