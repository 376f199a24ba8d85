// `town demo DIR`: a small town to explore. A sample repository with a test gate, a few
// beads (one waiting on another, one that asks before it proceeds) and one staged convoy. Nothing runs until it is started.
import fs from 'node:fs';
import path from 'node:path';
import { typedClient } from '../../shared/api';
import { Engine } from '../engine/engine';
import { git } from '../git/git-cli';

const TEST_SCRIPT = `#!/bin/sh
# The sample rig's test gate: every work note must have a title line.
set -e
for f in work/*.md; do
  [ -e "$f" ] || continue
  head -n 1 "$f" | grep -q '^# ' || { echo "FAIL: $f has no title"; exit 1; }
  echo "ok   $f"
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
}

export async function createDemoTown(dir: string): Promise<DemoTown> {
  const townDir = path.resolve(dir);
  if (fs.existsSync(path.join(townDir, 'town.db'))) throw new Error(`${townDir} already holds a town`);
  const repo = await createSampleRepo(path.join(townDir, 'repos', 'sample-app'));
  const engine = Engine.open({ townDir });
  try {
    const town = typedClient(engine.client());
    await town.call('rig.add', { name: 'sample', path: repo, test: 'sh test.sh', max_polecats: 3, prefix: 'sa' });
    const health = await town.call('bead.create', { rig: 'sample', title: 'Add a health check endpoint', priority: 1 });
    const docs = await town.call('bead.create', { rig: 'sample', title: 'Document the health check', after: [health.id] });
    const typo = await town.call('bead.create', { rig: 'sample', title: 'Fix the typo on the login page', priority: 3 });
    // In the convoy so that starting it shows, within seconds, an agent waiting for the overseer.
    const confirm = await town.call('bead.create', { rig: 'sample', title: 'Rotate the API keys (asks first)', priority: 1, scenario: 'needs-input' });
    const convoy = await town.call('convoy.create', { title: 'First release', beads: [confirm.id, health.id, docs.id, typo.id] });
    return { townDir, repo, convoy: convoy.id, beads: [confirm.id, health.id, docs.id, typo.id] };
  } finally {
    engine.closeOffline();
  }
}
