// Forward-only, numbered schema migrations. Never edit a released migration: add one.

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'initial town schema',
    sql: `
      CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);

      CREATE TABLE rigs (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        path TEXT NOT NULL,
        default_branch TEXT NOT NULL,
        prefix TEXT NOT NULL UNIQUE,
        gates TEXT NOT NULL DEFAULT '[]',
        setup_command TEXT,
        max_polecats INTEGER NOT NULL DEFAULT 3,
        runtime TEXT NOT NULL DEFAULT 'scripted',
        command_template TEXT,
        merge_mode TEXT NOT NULL DEFAULT 'direct',
        auto_dispatch INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
      );

      CREATE TABLE beads (
        id TEXT PRIMARY KEY,
        rig_id TEXT REFERENCES rigs(id),
        type TEXT NOT NULL DEFAULT 'task',
        title TEXT NOT NULL,
        body TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'open',
        priority INTEGER NOT NULL DEFAULT 2 CHECK (priority BETWEEN 0 AND 4),
        labels TEXT NOT NULL DEFAULT '[]',
        assignee TEXT,
        parent_id TEXT REFERENCES beads(id),
        origin_kind TEXT NOT NULL CHECK (origin_kind <> ''),
        origin_id TEXT NOT NULL CHECK (origin_id <> ''),
        slung_to TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        started_at INTEGER,
        closed_at INTEGER,
        close_reason TEXT,
        dispatch_attempts INTEGER NOT NULL DEFAULT 0,
        last_dispatch_at INTEGER,
        metadata TEXT NOT NULL DEFAULT '{}'
      );
      CREATE INDEX beads_by_status ON beads(status, priority, created_at);
      CREATE INDEX beads_by_rig ON beads(rig_id, status);
      CREATE INDEX beads_by_assignee ON beads(assignee) WHERE assignee IS NOT NULL;

      CREATE TABLE dependencies (
        bead_id TEXT NOT NULL REFERENCES beads(id) ON DELETE CASCADE,
        depends_on_id TEXT NOT NULL REFERENCES beads(id) ON DELETE CASCADE,
        type TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (bead_id, depends_on_id, type)
      );
      CREATE INDEX dependencies_by_target ON dependencies(depends_on_id, type);

      CREATE TABLE convoys (
        id TEXT PRIMARY KEY REFERENCES beads(id) ON DELETE CASCADE,
        status TEXT NOT NULL DEFAULT 'staged',
        merge_mode TEXT NOT NULL DEFAULT 'direct',
        started_at INTEGER,
        landed_at INTEGER
      );
      CREATE TABLE convoy_members (
        convoy_id TEXT NOT NULL REFERENCES convoys(id) ON DELETE CASCADE,
        bead_id TEXT NOT NULL REFERENCES beads(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        PRIMARY KEY (convoy_id, bead_id)
      );
      CREATE INDEX convoy_members_by_bead ON convoy_members(bead_id);

      CREATE TABLE agents (
        id TEXT PRIMARY KEY,
        role TEXT NOT NULL,
        rig_id TEXT REFERENCES rigs(id),
        name TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'idle',
        hook_bead_id TEXT REFERENCES beads(id),
        runtime TEXT,
        worktree TEXT,
        branch TEXT,
        session_id TEXT,
        token_hash TEXT,
        done_bead_id TEXT,
        done_at INTEGER,
        stop_reason TEXT,
        last_output_at INTEGER,
        last_activity_at INTEGER,
        restarts INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE UNIQUE INDEX agents_one_per_hook ON agents(hook_bead_id) WHERE hook_bead_id IS NOT NULL;
      CREATE INDEX agents_by_rig ON agents(rig_id, role, status);
      CREATE UNIQUE INDEX agents_by_token ON agents(token_hash) WHERE token_hash IS NOT NULL;

      CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        agent_id TEXT NOT NULL REFERENCES agents(id),
        bead_id TEXT,
        command TEXT NOT NULL,
        cwd TEXT NOT NULL,
        pid INTEGER,
        pgid INTEGER,
        process_start TEXT,
        started_at INTEGER NOT NULL,
        ended_at INTEGER,
        exit_code INTEGER,
        signal INTEGER,
        bytes_out INTEGER NOT NULL DEFAULT 0,
        log_path TEXT
      );
      CREATE INDEX sessions_live ON sessions(agent_id) WHERE ended_at IS NULL;

      CREATE TABLE merge_requests (
        id TEXT PRIMARY KEY REFERENCES beads(id) ON DELETE CASCADE,
        source_bead_id TEXT NOT NULL REFERENCES beads(id),
        rig_id TEXT NOT NULL REFERENCES rigs(id),
        branch TEXT NOT NULL,
        target TEXT NOT NULL,
        head_sha TEXT,
        state TEXT NOT NULL DEFAULT 'queued',
        claimed_at INTEGER,
        attempts INTEGER NOT NULL DEFAULT 0,
        failure_type TEXT,
        failure_tail TEXT,
        blocked_reason TEXT,
        retry_at INTEGER,
        candidate_sha TEXT,
        merge_sha TEXT,
        backup_ref TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX merge_requests_by_rig ON merge_requests(rig_id, state);
      CREATE INDEX merge_requests_by_source ON merge_requests(source_bead_id);

      CREATE TABLE mail (
        id TEXT PRIMARY KEY,
        from_addr TEXT NOT NULL,
        to_addr TEXT NOT NULL,
        subject TEXT NOT NULL,
        body TEXT NOT NULL DEFAULT '',
        priority TEXT NOT NULL DEFAULT 'normal',
        kind TEXT NOT NULL DEFAULT 'notification',
        thread_id TEXT,
        created_at INTEGER NOT NULL,
        read_at INTEGER,
        acked_at INTEGER
      );
      CREATE INDEX mail_by_recipient ON mail(to_addr, created_at);

      CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        type TEXT NOT NULL,
        agent_id TEXT,
        bead_id TEXT,
        payload TEXT NOT NULL DEFAULT '{}',
        created_at INTEGER NOT NULL,
        processed_at INTEGER,
        attempts INTEGER NOT NULL DEFAULT 0,
        poisoned_at INTEGER,
        error TEXT
      );
      CREATE INDEX events_pending ON events(seq) WHERE processed_at IS NULL AND poisoned_at IS NULL;
      CREATE INDEX events_by_bead ON events(bead_id, seq) WHERE bead_id IS NOT NULL;
    `,
  },
  {
    version: 2,
    name: 'refinery intents',
    sql: `
      -- Written by the refinery before it moves a target branch, removed once the move and
      -- the user's checkout update are reported: a restart finds what a kill left half done.
      CREATE TABLE refinery_intents (
        rig_id TEXT PRIMARY KEY REFERENCES rigs(id),
        mr_id TEXT NOT NULL,
        target TEXT NOT NULL,
        from_sha TEXT NOT NULL,
        to_sha TEXT NOT NULL,
        follow_checkout INTEGER NOT NULL,
        backup_ref TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 3,
    name: 'launches, agent health, holds and escalations',
    sql: `
      -- Each start of an agent is a launch; reports carry it, so a late one from an earlier
      -- launch is recorded and ignored.
      ALTER TABLE agents ADD COLUMN launch_id TEXT;
      ALTER TABLE sessions ADD COLUMN launch_id TEXT;
      -- Gate processes are recorded like agent sessions, so startup recovery finds both.
      ALTER TABLE sessions ADD COLUMN kind TEXT NOT NULL DEFAULT 'agent';
      -- Health: why the agent is in its status (JSON evidence), and progress for GUPP.
      ALTER TABLE agents ADD COLUMN status_since INTEGER;
      ALTER TABLE agents ADD COLUMN status_evidence TEXT;
      ALTER TABLE agents ADD COLUMN last_progress_at INTEGER;
      ALTER TABLE agents ADD COLUMN nudged_at INTEGER;
      ALTER TABLE agents ADD COLUMN health_escalated_at INTEGER;
      -- Restarts within the current hook: clean exits respawned, crashes restarted.
      ALTER TABLE agents ADD COLUMN run_respawns INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE agents ADD COLUMN run_crashes INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE agents ADD COLUMN restart_at INTEGER;
      -- Stop and hold: the bead stays open but out of dispatch until the overseer releases it.
      ALTER TABLE beads ADD COLUMN held_at INTEGER;
      ALTER TABLE beads ADD COLUMN held_reason TEXT;

      CREATE TABLE escalations (
        id TEXT PRIMARY KEY,
        severity TEXT NOT NULL,
        source TEXT NOT NULL,
        agent_id TEXT,
        bead_id TEXT,
        reason TEXT NOT NULL,
        evidence TEXT NOT NULL DEFAULT '{}',
        body TEXT NOT NULL DEFAULT '',
        created_at INTEGER NOT NULL,
        last_raised_at INTEGER NOT NULL,
        raised_count INTEGER NOT NULL DEFAULT 1,
        acked_at INTEGER,
        acked_by TEXT
      );
      CREATE INDEX escalations_by_key ON escalations(reason, agent_id, bead_id, created_at);
      CREATE INDEX escalations_unacked ON escalations(last_raised_at) WHERE acked_at IS NULL;
      CREATE INDEX agents_by_status ON agents(status);
    `,
  },
  {
    version: 4,
    name: 'mail by sender, events by type, polecat collection',
    sql: `
      -- mail.send counts a sender's last minute of mail: a per-sender index keeps that cheap.
      CREATE INDEX mail_by_sender ON mail(from_addr, created_at);
      -- The dispatch circuit breaker counts recent failures of one type.
      CREATE INDEX events_by_type ON events(type, created_at);
      -- Collection of idle polecats: 'checking' while its worktree is inspected (it takes no
      -- work meanwhile), 'kept' when the worktree held work; gc_at is when.
      ALTER TABLE agents ADD COLUMN gc_state TEXT;
      ALTER TABLE agents ADD COLUMN gc_at INTEGER;
      CREATE INDEX sessions_by_end ON sessions(ended_at) WHERE log_path IS NOT NULL;
      -- A stray session (a late spawn of an earlier launch) is stopped: when that was asked,
      -- so the invariants give the stop its grace instead of counting from the spawn.
      ALTER TABLE sessions ADD COLUMN stop_requested_at INTEGER;
      -- Dispatch starts from the slung beads: a few, among thousands of open ones.
      CREATE INDEX beads_slung ON beads(slung_to) WHERE slung_to IS NOT NULL;
    `,
  },
  {
    version: 5,
    name: 'refinery worktree preparation',
    sql: `
      -- Which files, when they change between candidates, make the refinery re-run the rig's
      -- setup in its worktree (JSON list of globs); NULL is the default list of lockfiles.
      ALTER TABLE rigs ADD COLUMN setup_watch TEXT;
      -- The refinery's worktree as its setup last left it: the commit it ran at, the command,
      -- and the watched files' blob ids then. Absent: the next candidate runs setup.
      CREATE TABLE refinery_worktrees (
        rig_id TEXT PRIMARY KEY REFERENCES rigs(id),
        prepared_sha TEXT NOT NULL,
        setup_command TEXT NOT NULL,
        watched TEXT NOT NULL,
        prepared_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 6,
    name: 'target tips the refinery knows',
    sql: `
      -- Invariant 7: per rig and target branch, the tip the refinery last set (its CAS) or
      -- acknowledged (an outside move, reported once). A tip that differs was moved outside.
      CREATE TABLE target_tips (
        rig_id TEXT NOT NULL,
        target TEXT NOT NULL,
        sha TEXT NOT NULL,
        set_by TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (rig_id, target)
      );
    `,
  },
  {
    version: 7,
    name: 'log files of removed polecats',
    sql: `
      -- A collected polecat's session rows go with it; their log files wait here for
      -- gc.keep_logs like any other session's, instead of leaking.
      CREATE TABLE released_logs (path TEXT PRIMARY KEY, ended_at INTEGER NOT NULL);
      CREATE INDEX released_logs_by_end ON released_logs(ended_at);
    `,
  },
  {
    version: 8,
    name: 'merge queue leases and positions',
    sql: `
      -- A claim is a lease: who holds it and until when (renewed while its gates make progress).
      ALTER TABLE merge_requests ADD COLUMN claimed_by TEXT;
      ALTER TABLE merge_requests ADD COLUMN lease_until INTEGER;
      -- A place in the queue set by the overseer (1 = next) and when, so the latest move wins a tie.
      ALTER TABLE merge_requests ADD COLUMN position INTEGER;
      ALTER TABLE merge_requests ADD COLUMN moved_at INTEGER;
    `,
  },
  {
    version: 9,
    name: 'rig remotes',
    sql: `
      -- The git remote the refinery pushes each merged target to (NULL: no push).
      ALTER TABLE rigs ADD COLUMN remote TEXT;
    `,
  },
  {
    version: 10,
    name: 'flaky merge requests',
    sql: `
      -- A gate of this MR failed and passed on its single rerun (shown in the queue views).
      ALTER TABLE merge_requests ADD COLUMN flaky INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 11,
    name: 'agent runtimes and usage',
    sql: `
      -- How the rig's agents run: permission mode (ask, auto, bypass), model, spend limit.
      ALTER TABLE rigs ADD COLUMN permissions TEXT NOT NULL DEFAULT 'bypass';
      ALTER TABLE rigs ADD COLUMN model TEXT;
      ALTER TABLE rigs ADD COLUMN budget_usd REAL;
      ALTER TABLE convoys ADD COLUMN budget_usd REAL;
      -- The runtime's own conversation (Claude Code or Codex session id): resumed after a
      -- restart while the agent still holds the same bead.
      ALTER TABLE agents ADD COLUMN runtime_session TEXT;
      ALTER TABLE agents ADD COLUMN runtime_session_bead TEXT;
      -- The newest hook the runtime reported: {event, at, detail}.
      ALTER TABLE agents ADD COLUMN last_hook TEXT;
      -- The runtime's turn ended without \`town done\` (cleared by its next prompt or tool).
      ALTER TABLE agents ADD COLUMN turn_ended_at INTEGER;
      -- Reminders to finish sent on the current hook (a few, then the overseer hears).
      ALTER TABLE agents ADD COLUMN finish_reminders INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE sessions ADD COLUMN runtime TEXT;
      ALTER TABLE sessions ADD COLUMN runtime_session TEXT;
      -- Tokens and cost per session as the runtime reported them (running totals).
      CREATE TABLE usage (
        session_id TEXT PRIMARY KEY,
        agent_id TEXT NOT NULL,
        bead_id TEXT,
        rig_id TEXT,
        runtime TEXT NOT NULL,
        model TEXT,
        input_tokens INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        cache_creation_tokens INTEGER NOT NULL DEFAULT 0,
        cache_read_tokens INTEGER NOT NULL DEFAULT 0,
        cost_usd REAL NOT NULL DEFAULT 0,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX usage_by_bead ON usage(bead_id);
      CREATE INDEX usage_by_agent ON usage(agent_id);
    `,
  },
  {
    version: 12,
    name: 'resolution beads of merge requests',
    sql: `
      -- The bead that resolves this MR's latest merge conflict: its end without a resolution
      -- fails the MR (instead of leaving it blocked), and only its done re-queues the MR.
      ALTER TABLE merge_requests ADD COLUMN resolution_bead TEXT;
      CREATE INDEX merge_requests_by_resolution ON merge_requests(resolution_bead);
      -- MRs blocked before this column existed: the newest bead that says it resolves them.
      UPDATE merge_requests SET resolution_bead = (
        SELECT b.id FROM beads b WHERE json_extract(b.metadata, '$.resolves.mr') = merge_requests.id ORDER BY b.created_at DESC, b.id DESC LIMIT 1
      ) WHERE state = 'blocked';
    `,
  },
  {
    version: 13,
    name: 'budget alerts',
    sql: `
      -- How far each budget's spend has been announced (warning at 80 %, reached at 100 %), so a
      -- crossing is announced once; a raised budget lowers it again (re-armed). Reached pauses
      -- dispatch of what the budget covers. scope: town (id ''), rig, convoy.
      CREATE TABLE budget_alerts (
        scope TEXT NOT NULL,
        id TEXT NOT NULL,
        level TEXT NOT NULL,
        spent_usd REAL NOT NULL,
        budget_usd REAL NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (scope, id)
      );
    `,
  },
  {
    version: 14,
    name: 'usage without a price',
    sql: `
      -- Whether any report of the session carried a cost. Codex reports tokens only and
      -- Overseer has no price table: its cost is unknown, not $0 (roll-ups say so).
      ALTER TABLE usage ADD COLUMN cost_known INTEGER NOT NULL DEFAULT 1;
      UPDATE usage SET cost_known = 0 WHERE runtime = 'codex';
    `,
  },
  {
    version: 15,
    name: 'dispatch order index',
    sql: `
      -- The dispatcher walks a rig's open beads in dispatch order and stops after as many as
      -- it has free slots (reconciler/dispatch-candidates.ts), instead of judging every one.
      CREATE INDEX beads_dispatch_order ON beads(rig_id, priority, created_at, id) WHERE status = 'open';
    `,
  },
  {
    version: 16,
    name: 'mail from bd',
    sql: `
      -- Mail imported from a bd / Gas Town file keeps the record's id (re-imports and exports
      -- find it by that) and the id of the message it answers.
      ALTER TABLE mail ADD COLUMN bd_id TEXT;
      ALTER TABLE mail ADD COLUMN reply_to TEXT;
    `,
  },
];
