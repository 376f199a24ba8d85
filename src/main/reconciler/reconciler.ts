// The loop that owns every state change that is not a direct command:
// drain events (one transaction each) → pure rules → apply actions (one transaction)
// → side effects after commit → invariants.
import type { InvariantViolation, TickMetrics } from '../../shared/doctor';
import { parseEventPayload, type ParsedEvent } from '../../shared/events';
import type { Store } from '../store/store';
import { frozenState } from '../store/town-frozen';
import type { EventRow } from '../store/views';
import { applyAction } from './apply';
import type { Clock } from './clock';
import { readConfig } from './config';
import type { Effect, EffectRunner } from './effects';
import { handleEvent } from './event-handlers';
import { checkInvariants } from './invariants';
import { storeQueries } from './queries';
import { RULES, type Action, type Rule } from './rules';
import { describeTick, TickLog } from './tick-log';
import { ViolationLedger } from './violation-ledger';

const MAX_EVENT_ATTEMPTS = 3;

export interface ReconcilerOptions {
  store: Store;
  clock: Clock;
  effects: EffectRunner;
  worktreeRoot: string;
  rules?: Record<string, Rule>;
  debounceMs?: number;
  log?: (line: string) => void;
  /** MRs whose run this engine holds now (the refinery's leases are verified against it). */
  mergeRunsInFlight?: () => ReadonlySet<string>;
}

export interface TickReport {
  events: number;
  poisoned: number;
  actions: Action[];
  effects: Effect[];
  ruleErrors: string[];
  violations: InvariantViolation[];
  ms: number;
}

export class Reconciler {
  private readonly o: Required<Omit<ReconcilerOptions, 'log' | 'mergeRunsInFlight'>> & Pick<ReconcilerOptions, 'log' | 'mergeRunsInFlight'>;
  private running = false;
  private again = false;
  /** While a pass writes its own changes: those wake nothing (the pass already saw them). */
  private writing = false;
  private timer: unknown = null;
  private wakeTimer: unknown = null;
  private unsubscribe: (() => void) | null = null;
  private inFlight = new Set<Promise<void>>();
  private stopped = true;
  readonly metrics = {
    ticks: 0, eventsDrained: 0, actions: 0, effectsOk: 0, effectsFailed: 0, lastTickMs: 0,
    violations: [] as InvariantViolation[],
    /** The last passes, for `town doctor`. */
    recent: new TickLog(),
  };
  private readonly ledger = new ViolationLedger();

  constructor(options: ReconcilerOptions) {
    this.o = { rules: RULES, debounceMs: 3, ...options };
  }

  start() {
    this.stopped = false;
    this.unsubscribe = this.o.store.onEventsWritten(() => this.wake());
    this.scheduleTimer();
    this.wake();
  }

  /** Stops ticking; side effects already running are awaited. */
  async stop() {
    await this.halt();
    await this.settled();
  }

  /** No new passes; a pass running now ends, side effects in flight go on (see settled). */
  async halt() {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.timer) this.o.clock.clearTimeout(this.timer);
    if (this.wakeTimer) this.o.clock.clearTimeout(this.wakeTimer);
    while (this.running) await new Promise((r) => setTimeout(r, 5));
  }

  /** Resolves when no side effect is in flight. */
  async settled() {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /**
   * Asks for a pass soon. Every event written calls this; a burst within the debounce runs
   * one pass, and a wake during a pass's side effects runs one more after it (never re-entrant).
   */
  wake() {
    if (this.stopped || this.writing || this.wakeTimer) return;
    this.wakeTimer = this.o.clock.setTimeout(() => {
      this.wakeTimer = null;
      void this.tick();
    }, this.o.debounceMs);
  }

  get dispatchPaused(): boolean {
    return this.o.store.setting('dispatch_paused', false);
  }

  /** One full pass. Overlapping calls coalesce into one more pass. */
  async tick(): Promise<TickReport | null> {
    if (this.running) {
      this.again = true;
      return null;
    }
    this.running = true;
    try {
      let report = this.pass();
      while (this.again && !this.stopped) {
        this.again = false;
        report = this.pass();
      }
      return report;
    } finally {
      this.writing = false;
      this.running = false;
    }
  }

  /** Applies pending events without running rules (used at shutdown: no new dispatches). */
  async drainOnly(): Promise<TickReport> {
    try {
      return this.pass({ rules: false });
    } finally {
      this.writing = false;
    }
  }

  private pass(o: { rules: boolean } = { rules: true }): TickReport {
    const { store } = this.o;
    const started = performance.now();
    const startedAt = store.now();
    const config = readConfig(store);
    const effects: Effect[] = [];
    let events = 0;
    let poisoned = 0;
    this.writing = true;

    // 1. Drain: each event in its own transaction with its processed mark.
    for (;;) {
      const batch = store.all<EventRow>(
        'SELECT * FROM events WHERE processed_at IS NULL AND poisoned_at IS NULL ORDER BY seq LIMIT 100',
      );
      if (batch.length === 0) break;
      for (const e of batch) {
        let parsed: ParsedEvent;
        try {
          parsed = parseEventPayload(e.type, e.payload);
        } catch (err) {
          // A payload that does not fit its type never will: poisoned at once, the rest go on.
          store.run('UPDATE events SET attempts = attempts + 1, error = ?, poisoned_at = ? WHERE seq = ?', (err as Error).message, store.now(), e.seq);
          poisoned++;
          this.o.log?.(`event ${e.seq} (${e.type}) poisoned: ${(err as Error).message}`);
          continue;
        }
        try {
          const out = store.transaction(() => {
            const fx = handleEvent({ store, config }, e, parsed);
            store.run('UPDATE events SET processed_at = ?, attempts = attempts + 1 WHERE seq = ?', store.now(), e.seq);
            return fx;
          });
          effects.push(...out);
          events++;
        } catch (err) {
          const attempts = e.attempts + 1;
          const poison = attempts >= MAX_EVENT_ATTEMPTS;
          store.run(
            'UPDATE events SET attempts = ?, error = ?, poisoned_at = ? WHERE seq = ?',
            attempts, String((err as Error).stack ?? err), poison ? store.now() : null, e.seq,
          );
          if (poison) poisoned++;
          this.o.log?.(`event ${e.seq} (${e.type}) failed (attempt ${attempts}): ${(err as Error).message}`);
        }
      }
      if (batch.length < 100) break;
    }

    // 2. Reconcile: every rule isolated, so one failing rule does not stop the others.
    const frozen = frozenState(store) !== null;
    const ctx = { q: storeQueries(store), now: store.now(), config, dispatchPaused: this.dispatchPaused || frozen, frozen, mergeRunsInFlight: this.o.mergeRunsInFlight?.() };
    const actions: Action[] = [];
    const ruleErrors: string[] = [];
    for (const [name, rule] of o.rules ? Object.entries(this.o.rules) : []) {
      try {
        actions.push(...rule(ctx));
      } catch (err) {
        ruleErrors.push(`${name}: ${(err as Error).message}`);
        this.o.log?.(`rule ${name} failed: ${(err as Error).message}`);
      }
    }

    // 3. Apply in one transaction, each action in its own savepoint: one that throws is rolled
    // back and reported, the others still apply. Side effects only after the commit.
    if (actions.length > 0) {
      const applyOne = (a: Action) => {
        try {
          return store.savepoint(() => applyAction({ store, config, worktreeRoot: this.o.worktreeRoot }, a));
        } catch (err) {
          ruleErrors.push(`apply ${a.type}: ${(err as Error).message}`);
          this.o.log?.(`applying ${a.type} failed: ${(err as Error).message}`);
          return [];
        }
      };
      try {
        effects.push(...store.transaction(() => actions.flatMap(applyOne)));
      } catch (err) {
        ruleErrors.push(`apply: ${(err as Error).message}`);
        this.o.log?.(`applying actions failed: ${(err as Error).message}`);
      }
    }
    const byType: Record<string, number> = {};
    for (const a of actions) byType[a.type] = (byType[a.type] ?? 0) + 1;
    const tick: TickMetrics = {
      at: new Date(startedAt).toISOString(), events, poisoned, actions: byType,
      effects: { ok: 0, failed: 0, pending: effects.length }, violations: 0, rule_errors: ruleErrors.length, ms: 0,
    };

    // 4. Invariants and metrics: a violation is recorded when it appears and when it clears.
    let violations: InvariantViolation[] = [];
    try {
      violations = checkInvariants(store);
      const { seen, cleared } = this.ledger.update(store, violations);
      tick.ms = performance.now() - started;
      for (const v of seen) this.o.log?.(`invariant ${v.invariant} violated: ${v.message} (tick: ${describeTick(tick)})`);
      for (const v of cleared) this.o.log?.(`invariant ${v.invariant} holds again: ${v.message}`);
    } catch (err) {
      ruleErrors.push(`invariants: ${(err as Error).message}`);
      this.o.log?.(`checking invariants failed: ${(err as Error).message}`);
    }
    this.metrics.violations = violations;
    const ms = performance.now() - started;
    Object.assign(tick, { ms, violations: violations.length, rule_errors: ruleErrors.length });
    this.metrics.recent.add(tick);
    this.metrics.ticks++;
    this.metrics.eventsDrained += events;
    this.metrics.actions += actions.length;
    this.metrics.lastTickMs = ms;
    // Last: an effect may report at once (a start that fails early), and that report wakes the next pass.
    this.writing = false;
    for (const effect of effects) this.launch(effect, tick);
    return { events, poisoned, actions, effects, ruleErrors, violations, ms };
  }

  /** Runs a side effect after commit; its outcome is counted on the pass that launched it. */
  private launch(effect: Effect, tick: TickMetrics) {
    const p = this.o.effects
      .run(effect)
      .then(() => {
        this.metrics.effectsOk++;
        tick.effects.ok++;
      })
      .catch((err) => {
        this.metrics.effectsFailed++;
        tick.effects.failed++;
        this.o.log?.(`effect ${effect.type} failed: ${(err as Error).message}`);
      })
      .finally(() => {
        tick.effects.pending--;
        this.inFlight.delete(p);
      });
    this.inFlight.add(p);
  }

  private scheduleTimer() {
    if (this.stopped) return;
    const interval = readConfig(this.o.store)['town.tick_interval'];
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = null;
      void this.tick().finally(() => this.scheduleTimer());
    }, interval);
  }
}
