// Runs the reconciler's side effects against the real world (git, PTYs, the refinery)
// and reports every outcome back as an event.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { commitsAhead, deleteBranchIfMerged } from '../git/branches';
import { faultPoint } from '../faults/fault-points';
import { isDirty, preparePolecatWorktree, SetupFailedError } from '../git/worktrees';
import { readConfig } from '../reconciler/config';
import type { Effect, EffectRunner } from '../reconciler/effects';
import { workBaseOf } from '../refinery/convoy-branch';
import { runMergeRequest } from '../refinery/refinery';
import { checkTargets } from '../refinery/target-watch';
import { agentCliLaunch, runtimeOfBead } from '../runtimes/agent-cli-launch';
import { stopCodexDaemons } from '../runtimes/codex';
import { launchFor, type AgentCliLaunch } from '../runtimes/runtimes';
import { collectPolecat, deleteFiles } from './polecat-collector';
import { sweepRefs } from './ref-collector';
import { TownClosingError, type SessionHost } from '../sessions/session-host';
import type { Store } from '../store/store';
import { getAgent, getMergeRequest, getRig, type RigRow } from '../store/views';
import type { TownPaths } from './town-dir';

/**
 * The agent CLIs submit typed text only on an Enter that comes on its own, a moment later:
 * text and Enter in one write is a paste to them (Codex always; Claude once the text is long,
 * as the finish reminder is), and the Enter becomes a newline in the prompt.
 */
const ENTER_AFTER_MS = 400;
const TYPES_AS_PASTE = new Set(['claude', 'codex']);

export class TownEffects implements EffectRunner {
  /** Which bead and launch each live session was started for (exit events carry them). */
  private sessionBeads = new Map<string, { bead: string; launch: string; runtime: string }>();
  readonly gateSessions = new Map<string, string>();
  /** MRs whose run is under way in this engine: the holders of their claims are alive. */
  readonly mergeRunsInFlight = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly host: SessionHost,
    private readonly paths: TownPaths,
  ) {
    host.onKillFailed((f) =>
      store.report({ type: 'session.kill_failed', agent: f.agentId, payload: { session: f.sessionId, pgid: f.pgid, error: f.error, during: f.during, kind: f.sessionId.startsWith('gate-') ? 'gate' : 'agent' } }),
    );
    host.onExit((info) => {
      if (info.sessionId.startsWith('gate-')) return;
      const started = this.sessionBeads.get(info.sessionId);
      const bead = started?.bead ?? null;
      this.sessionBeads.delete(info.sessionId);
      if (started?.runtime === 'codex') stopCodexDaemons(paths.dir);
      store.report({
        type: 'session.exited',
        agent: info.agentId,
        bead,
        payload: { session: info.sessionId, launch: started?.launch ?? null, exit_code: info.exitCode, signal: info.signal, reason: info.reason, bytes_out: info.bytesOut, tail: info.tail.slice(-2000) },
      });
    });
  }

  async run(effect: Effect): Promise<void> {
    switch (effect.type) {
      case 'start_session':
        return this.startSession(effect.agent, effect.bead, effect.token, effect.launch);
      case 'stop_session':
        await this.host.stop(effect.session, effect.reason);
        return;
      case 'nudge_session':
        // Typed as if at the keyboard, then Enter; a session gone meanwhile needs no nudge.
        // Written as the town's: neither the nudge nor its echo is taken for progress.
        if (!this.host.has(effect.session)) return;
        if (!TYPES_AS_PASTE.has(this.sessionBeads.get(effect.session)?.runtime ?? '')) return void this.host.write(effect.session, `${effect.text}\r`, 'town');
        this.host.write(effect.session, effect.text, 'town');
        setTimeout(() => this.host.has(effect.session) && this.host.write(effect.session, '\r', 'town'), ENTER_AFTER_MS);
        return;
      case 'collect_polecat':
        return collectPolecat(this.store, effect.agent);
      case 'sweep_refs':
        await sweepRefs(this.store, effect.rig, effect.before).catch((err) => console.error(`ref sweep of ${effect.rig}: ${(err as Error).message}`));
        return;
      case 'delete_files':
        return deleteFiles(effect.paths, (line) => console.error(line));
      case 'run_merge_request':
        this.mergeRunsInFlight.add(effect.mr);
        try {
          // An outside move of the target is reported before the merge builds on it (invariant 7).
          await this.checkTargetBeforeMerge(effect.mr);
          return await runMergeRequest(
            { store: this.store, host: this.host, refineryRoot: this.paths.refinery, logs: this.paths.logs, gateSessions: this.gateSessions },
            effect.mr,
          );
        } finally {
          this.mergeRunsInFlight.delete(effect.mr);
        }
    }
  }

  private async checkTargetBeforeMerge(mrId: string) {
    const mr = getMergeRequest(this.store, mrId);
    if (mr) await checkTargets(this.store, mr.rig_id).catch((err: Error) => console.error(`target watch: ${err.message}`));
  }

  private async startSession(agentId: string, beadId: string, token: string, launch: string) {
    const fail = (error: string) => this.store.report({ type: 'session.spawn_failed', agent: agentId, bead: beadId, payload: { error, launch } });
    const agent = getAgent(this.store, agentId);
    const rig = agent?.rig_id ? getRig(this.store, agent.rig_id) : undefined;
    if (!agent || !rig || !agent.worktree || !agent.branch) return void fail('agent or rig missing');
    const runtime = runtimeOfBead(this.store, beadId, rig);
    let cli: AgentCliLaunch | undefined;
    if (runtime === 'claude' || runtime === 'codex') {
      // A CLI that is not installed is refused before a worktree is made: held, not retried in a loop.
      const found = await agentCliLaunch(this.store, this.paths.dir, agent, beadId, rig, runtime);
      if ('problem' in found) {
        this.store.report({ type: 'runtime.missing', agent: agentId, bead: beadId, payload: { runtime, rig: rig.id, problem: found.problem, launch } });
        return;
      }
      cli = found.launch;
    }
    let freedBranch: string | undefined;
    try {
      // Stopping already: no worktree work (a setup may take minutes) for a start that cannot spawn.
      if (this.host.isClosing) throw new TownClosingError();
      const wt = await preparePolecatWorktree({
        rigPath: rig.path,
        defaultBranch: await workBaseOf(this.store, beadId, rig),
        worktree: agent.worktree,
        branch: agent.branch,
        setupCommand: rig.setup_command,
        onSetupStarted: (pgid) => this.host.trackGroup({ label: `setup-${agent.name}`, agentId, pgid }),
      });
      freedBranch = wt.freedBranch;
      if (wt.stashed) this.store.transaction(() => this.store.event({ type: 'worktree.stashed', agent: agentId, bead: beadId, payload: { worktree: agent.worktree } }));
      if (wt.continuedFrom || wt.removedLocks?.length) {
        this.store.transaction(() =>
          this.store.event({ type: 'worktree.resumed', agent: agentId, bead: beadId, payload: { continued_from: wt.continuedFrom ?? null, removed_locks: wt.removedLocks ?? [] } }),
        );
      }
      if (!wt.freshFromTarget && (await this.offerFinishedWork(agentId, beadId, launch, rig, agent.worktree, agent.branch))) return;
      const command = launchFor({
        runtime,
        cli,
        commandTemplate: rig.command_template,
        townDir: this.paths.dir,
        townBin: this.paths.bin,
        agentId,
        agentName: agent.name,
        beadId,
        worktree: agent.worktree,
        branch: agent.branch,
        token,
        sandbox: readConfig(this.store)['agents.sandbox'],
      });
      const sessionId = `s-${randomBytes(6).toString('hex')}`;
      const logPath = path.join(this.paths.logs, `${sessionId}.log`);
      this.sessionBeads.set(sessionId, { bead: beadId, launch, runtime });
      const info = this.host.spawn({ sessionId, agentId, file: command.file, args: command.args, cwd: agent.worktree, env: command.env, logPath });
      this.store.report({
        type: 'session.spawned',
        agent: agentId,
        bead: beadId,
        payload: { session: sessionId, launch, pid: info.pid, pgid: info.pgid, process_start: info.processStart, command: info.command, cwd: agent.worktree, log_path: logPath },
      });
      faultPoint('engine.after-session-spawned');
    } catch (err) {
      // The engine stops (a setup abandoned, or the spawn refused): said now, so the shutdown's
      // last drain puts the bead back to open instead of leaving it in progress on a start
      // that will never report.
      if (this.host.isClosing) return void this.store.report({ type: 'session.spawn_failed', agent: agentId, bead: beadId, payload: { error: 'the town shut down', launch, interrupted: true } });
      const message = err instanceof SetupFailedError ? `${err.message}\n${err.output.slice(-2000)}` : (err as Error).message;
      fail(message);
    } finally {
      // The worktree's previous branch, now free, goes if merged: after the start, not on its
      // path, in turn with the rig's other ref writes (git/ref-writes).
      const freed = freedBranch;
      if (freed) {
        void deleteBranchIfMerged(rig.path, freed, rig.default_branch).catch((err) =>
          console.error(`could not delete the merged branch ${freed} of ${rig.id}: ${(err as Error).message}`),
        );
      }
    }
  }

  /**
   * An earlier run of this bead committed its work but was cut off before `town done`
   * (a crash, a restart): the branch is ahead of the target with commits naming the bead
   * and nothing uncommitted. Rather than start an agent over, the work goes to the refinery,
   * whose gates judge it. Work the refinery already saw at this commit is not offered again.
   */
  private async offerFinishedWork(agentId: string, beadId: string, launch: string, rig: RigRow, worktree: string, branch: string): Promise<boolean> {
    const work = await commitsAhead(rig.path, branch, rig.default_branch);
    if (!work || work.commits.length === 0 || !work.commits.some((c) => c.subject.includes(beadId))) return false;
    if (await isDirty(worktree)) return false;
    if (this.store.get('SELECT 1 FROM merge_requests WHERE source_bead_id = ? AND head_sha = ?', beadId, work.head)) return false;
    this.store.report({
      type: 'work.recovered',
      agent: agentId,
      bead: beadId,
      payload: { launch, branch, head_sha: work.head, target: work.target, commits: work.commits.slice(0, 20) },
    });
    return true;
  }

  /** Live session of an agent: its own, or the refinery's running gate. */
  liveSessionOf(agentId: string): string | null {
    const gate = this.gateSessions.get(agentId);
    if (gate && this.host.has(gate)) return gate;
    const agent = getAgent(this.store, agentId);
    return agent?.session_id && this.host.has(agent.session_id) ? agent.session_id : null;
  }
}
