// Agents run as the same OS user as the overseer. From an agent's session, the `town`
// CLI never uses the overseer's token (not by unsetting TOWN_TOKEN, nor TOWN_AGENT too),
// the token is not where agents are pointed, and the optional bubblewrap sandbox shows
// an agent only its worktree, the socket and the shim.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { overseerHome, townPaths } from '../src/main/engine/town-dir';
import { findOnPath } from '../src/main/runtimes/sandbox';
import { gitIn, makeRepo } from './helpers/repo';
import { CLI, overseerEnv, removeTempDirs, ServedTown, tempDir, town, townJson, waitFor, type CliResult } from './helpers/town';

const served: ServedTown[] = [];
afterEach(async () => {
  for (const s of served.splice(0)) await s.stop();
});
afterAll(() => removeTempDirs());

const REFUSED = /refusing to .* inside an agent session/;

async function newTown(label: string) {
  const base = tempDir(label);
  const dir = path.join(base, 'town');
  const repo = makeRepo(path.join(base, 'repo'));
  expect((await town(dir, ['init', dir])).code).toBe(0);
  await townJson(dir, 'rig', 'add', 'app', repo, '--test', 'sh check.sh', '--prefix', 'ap');
  return { base, dir, repo };
}

async function serve(dir: string) {
  const s = new ServedTown(dir);
  served.push(s);
  await s.start();
  return s;
}

/** An agent that waits at "Proceed? [y/N]" until answered. */
async function waitingAgent(dir: string) {
  const ask = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Asks first', '--scenario', 'needs-input');
  await townJson(dir, 'sling', ask.id);
  // Waiting for 'waiting' (not only the prompt on screen) so the town holds still from here on.
  const agent = await waitFor('the agent to wait for input', async () => {
    const a = (await townJson(dir, 'agents')).find((x: any) => x.hook === ask.id && x.status === 'waiting');
    const screen = a && fs.readdirSync(townPaths(dir).logs).map((f) => fs.readFileSync(path.join(townPaths(dir).logs, f), 'utf8')).join('');
    return screen?.includes('Proceed? [y/N]') ? a : null;
  });
  return { ask, agent };
}

/** The CLI run by a parent that has TOWN_AGENT, with TOWN_AGENT and TOWN_TOKEN cleared for the CLI itself. */
function townUnderAgent(dir: string, agentId: string, args: string[]): Promise<CliResult> {
  const argv = ['-c', '"$@"; exit $?', 'sh', 'env', '-u', 'TOWN_AGENT', '-u', 'TOWN_TOKEN', process.execPath, CLI, '--town', dir, ...args];
  return new Promise((resolve) => {
    execFile('/bin/sh', argv, { env: overseerEnv({ TOWN_AGENT: agentId }) }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** What the overseer sees, to show a refused command changed nothing. */
async function townState(dir: string) {
  // One at a time: with no engine serving, each opens the town itself (under its lock).
  const read = async (...args: string[]) => townJson(dir, ...args);
  const beads = await read('bead', 'list');
  const agents = await read('agents');
  const convoys = await read('convoy', 'list');
  const config = await read('config', 'list');
  const rigs = await read('rig', 'list');
  return {
    beads: beads.map((b: any) => [b.id, b.status]),
    agents: agents.map((a: any) => [a.id, a.status, a.hook]),
    convoys: convoys.map((c: any) => [c.id, c.status]),
    config,
    rigs: rigs.map((r: any) => r.name),
  };
}

describe('from inside an agent, the overseer token is never used', () => {
  it('refuses every overseer action with TOWN_TOKEN unset, also when TOWN_AGENT is cleared too', async () => {
    const { base, dir } = await newTown('iso');
    const other = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Someone else');
    const convoy = await townJson(dir, 'convoy', 'create', '--title', 'Staged', other.id);
    await serve(dir);
    const { ask, agent } = await waitingAgent(dir);
    const before = await townState(dir);

    const attempts = [
      ['status'], ['bead', 'list'], ['bead', 'show', other.id], ['agents'], ['events'], ['mr', 'list'],
      ['stop', agent.id], ['nudge', agent.id, 'y'], ['attach', agent.id],
      ['sling', other.id], ['bead', 'close', ask.id], ['bead', 'create', '--rig', 'app', '--title', 'Sneaky'],
      ['convoy', 'start', convoy.id], ['config', 'set', 'max_polecats_town', '0'],
      ['rig', 'add', 'evil', base], ['serve', '--no-web'], ['init', path.join(base, 'town2')],
    ];
    for (const args of attempts) {
      const inAgent = await town(dir, args, { TOWN_AGENT: agent.id });
      expect({ args, code: inAgent.code }).toEqual({ args, code: 1 });
      expect(inAgent.stderr).toMatch(REFUSED);
      const underAgent = await townUnderAgent(dir, agent.id, args);
      expect({ args, code: underAgent.code }).toEqual({ args, code: 1 });
      expect(underAgent.stderr).toMatch(REFUSED);
    }

    expect(await townState(dir)).toEqual(before);
    expect(fs.existsSync(path.join(base, 'town2'))).toBe(false);
    // The agent itself was never disturbed: answered by the overseer, it lands its bead.
    expect((await town(dir, ['nudge', agent.id, 'y'])).code).toBe(0);
    await waitFor('the bead to land', async () => (await townJson(dir, 'bead', 'show', ask.id)).status === 'closed', 60_000, 200);
  });

  it('does not open an unserved town directly from inside an agent', async () => {
    const { dir } = await newTown('iso-offline');
    const before = await townState(dir);
    for (const args of [['bead', 'create', '--rig', 'app', '--title', 'Sneaky'], ['config', 'set', 'dispatch_max_attempts', '1'], ['bead', 'list']]) {
      const r = await town(dir, args, { TOWN_AGENT: 'app/polecats/x' });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(REFUSED);
    }
    expect(await townState(dir)).toEqual(before);
  });

  it('an agent session that tries `env -u TOWN_TOKEN town stop`, the old token file and the shim gets nowhere', async () => {
    const { base, dir } = await newTown('iso-e2e');
    await serve(dir);
    const { agent: victim } = await waitingAgent(dir);

    // A second rig whose agent is a shell script trying its luck; it records what happened.
    const script = path.join(base, 'probe.sh');
    fs.writeFileSync(
      script,
      [
        'r=isolation-results.txt',
        'echo "overseer_home=${OVERSEER_HOME:-unset}" >> $r',
        // Not told where the token lives, an agent can still guess (~/.overseer for a real user).
        'export OVERSEER_HOME="$2"',
        'town hook --json >/dev/null 2>&1; echo "own_token=$?" >> $r',
        'env -u TOWN_TOKEN town stop "$1" >/dev/null 2>stop.err; echo "stop_without_token=$?" >> $r',
        'env -u TOWN_TOKEN -u TOWN_AGENT town stop "$1" >/dev/null 2>>stop.err; echo "stop_without_token_or_agent=$?" >> $r',
        'cat "$TOWN_DIR/overseer.token" >/dev/null 2>&1; echo "read_old_token_file=$?" >> $r',
        '(printf "echo hijacked\\n" > "$TOWN_DIR/bin/town") 2>/dev/null; echo "write_shim=$?" >> $r',
        'echo finished >> $r',
        'exec sleep 600',
      ].join('\n') + '\n',
    );
    await townJson(dir, 'rig', 'add', 'probe', makeRepo(path.join(base, 'probe-repo')), '--prefix', 'pr', '--runtime', 'shell', '--command', `sh ${script} '${victim.id}' '${overseerHome()}'`);
    const probeBead = await townJson(dir, 'bead', 'create', '--rig', 'probe', '--title', 'Probe');
    const shimBefore = fs.readFileSync(path.join(townPaths(dir).bin, 'town'), 'utf8');
    await townJson(dir, 'sling', probeBead.id);
    const prober = await waitFor('the probe agent', async () => (await townJson(dir, 'agents')).find((x: any) => x.hook === probeBead.id && x.worktree));
    const resultsFile = path.join(prober.worktree, 'isolation-results.txt');
    const results = await waitFor('the probe to finish', () => {
      const text = fs.existsSync(resultsFile) ? fs.readFileSync(resultsFile, 'utf8') : '';
      return text.includes('finished') ? Object.fromEntries(text.trim().split('\n').map((l) => l.split('='))) : null;
    });

    expect(results.own_token).toBe('0'); // its own token still works
    expect(results.stop_without_token).toBe('1');
    expect(results.stop_without_token_or_agent).toBe('1');
    expect(fs.readFileSync(path.join(prober.worktree, 'stop.err'), 'utf8')).toMatch(REFUSED);
    expect(results.read_old_token_file).not.toBe('0');
    expect(results.overseer_home).toBe('unset');
    // The shim is 0500 in a 0500 dir; root ignores modes, so only a non-root user sees the write fail
    // (the sandbox test below shows it failing for every user).
    if (process.getuid?.() !== 0) {
      expect(results.write_shim).not.toBe('0');
      expect(fs.readFileSync(path.join(townPaths(dir).bin, 'town'), 'utf8')).toBe(shimBefore);
    }
    const victimNow = (await townJson(dir, 'agents')).find((x: any) => x.id === victim.id);
    expect(victimNow.status).toBe('waiting'); // still at its prompt, not stopped
  });
});

describe('the bwrap agent sandbox', () => {
  const bwrap = findOnPath('bwrap');

  it.skipIf(!bwrap)('(needs bwrap) hides the database, other worktrees and the token dir; the agent still commits and lands its bead', async () => {
    const { base, dir, repo } = await newTown('sandbox');
    expect((await town(dir, ['config', 'set', 'agent_sandbox', 'bwrap'])).code).toBe(0);
    const s = await serve(dir);
    // A scripted agent, sandboxed, waits at its prompt: typing into its terminal must reach it.
    const { ask, agent: scripted } = await waitingAgent(dir);

    // The script is committed in its rig: the sandbox hides the host's /tmp, where the test lives.
    const lookRepo = makeRepo(path.join(base, 'look-repo'));
    fs.writeFileSync(
      path.join(lookRepo, 'look.sh'),
      [
        'r=sandbox-results.txt',
        'echo "town_dir=$(ls -A "$TOWN_DIR" | sort | tr "\\n" " ")" >> $r',
        'echo "worktrees=$(ls -A "$TOWN_DIR/worktrees/look" | tr "\\n" " ")" >> $r',
        'echo "other_worktree=$(test -e "$2" && echo visible || echo hidden)" >> $r',
        'echo "token_dir=$(ls -A "$3" 2>&1 | tr "\\n" " ")" >> $r',
        'echo "engine_process=$(test -e /proc/$4 && echo visible || echo hidden)" >> $r',
        '(printf "echo hijacked\\n" > "$TOWN_DIR/bin/town") 2>/dev/null; echo "write_shim=$?" >> $r',
        '(echo "echo hooked" > "$(git rev-parse --git-common-dir)/hooks/post-commit") 2>/dev/null; echo "write_git_hook=$?" >> $r',
        'echo probe > probe.txt && git add probe.txt && git commit -qm probe; echo "commit=$?" >> $r',
        'town hook --json >/dev/null 2>&1; echo "own_token=$?" >> $r',
        'env -u TOWN_TOKEN -u TOWN_AGENT town stop "$1" >/dev/null 2>&1; echo "stop_other=$?" >> $r',
        'echo finished >> $r',
        'exec sleep 600',
      ].join('\n') + '\n',
    );
    gitIn(lookRepo, 'add', 'look.sh');
    gitIn(lookRepo, 'commit', '-qm', 'look around');
    await townJson(dir, 'rig', 'add', 'look', lookRepo, '--prefix', 'lk', '--runtime', 'shell', '--command',
      `sh look.sh '${scripted.id}' '${scripted.worktree}' '${path.dirname(townPaths(dir).token)}' ${s.child!.pid}`);
    const lookBead = await townJson(dir, 'bead', 'create', '--rig', 'look', '--title', 'Look around');
    await townJson(dir, 'sling', lookBead.id);
    const looker = await waitFor('the looking agent', async () => (await townJson(dir, 'agents')).find((x: any) => x.hook === lookBead.id && x.worktree));
    const resultsFile = path.join(looker.worktree, 'sandbox-results.txt');
    const results = await waitFor('the look to finish', () => {
      const text = fs.existsSync(resultsFile) ? fs.readFileSync(resultsFile, 'utf8') : '';
      return text.includes('finished') ? Object.fromEntries(text.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).trim()])) : null;
    });

    // Of the town: the shim, the socket, and the path to its own worktree. No town.db, logs, refinery.
    expect(results.town_dir).toBe('bin town.sock worktrees');
    expect(results.worktrees).toBe(looker.name);
    expect(results.other_worktree).toBe('hidden');
    expect(results.token_dir).toMatch(/No such file/);
    expect(results.engine_process).toBe('hidden');
    expect(results.write_shim).not.toBe('0');
    expect(results.write_git_hook).not.toBe('0');
    expect(fs.existsSync(path.join(lookRepo, '.git', 'hooks', 'post-commit'))).toBe(false);
    expect(results.commit).toBe('0');
    expect(gitIn(looker.worktree, 'log', '-1', '--format=%s')).toBe('probe');
    expect(results.own_token).toBe('0');
    expect(results.stop_other).toBe('1');

    // Answered through its terminal, the sandboxed scripted agent commits, runs `town done`, and lands.
    expect((await town(dir, ['nudge', scripted.id, 'y'])).code).toBe(0);
    await waitFor('the bead to land', async () => (await townJson(dir, 'bead', 'show', ask.id)).status === 'closed', 60_000, 200);
    expect(gitIn(repo, 'show', `main:work/${ask.id}.md`)).toContain('Asks first');
  });

  it('fails the dispatch with a clear reason when bwrap is missing', async () => {
    const { dir } = await newTown('sandbox-missing');
    await town(dir, ['config', 'set', 'agent_sandbox', 'bwrap']);
    // A PATH without bwrap: the directories that hold it are left out, git is linked back in.
    const gitOnly = tempDir('gitonly');
    fs.symlinkSync(findOnPath('git')!, path.join(gitOnly, 'git'));
    const pathWithoutBwrap = [gitOnly, ...(process.env.PATH ?? '').split(':').filter((d) => d && !fs.existsSync(path.join(d, 'bwrap')))].join(':');
    const s = new ServedTown(dir, { TOWN_SCRIPTED_PACE_MS: '15', PATH: pathWithoutBwrap });
    served.push(s);
    await s.start();
    const b = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Never starts');
    await townJson(dir, 'sling', b.id);
    const failed = await waitFor('the spawn to fail', async () =>
      (await townJson(dir, 'events', '--limit', '1000')).find((e: any) => e.type === 'session.spawn_failed' && e.bead === b.id));
    expect(JSON.stringify(failed.payload)).toMatch(/bubblewrap \(bwrap\) is not on PATH/);
    expect(s.child!.exitCode).toBe(null);
  });
});
