// Integration-mode convoys: members merge into convoy/<id> through the refinery's usual
// queue and gates; once all are in, one landing MR merges that branch into main, and the
// convoy lands only when that has merged.
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

describe('an integration-mode convoy', () => {
  it('merges its members into convoy/<id> and lands on main through one landing MR', async () => {
    const base = tempDir('integ');
    const dir = path.join(base, 'town');
    const repo = makeRepo(path.join(base, 'repo'));
    const init = gitIn(repo, 'rev-parse', 'main');
    await town(dir, ['init', dir]);
    await townJson(dir, 'rig', 'add', 'app', repo, '--test', 'sh check.sh', '--prefix', 'ap');
    const s = new ServedTown(dir);
    served.push(s);
    await s.start();

    const beads: string[] = [];
    for (const title of ['Parser', 'Lexer', 'Printer']) beads.push((await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', title)).id);
    const convoy = await townJson(dir, 'convoy', 'create', '--integration', '--title', 'Language tools', ...beads);
    expect(convoy.mode).toBe('integration');
    await townJson(dir, 'convoy', 'start', convoy.id);
    // The integration branch starts at main when the convoy starts.
    expect(gitIn(repo, 'rev-parse', `convoy/${convoy.id}`)).toBe(init);

    await waitFor('the convoy to land', async () => (await townJson(dir, 'convoy', 'show', convoy.id)).status === 'landed', 90_000);

    // main got exactly one commit for the convoy on its first-parent line: the landing merge.
    const mainLine = gitIn(repo, 'log', '--first-parent', '--format=%H %s', `${init}..main`).split('\n');
    expect(mainLine).toHaveLength(1);
    expect(mainLine[0]).toContain(`Merge ${convoy.id}: Language tools`);
    // Its second parent is convoy/<id>'s tip, whose own first-parent line holds the three member merges.
    const convoyTip = gitIn(repo, 'rev-parse', 'main^2');
    const memberMerges = gitIn(repo, 'log', '--first-parent', '--format=%s', `${init}..${convoyTip}`).split('\n');
    expect(memberMerges.map((m) => m.split(':')[0]).sort()).toEqual(beads.map((b) => `Merge ${b}`).sort());
    for (const b of beads) expect(gitIn(repo, 'show', `main:work/${b}.md`)).toMatch(/^# /);

    // The MRs: three members into the convoy's branch, and the landing MR shown as the convoy's.
    const mrs = await townJson(dir, 'mr', 'list');
    expect(mrs).toHaveLength(4);
    for (const b of beads) expect(mrs.find((m: any) => m.bead === b)).toMatchObject({ target: `convoy/${convoy.id}`, state: 'merged' });
    const landing = mrs.find((m: any) => m.bead === convoy.id);
    expect(landing).toMatchObject({ branch: `convoy/${convoy.id}`, target: 'main', state: 'merged', merge_sha: gitIn(repo, 'rev-parse', 'main') });
    expect((await town(dir, ['mr', 'list'])).stdout).toContain(convoy.id);

    // It landed when the landing MR merged, not before.
    const events = await townJson(dir, 'events', '--limit', '10000');
    const landed = events.find((e: any) => e.type === 'convoy.landed' && e.bead === convoy.id);
    const landingMerged = events.find((e: any) => e.type === 'mr.merged' && e.payload.mr === landing.id);
    expect(landed.seq).toBeGreaterThan(landingMerged.seq);
  }, 120_000);

  it('refuses more members once its landing MR exists, so no member is left off the landing', async () => {
    const base = tempDir('integ-add');
    const dir = path.join(base, 'town');
    const repo = makeRepo(path.join(base, 'repo'));
    const hold = path.join(base, 'hold');
    const runs = path.join(base, 'gate-runs');
    // The gate counts its runs: the member's MR (run 1) passes at once, the landing MR's (run 2) waits
    // while the hold file exists, so the landing MR is still open when the late member is added.
    const gate = `n=$(($(cat '${runs}' 2>/dev/null || echo 0) + 1)); echo $n > '${runs}'; if [ $n -ge 2 ]; then while [ -e '${hold}' ]; do sleep 0.05; done; fi; sh check.sh`;
    fs.writeFileSync(hold, '');
    await town(dir, ['init', dir]);
    await townJson(dir, 'rig', 'add', 'app', repo, '--test', gate, '--prefix', 'ap');
    const s = new ServedTown(dir);
    served.push(s);
    await s.start();
    const member = (await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Parser')).id;
    const convoy = await townJson(dir, 'convoy', 'create', '--integration', '--title', 'Language tools', member);
    await townJson(dir, 'convoy', 'start', convoy.id);
    await waitFor('the member merged', async () => (await townJson(dir, 'mr', 'list')).some((m: any) => m.bead === member && m.state === 'merged'), 90_000);
    await waitFor('the landing MR queued', async () => (await townJson(dir, 'mr', 'list')).some((m: any) => m.bead === convoy.id), 60_000);

    const late = (await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Late addition')).id;
    const refused = await town(dir, ['convoy', 'add', convoy.id, late]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/is landing .*new convoy/);
    expect((await townJson(dir, 'convoy', 'show', convoy.id)).beads).toEqual([member]);
    fs.rmSync(hold);
    await waitFor('the convoy to land', async () => (await townJson(dir, 'convoy', 'show', convoy.id)).status === 'landed', 90_000);
  }, 120_000);

  it('lands on a remote too, through a first push the remote refuses', async () => {
    const base = tempDir('integ-remote');
    const dir = path.join(base, 'town');
    const repo = makeRepo(path.join(base, 'repo'));
    const bare = path.join(base, 'remote.git');
    gitIn(base, 'init', '-q', '--bare', '-b', 'main', bare);
    gitIn(repo, 'remote', 'add', 'origin', bare);
    gitIn(repo, 'push', '-q', 'origin', 'main');
    const hook = '#!/bin/sh\nif [ ! -e "$GIT_DIR/refused-once" ]; then touch "$GIT_DIR/refused-once"; echo "remote busy" >&2; exit 1; fi\n';
    fs.writeFileSync(path.join(bare, 'hooks', 'pre-receive'), hook, { mode: 0o755 });
    await town(dir, ['init', dir]);
    await townJson(dir, 'rig', 'add', 'app', repo, '--test', 'sh check.sh', '--prefix', 'ap', '--remote', 'origin');
    await townJson(dir, 'config', 'set', 'mq.push_backoff', '1s');
    const s = new ServedTown(dir);
    served.push(s);
    await s.start();

    const beads: string[] = [];
    for (const title of ['One', 'Two', 'Three']) beads.push((await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', title)).id);
    const convoy = await townJson(dir, 'convoy', 'create', '--integration', '--title', 'Shipped together', ...beads);
    await townJson(dir, 'convoy', 'start', convoy.id);
    await waitFor('the convoy to land', async () => (await townJson(dir, 'convoy', 'show', convoy.id)).status === 'landed', 90_000);

    expect(fs.existsSync(path.join(bare, 'refused-once'))).toBe(true);
    expect(gitIn(bare, 'rev-parse', 'main')).toBe(gitIn(repo, 'rev-parse', 'main'));
    expect(gitIn(bare, 'log', '-1', '--format=%s', 'main')).toBe(`Merge ${convoy.id}: Shipped together`);
    for (const b of beads) expect(gitIn(bare, 'show', `main:work/${b}.md`)).toMatch(/^# /);
    const pushes = (await townJson(dir, 'events', '--limit', '10000')).filter((e: any) => e.type === 'refinery.pushed');
    expect(pushes.map((e: any) => e.payload.target)).toEqual([...beads.map(() => `convoy/${convoy.id}`), 'main']);
    expect(pushes[0].payload.attempts).toBe(2);
  }, 120_000);

  it('starts a member that waits on another from convoy/<id>, so it builds on the merged work', async () => {
    const base = tempDir('integ-after');
    const dir = path.join(base, 'town');
    const repo = makeRepo(path.join(base, 'repo'));
    await town(dir, ['init', dir]);
    await townJson(dir, 'rig', 'add', 'app', repo, '--test', 'sh check.sh', '--prefix', 'ap');
    const s = new ServedTown(dir);
    served.push(s);
    await s.start();
    const first = (await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Schema')).id;
    const second = (await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Uses the schema', '--after', first)).id;
    const convoy = await townJson(dir, 'convoy', 'create', '--integration', '--title', 'Schema work', first, second);
    await townJson(dir, 'convoy', 'start', convoy.id);
    await waitFor('the convoy to land', async () => (await townJson(dir, 'convoy', 'show', convoy.id)).status === 'landed', 90_000);

    const mrs = await townJson(dir, 'mr', 'list');
    const firstMerge = mrs.find((m: any) => m.bead === first).merge_sha;
    const secondHead = mrs.find((m: any) => m.bead === second).head_sha;
    // The second member's submitted commit already holds the first's merge: its branch
    // started from convoy/<id>, not from main (which had neither yet).
    gitIn(repo, 'merge-base', '--is-ancestor', firstMerge, secondHead);
    expect(gitIn(repo, 'show', `${secondHead}:work/${first}.md`)).toMatch(/^# /);
  }, 120_000);
});
