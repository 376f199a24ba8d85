// The target moves while the gates run (a commit on main from outside): the refinery's
// compare-and-swap refuses the stale candidate, rebuilds on the new tip, runs the gates
// again, and lands the bead without losing the outside commit.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gitIn, makeRepo } from './helpers/repo';
import { removeTempDirs, ServedTown, tempDir, town, townJson, waitFor } from './helpers/town';

const served: ServedTown[] = [];
afterEach(async () => {
  for (const s of served.splice(0)) await s.stop();
  removeTempDirs();
});

describe('the refinery when the target moves during the gates', () => {
  it('rebuilds the candidate on the new tip, runs the gates again, and loses no commit', async () => {
    const base = tempDir('cas');
    const dir = path.join(base, 'town');
    const repo = makeRepo(path.join(base, 'repo'));
    // The gate's first run commits on main in the user's checkout, as a person would.
    const gate = path.join(base, 'gate.sh');
    fs.writeFileSync(
      gate,
      [
        '#!/bin/sh',
        `echo "run at $(git rev-parse HEAD)" >> "${base}/gate-runs"`,
        `if [ ! -e "${base}/moved" ]; then`,
        `  touch "${base}/moved"`,
        `  cd "${repo}" && echo "from outside" > outside.md && git add outside.md && git -c user.name=u -c user.email=u@u commit -qm "outside commit"`,
        'fi',
        'sh check.sh',
      ].join('\n') + '\n',
    );
    await town(dir, ['init', dir]);
    await townJson(dir, 'rig', 'add', 'app', repo, '--test', `sh ${gate}`, '--prefix', 'ap');
    const s = new ServedTown(dir);
    served.push(s);
    await s.start();

    const bead = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Lands on a moving main');
    await townJson(dir, 'sling', bead.id);
    await waitFor('the bead to merge', async () => (await townJson(dir, 'bead', 'show', bead.id)).status === 'closed');

    const outside = gitIn(repo, 'log', '--format=%H', '--grep', 'outside commit', 'main');
    expect(outside).toMatch(/^[0-9a-f]{40}$/);
    // Nothing lost: the outside commit is in main's history, and so is the bead's work.
    gitIn(repo, 'merge-base', '--is-ancestor', outside, 'main');
    expect(gitIn(repo, 'show', 'main:outside.md')).toBe('from outside');
    expect(gitIn(repo, 'show', `main:work/${bead.id}.md`)).toMatch(/^# /);
    // The gates ran twice: the second time on a candidate built on the outside commit.
    const runs = fs.readFileSync(path.join(base, 'gate-runs'), 'utf8').trim().split('\n');
    expect(runs).toHaveLength(2);
    const secondCandidate = runs[1].replace('run at ', '');
    gitIn(repo, 'merge-base', '--is-ancestor', outside, secondCandidate);
    expect(gitIn(repo, 'rev-parse', 'main')).toBe(secondCandidate);
    // And the rebuild is explained in the MR's history.
    const [mr] = await townJson(dir, 'mr', 'list');
    expect(mr.state).toBe('merged');
    const events = await townJson(dir, 'events', '--limit', '1000');
    const candidates = events.filter((e: { type: string; bead: string }) => e.type === 'refinery.candidate' && e.bead === bead.id);
    expect(candidates).toHaveLength(2);
    expect(candidates[1].payload.reason).toMatch(/^main moved while the gates ran; rebuilt on [0-9a-f]{10}/);
    expect((await town(dir, ['events', '--limit', '1000'])).stdout).toContain('moved while the gates ran');
  });
});
