// Town-wide knobs for the reconciler's rules. Defaults follow domain.md; each can be
// changed per town with `town config set KEY VALUE`.
import type { Store } from '../store/store';

export interface TownConfig {
  /** Dispatches per bead before it is marked failed. */
  dispatch_max_attempts: number;
  /** Wait before attempt n+1, in seconds, indexed by attempts so far (last value repeats). */
  dispatch_backoff_s: number[];
  /** Live polecats across all rigs. */
  max_polecats_town: number;
  /** After `town done`, how long a session may linger before it is stopped. */
  done_exit_grace_s: number;
  /** A blocked MR waiting on a dirty checkout is retried after this long. */
  blocked_retry_s: number;
  /** Timer tick for time-based rules. */
  tick_interval_ms: number;
  /** How agent sessions are confined: `none`, or `bwrap` (bubblewrap, Linux). */
  agent_sandbox: AgentSandbox;
}

export const AGENT_SANDBOXES = ['none', 'bwrap'] as const;
export type AgentSandbox = (typeof AGENT_SANDBOXES)[number];

export const DEFAULT_CONFIG: TownConfig = {
  dispatch_max_attempts: 5,
  dispatch_backoff_s: [0, 120, 300, 600, 1800],
  max_polecats_town: 20,
  done_exit_grace_s: 10,
  blocked_retry_s: 15,
  tick_interval_ms: 1000,
  agent_sandbox: 'none',
};

export const CONFIG_KEYS = Object.keys(DEFAULT_CONFIG) as (keyof TownConfig)[];

export function isConfigKey(key: string): key is keyof TownConfig {
  return (CONFIG_KEYS as string[]).includes(key);
}

export function validateConfigValue(key: keyof TownConfig, value: unknown): string | null {
  const def = DEFAULT_CONFIG[key];
  if (key === 'agent_sandbox') {
    return (AGENT_SANDBOXES as readonly unknown[]).includes(value) ? null : `expected one of ${AGENT_SANDBOXES.join(', ')}`;
  }
  if (Array.isArray(def)) {
    if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'number' && v >= 0)) {
      return 'expected a non-empty list of non-negative numbers';
    }
    return null;
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return 'expected a non-negative number';
  if (key === 'dispatch_max_attempts' && (value < 1 || !Number.isInteger(value))) return 'expected a whole number ≥ 1';
  return null;
}

export function readConfig(store: Store): TownConfig {
  const out = { ...DEFAULT_CONFIG };
  for (const key of CONFIG_KEYS) {
    (out as Record<string, unknown>)[key] = store.setting(`config.${key}`, DEFAULT_CONFIG[key]);
  }
  return out;
}

export function backoffMs(config: TownConfig, attemptsSoFar: number): number {
  if (attemptsSoFar <= 0) return 0;
  const list = config.dispatch_backoff_s;
  return (list[Math.min(attemptsSoFar, list.length - 1)] ?? 0) * 1000;
}
