// Town-wide knobs for the reconciler's rules, per town (`town config set KEY VALUE`),
// applied without a restart. Defaults follow domain.md. Durations are written `90s`,
// `15m`, `2h` and held in milliseconds; the snake_case keys of earlier releases still
// work as aliases, in their old units.
import type { ConfigSettingView, ConfigValue } from '../../shared/domain';
import type { Store } from '../store/store';

export const AGENT_SANDBOXES = ['none', 'bwrap'] as const;
export type AgentSandbox = (typeof AGENT_SANDBOXES)[number];

type Spec =
  | { kind: 'count'; default: number; min: number; about: string }
  | { kind: 'duration'; default: number; about: string }
  | { kind: 'durations'; default: number[]; about: string }
  | { kind: 'choice'; default: string; choices: readonly string[]; about: string }
  /** Free text, up to maxLength; each of `needs` must appear in it (template placeholders). */
  | { kind: 'text'; default: string; maxLength: number; needs: readonly string[]; about: string }
  /** An absolute path to an executable, or '' (found on PATH). */
  | { kind: 'path'; default: ''; about: string };

const S = 1000;
const M = 60 * S;
const H = 60 * M;

export const CONFIG_SPEC = {
  'dispatch.max_attempts': { kind: 'count', default: 5, min: 1, about: 'dispatches per bead before it is marked failed' },
  'dispatch.backoff': { kind: 'durations', default: [0, 2 * M, 5 * M, 10 * M, 30 * M], about: 'wait before each further attempt (the last repeats)' },
  'dispatch.breaker_failures': { kind: 'count', default: 20, min: 1, about: 'dispatch failures within the window that pause dispatch' },
  'dispatch.breaker_window': { kind: 'duration', default: 30 * M, about: 'window of the dispatch circuit breaker' },
  'town.max_polecats': { kind: 'count', default: 20, min: 0, about: 'live polecats across all rigs' },
  'town.tick_interval': { kind: 'duration', default: 1 * S, about: 'timer for time-based rules (events wake the reconciler at once)' },
  'health.waiting_after': { kind: 'duration', default: 3 * S, about: 'quiet time at a terminal read before an agent counts as waiting' },
  'health.nudge_after': { kind: 'duration', default: 15 * M, about: 'no progress this long: nudge the agent' },
  'health.escalate_after': { kind: 'duration', default: 60 * M, about: 'no progress this long: escalate' },
  'health.nudge_text': {
    kind: 'text',
    default: '[town] You have {bead} "{title}" on your hook and no progress was seen. If you are blocked, say so with: town done --status escalated --summary "why". Otherwise continue the work.',
    maxLength: 500,
    needs: ['{bead}'],
    about: 'typed into a stalled agent\'s terminal; {bead} is its bead, {title} the title',
  },
  'health.stop_after': { kind: 'duration', default: 120 * M, about: 'no progress this long: stop the agent and reopen its bead' },
  'health.stale_in_progress_after': { kind: 'duration', default: 5 * M, about: 'in progress with no live agent this long: reopen' },
  'health.respawn_clean_exits': { kind: 'count', default: 1, min: 0, about: 'respawns after a clean exit without done' },
  'health.crash_restarts': { kind: 'count', default: 3, min: 0, about: 'restarts after crashes before the bead is reopened' },
  'health.crash_backoff': { kind: 'durations', default: [5 * S, 30 * S, 2 * M], about: 'wait before each crash restart' },
  'health.done_exit_grace': { kind: 'duration', default: 10 * S, about: 'after done, how long a session may linger before it is stopped' },
  'escalation.cooldown': { kind: 'duration', default: 30 * M, about: 'the same escalation is not raised again within this' },
  'escalation.reescalate_after': { kind: 'duration', default: 60 * M, about: 'an unacked escalation is raised again after this (at most twice)' },
  'mail.rate_limit': { kind: 'count', default: 30, min: 1, about: 'messages one sender may send per minute; more are refused' },
  'gc.idle_polecat_after': { kind: 'duration', default: 24 * H, about: 'idle polecats without a hook are removed (clean worktrees only)' },
  'gc.keep_events': { kind: 'count', default: 200_000, min: 1000, about: 'processed events kept; older ones are pruned a batch per tick' },
  'gc.keep_logs': { kind: 'duration', default: 7 * 24 * H, about: 'session logs of sessions ended longer ago are deleted' },
  'refinery.blocked_retry': { kind: 'duration', default: 15 * S, about: 'a merge blocked by a dirty checkout is retried after this' },
  'mq.lease': { kind: 'duration', default: 30 * M, about: 'a merge claim with no gate progress this long, whose holder is gone, goes back to the queue' },
  'mq.retry_penalty': { kind: 'duration', default: 10 * M, about: 'each retry of an MR counts as this much younger in the queue order' },
  'mq.push_retries': { kind: 'count', default: 3, min: 0, about: 'push attempts after the first before a merge fails with needs-retry' },
  'mq.push_backoff': { kind: 'durations', default: [1 * S, 2 * S, 4 * S, 8 * S], about: 'wait before each further push attempt (the last repeats)' },
  'mq.max_retries': { kind: 'count', default: 5, min: 0, about: 'reworks of one bead after failed merges before the overseer is asked instead' },
  'mq.keep_refs_for': { kind: 'duration', default: 7 * 24 * H, about: 'merged polecat branches, landed convoy branches and merge backup refs are deleted this long after; never a branch with unmerged commits' },
  'agents.idle_nudge_after': { kind: 'duration', default: 1 * M, about: 'an agent whose turn ended without town done is reminded to finish after this' },
  'runtimes.claude_path': { kind: 'path', default: '', about: 'the claude executable; empty: found on PATH' },
  'runtimes.codex_path': { kind: 'path', default: '', about: 'the codex executable; empty: found on PATH' },
  'runtimes.trust_worktrees': {
    kind: 'choice', default: 'on', choices: ['on', 'off'],
    about: "mark each agent worktree trusted in the runtime's town-owned config (off: the CLI asks, and the agent shows as waiting)",
  },
  'costs.town_budget': { kind: 'count', default: 0, min: 0, about: 'spend limit of the whole town in US dollars (0: none); dispatch pauses when it is reached' },
  'agents.sandbox': { kind: 'choice', default: 'none', choices: AGENT_SANDBOXES, about: 'how agent sessions are confined: none, or bwrap (Linux)' },
} as const satisfies Record<string, Spec>;

export type ConfigKey = keyof typeof CONFIG_SPEC;
type ValueOf<K extends ConfigKey> = (typeof CONFIG_SPEC)[K] extends { kind: 'durations' }
  ? number[]
  : (typeof CONFIG_SPEC)[K] extends { kind: 'choice' | 'text' | 'path' }
    ? string
    : number;
export type TownConfig = { [K in ConfigKey]: ValueOf<K> } & { 'agents.sandbox': AgentSandbox };

export const CONFIG_KEYS = Object.keys(CONFIG_SPEC) as ConfigKey[];

/** Keys of earlier releases, with the unit their bare numbers were in. */
export const CONFIG_ALIASES: Record<string, { key: ConfigKey; unitMs: number }> = {
  dispatch_max_attempts: { key: 'dispatch.max_attempts', unitMs: 1 },
  dispatch_backoff_s: { key: 'dispatch.backoff', unitMs: S },
  max_polecats_town: { key: 'town.max_polecats', unitMs: 1 },
  done_exit_grace_s: { key: 'health.done_exit_grace', unitMs: S },
  blocked_retry_s: { key: 'refinery.blocked_retry', unitMs: S },
  tick_interval_ms: { key: 'town.tick_interval', unitMs: 1 },
  agent_sandbox: { key: 'agents.sandbox', unitMs: 1 },
};

export const DEFAULT_CONFIG = Object.fromEntries(CONFIG_KEYS.map((k) => [k, CONFIG_SPEC[k].default])) as unknown as TownConfig;

export function resolveConfigKey(key: string): { key: ConfigKey; unitMs: number | null } | null {
  if (key in CONFIG_SPEC) return { key: key as ConfigKey, unitMs: null };
  return CONFIG_ALIASES[key] ?? null;
}

/** The known key (or alias) a mistyped one most likely meant, if one is close. */
export function closestConfigKey(key: string, extra: readonly string[] = []): string | null {
  let best: { key: string; d: number } | null = null;
  for (const k of [...CONFIG_KEYS, ...Object.keys(CONFIG_ALIASES), ...extra]) {
    const d = editDistance(key.toLowerCase(), k);
    if (d <= Math.max(2, Math.floor(k.length / 5)) && (!best || d < best.d)) best = { key: k, d };
  }
  return best?.key ?? null;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row.push(Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = row;
  }
  return prev[b.length];
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: S, m: M, h: H, d: 24 * H };

/** `90s`, `15m`, `2h` → ms; a bare number only where the key's unit is known (aliases), or 0. */
export function parseDuration(v: unknown, unitMs: number | null): number | null {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return unitMs !== null ? v * unitMs : v === 0 ? 0 : null;
  if (typeof v !== 'string') return null;
  const t = v.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return parseDuration(Number(t), unitMs);
  const m = DURATION.exec(t);
  return m ? Math.round(Number(m[1]) * UNIT_MS[m[2]]) : null;
}

export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  for (const [unit, size] of [['d', 24 * H], ['h', H], ['m', M], ['s', S]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** The canonical value for a key, or a sentence saying what was expected. */
export function parseConfigValue(key: ConfigKey, raw: unknown, unitMs: number | null): { value: unknown } | { problem: string } {
  const spec: Spec = CONFIG_SPEC[key];
  switch (spec.kind) {
    case 'count': {
      const n = typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : raw;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < spec.min || n > 1_000_000) return { problem: `expected a whole number ≥ ${spec.min}` };
      return { value: n };
    }
    case 'duration': {
      const ms = parseDuration(raw, unitMs);
      return ms === null ? { problem: 'expected a duration like 90s, 15m or 2h' } : { value: ms };
    }
    case 'durations': {
      const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : [raw];
      if (items.length === 0 || items.length > 32) return { problem: 'expected 1 to 32 comma-separated durations like 0,2m,5m' };
      const out: number[] = [];
      for (const item of items) {
        const ms = parseDuration(typeof item === 'string' ? item.trim() : item, unitMs);
        if (ms === null) return { problem: 'expected comma-separated durations like 0,2m,5m' };
        out.push(ms);
      }
      return { value: out };
    }
    case 'choice':
      return spec.choices.includes(raw as string) ? { value: raw } : { problem: `expected one of ${spec.choices.join(', ')}` };
    case 'path': {
      const text = typeof raw === 'string' ? raw.trim() : null;
      if (text === '' || text === 'default') return { value: '' };
      if (text === null || !text.startsWith('/') || text.length > 4096 || /[\u0000-\u001f\u007f]/.test(text)) {
        return { problem: 'expected an absolute path to an executable, or "default" to find it on PATH' };
      }
      return { value: text };
    }
    case 'text': {
      if (typeof raw !== 'string' || raw.trim() === '' || raw.length > spec.maxLength) return { problem: `expected text of 1 to ${spec.maxLength} characters` };
      // Typed into a terminal: a control character would act as a keystroke.
      if (/[\u0000-\u001f\u007f]/.test(raw)) return { problem: 'expected one line of text without control characters' };
      const missing = spec.needs.filter((n) => !raw.includes(n));
      return missing.length ? { problem: `expected the text to contain ${missing.join(', ')}` } : { value: raw };
    }
  }
}

/** How a value reads to a person: durations as `15m`, lists comma-separated. */
export function displayConfigValue(key: ConfigKey, value: unknown): string {
  const spec: Spec = CONFIG_SPEC[key];
  if (spec.kind === 'duration') return formatDuration(value as number);
  if (spec.kind === 'durations') return (value as number[]).map(formatDuration).join(',');
  if (spec.kind === 'path' && value === '') return 'default';
  return String(value);
}

/** One setting as clients see it: canonical and written value, default, what it does, its old names. */
export function configSettingView(key: ConfigKey, value: unknown): ConfigSettingView {
  const spec: Spec = CONFIG_SPEC[key];
  return {
    key,
    value: value as ConfigValue,
    display: displayConfigValue(key, value),
    default: spec.default as ConfigValue,
    default_display: displayConfigValue(key, spec.default),
    kind: spec.kind,
    ...(spec.kind === 'choice' ? { choices: [...spec.choices] } : {}),
    about: spec.about,
    aliases: Object.entries(CONFIG_ALIASES).filter(([, a]) => a.key === key).map(([alias]) => alias),
  };
}

export function readConfig(store: Store): TownConfig {
  const out: Record<string, unknown> = { ...DEFAULT_CONFIG };
  for (const key of CONFIG_KEYS) {
    const stored = store.setting<unknown>(`config.${key}`, undefined);
    if (stored !== undefined) out[key] = stored;
  }
  // Values set under the old keys before they were renamed, in their old units.
  for (const [alias, { key, unitMs }] of Object.entries(CONFIG_ALIASES)) {
    if (store.setting<unknown>(`config.${key}`, undefined) !== undefined) continue;
    const legacy = store.setting<unknown>(`config.${alias}`, undefined);
    if (legacy === undefined) continue;
    const parsed = parseConfigValue(key, legacy, unitMs);
    if ('value' in parsed) out[key] = parsed.value;
  }
  return out as TownConfig;
}

/** Wait before attempt n+1, indexed by attempts so far (the last value repeats). */
export function backoffMs(config: TownConfig, attemptsSoFar: number): number {
  if (attemptsSoFar <= 0) return 0;
  const list = config['dispatch.backoff'];
  return list[Math.min(attemptsSoFar, list.length - 1)] ?? 0;
}
