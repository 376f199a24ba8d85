// A real project in the refinery: its gate (`npm test`) needs the dependencies the rig's
// setup (`npm install`) put in the refinery's worktree. The setup runs again only when a
// watched file (the lockfile here) changes; a failing setup fails the MR as `setup`.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gitIn } from './helpers/repo';
import { FAST_AGENTS, removeTempDirs, ServedTown, tempDir, town, townDiagnosis, townJson, waitFor } from './helpers/town';

const served: ServedTown[] = [];
afterEach(async () => {
  for (const s of served.splice(0)) await s.stop();
  removeTempDirs();
});

const npm = (cwd: string, env: Record<string, string>, ...args: string[]) =>
  execFileSync('npm', args, { cwd, env: { ...process.env, ...env }, stdio: 'pipe', encoding: 'utf8' });

/**
 * A test runner package, packed as a tarball (installed without a registry), and an app
 * whose `npm test` runs the runner's bin from node_modules. `setup.sh` records where it ran.
 */
function realProject(base: string, env: Record<string, string>, runs: string) {
  const runner = path.join(base, 'tiny-runner');
  fs.mkdirSync(runner, { recursive: true });
  fs.writeFileSync(path.join(runner, 'package.json'), JSON.stringify({ name: 'tiny-runner', version: '1.0.0', bin: { 'tiny-runner': 'bin.js' } }));
  fs.writeFileSync(path.join(runner, 'bin.js'), '#!/usr/bin/env node\nconsole.log("tiny-runner: all tests passed");\n', { mode: 0o755 });
  const tarball = path.join(runner, npm(runner, env, 'pack', '--silent').trim().split('\n').pop()!);

  const repo = path.join(base, 'repo');
  fs.mkdirSync(repo, { recursive: true });
  gitIn(repo, 'init', '-q', '-b', 'main');
  writePackage(repo, '1.0.0', tarball);
  fs.writeFileSync(path.join(repo, '.gitignore'), 'node_modules/\n');
  fs.writeFileSync(path.join(repo, 'setup.sh'), `echo "$PWD" >> ${runs}\nnpm install --offline --no-audit --no-fund\n`);
  npm(repo, env, 'install', '--offline', '--package-lock-only', '--no-audit', '--no-fund');
  gitIn(repo, 'add', '.');
  gitIn(repo, 'commit', '-q', '-m', 'app with a test runner');
  return { repo, tarball };
}

function writePackage(repo: string, version: string, tarball: string) {
  fs.writeFileSync(
    path.join(repo, 'package.json'),
    JSON.stringify({ name: 'app', version, private: true, scripts: { test: 'tiny-runner' }, devDependencies: { 'tiny-runner': `file:${tarball}` } }, null, 2),
  );
}

/** Setup runs in the refinery's worktree (polecats' worktrees run it too, when created). */
const refineryRuns = (runs: string) => (fs.existsSync(runs) ? fs.readFileSync(runs, 'utf8').split('\n').filter((l) => l.endsWith('/refinery/app')).length : 0);

describe('the refinery on a real project', () => {
  it('installs the dependencies its gate needs, again only when the lockfile changes, and fails the MR as setup when setup fails', async () => {
    const base = tempDir('refsetup');
    const env = { npm_config_cache: path.join(base, 'npm-cache'), npm_config_update_notifier: 'false' };
    const runs = path.join(base, 'setup-runs.log');
    const { repo, tarball } = realProject(base, env, runs);
    const dir = path.join(base, 'town');
    expect((await town(dir, ['init', dir])).code).toBe(0);
    const rig = await townJson(dir, 'rig', 'add', 'app', repo, '--test', 'npm test', '--setup', 'sh setup.sh', '--setup-watch', 'package-lock.json,setup.sh', '--max-polecats', '1', '--prefix', 'ap');
    expect(rig.setup_watch).toEqual(['package-lock.json', 'setup.sh']);
    const s = new ServedTown(dir, { ...FAST_AGENTS, ...env });
    served.push(s);
    await s.start();
    const explain = async (err: Error) => {
      throw new Error(`${err.message}\n${await townDiagnosis(dir)}\n${s.log.slice(-3000)}`);
    };
    const bead = (title: string) => townJson(dir, 'bead', 'create', '--rig', 'app', '--title', title);
    const closed = (id: string) => waitFor(`${id} to merge`, async () => (await townJson(dir, 'bead', 'show', id)).status === 'closed', 90_000, 250).catch(explain);

    // A convoy of two: the first candidate installs; the second finds node_modules still there.
    const a = await bead('Add the parser');
    const b = await bead('Use the parser');
    const convoy = await townJson(dir, 'convoy', 'create', '--title', 'Parser', a.id, b.id);
    await townJson(dir, 'convoy', 'start', convoy.id);
    await waitFor('the convoy to land', async () => (await townJson(dir, 'convoy', 'show', convoy.id)).status === 'landed', 120_000, 250).catch(explain);
    expect(refineryRuns(runs)).toBe(1);
    const setupLogs = fs.readdirSync(path.join(dir, 'logs')).filter((f) => /^gate-.*-setup-/.test(f));
    expect(setupLogs).toHaveLength(1);
    expect(fs.readFileSync(path.join(dir, 'logs', setupLogs[0]), 'utf8')).toMatch(/added 1 package/);
    const testLogs = fs.readdirSync(path.join(dir, 'logs')).filter((f) => /^gate-.*-test-/.test(f));
    expect(testLogs).toHaveLength(2);
    for (const log of testLogs) expect(fs.readFileSync(path.join(dir, 'logs', log), 'utf8')).toContain('tiny-runner: all tests passed');

    // The overseer bumps the app's version: the lockfile changes, so the next candidate installs again.
    writePackage(repo, '1.0.1', tarball);
    npm(repo, env, 'install', '--offline', '--package-lock-only', '--no-audit', '--no-fund');
    gitIn(repo, 'commit', '-qam', 'version 1.0.1');
    const c = await bead('Tidy the parser');
    await townJson(dir, 'sling', c.id);
    await closed(c.id);
    expect(refineryRuns(runs)).toBe(2);
    const setups = (await townJson(dir, 'events', '--limit', '10000')).filter((e: any) => e.type === 'refinery.setup');
    expect(setups.map((e: any) => e.payload.reason)).toEqual(['first setup of the refinery worktree', 'package-lock.json changed']);

    // A setup that fails (here: setup.sh, a watched file, now fails) fails the MR as setup, main untouched.
    // Not a test failure: the bead goes back to its polecat labelled setup (issue 10's routing), which
    // submits again, and that MR runs the setup again (a failed setup leaves no record). One rework
    // allowed, so the bead then fails and nothing runs after: counted then, not while it loops.
    await townJson(dir, 'config', 'set', 'mq.max_retries', '1');
    fs.writeFileSync(path.join(repo, 'setup.sh'), `echo "$PWD" >> ${runs}\necho "npm error could not resolve tiny-runner@2.0.0" >&2\nexit 7\n`);
    gitIn(repo, 'commit', '-qam', 'break the install');
    const mainBefore = gitIn(repo, 'rev-parse', 'main');
    const d = await bead('Parser docs');
    await townJson(dir, 'sling', d.id);
    await waitFor(`${d.id} to fail`, async () => (await townJson(dir, 'bead', 'show', d.id)).status === 'failed', 120_000, 250).catch(explain);
    const failed = (await townJson(dir, 'mr', 'list')).filter((m: any) => m.bead === d.id);
    expect(failed.map((m: any) => [m.state, m.failure.type])).toEqual([['failed', 'setup'], ['failed', 'setup']]);
    for (const m of failed) expect(m.failure.tail).toContain('could not resolve tiny-runner@2.0.0');
    expect(refineryRuns(runs)).toBe(4);
    expect(gitIn(repo, 'rev-parse', 'main')).toBe(mainBefore);
    const events = await townJson(dir, 'events', '--limit', '10000');
    const failedSetups = events.filter((e: any) => e.type === 'refinery.setup' && e.payload.ok === false);
    // One failed setup per MR, the first because the watched setup.sh changed.
    expect(failedSetups.map((e: any) => e.payload.mr).sort()).toEqual(failed.map((m: any) => m.id).sort());
    expect(failedSetups[0].payload.reason).toBe('setup.sh changed');
    const rework = events.filter((e: any) => e.type === 'bead.rework' && e.bead === d.id);
    expect(rework.map((e: any) => e.payload.label)).toEqual(['setup']);
  }, 300_000);
});
