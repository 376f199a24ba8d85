// `town.config`: read every town setting, one by key or alias, or set some. Values arrive as
// a person writes them (`15m`, `0,2m,5m`) or in the old JSON forms; each is checked before any
// is written, and a refusal names the key (`set.health.nudge_after`) and what was expected.
import type { TownConfigView } from '../../shared/domain';
import { invalid } from '../../shared/errors';
import {
  closestConfigKey,
  CONFIG_KEYS,
  configSettingView,
  displayConfigValue,
  parseConfigValue,
  readConfig,
  resolveConfigKey,
  type ConfigKey,
} from '../reconciler/config';
import { townPrefix } from '../store/beads';
import { isDispatchPaused, pauseDispatch, resumeDispatch } from '../store/dispatch-pause';
import type { Store } from '../store/store';
import { reviewChangedBudget } from '../reconciler/budgets';
import { TOWN_BUDGET_ID } from '../store/budgets';
import type { Handlers } from './context';

/** Town-wide values kept outside the config table, under their own names. */
const TOWN_FIELDS = {
  dispatch_paused: {
    parse: (v: unknown) => (typeof v === 'boolean' ? { value: v } : v === 'true' || v === 'false' ? { value: v === 'true' } : { problem: 'expected true or false' }),
    read: (store: Store) => String(store.setting('dispatch_paused', false)),
  },
  town_prefix: {
    parse: (v: unknown) => (typeof v === 'string' && /^[a-z][a-z0-9]{0,7}$/.test(v) ? { value: v } : { problem: 'lowercase letters and digits' }),
    read: (store: Store) => townPrefix(store),
  },
} as const;
type TownField = keyof typeof TOWN_FIELDS;
const isTownField = (key: string): key is TownField => Object.hasOwn(TOWN_FIELDS, key);

type Target = { key: ConfigKey; unitMs: number | null } | { field: TownField };

function target(key: string, field: string): Target {
  if (isTownField(key)) return { field: key };
  const resolved = resolveConfigKey(key);
  if (!resolved) {
    const near = key.length <= 100 ? closestConfigKey(key, Object.keys(TOWN_FIELDS)) : null;
    throw invalid(`unknown setting ${key}; ${near ? `did you mean ${near}?` : `known: ${[...CONFIG_KEYS, ...Object.keys(TOWN_FIELDS)].join(', ')}`}`, field);
  }
  return resolved;
}

/** Where a target lives in the settings table, and how it reads to a person now. */
const storageKey = (t: Target) => ('field' in t ? t.field : `config.${t.key}`);
const displayNow = (store: Store, t: Target) => ('field' in t ? TOWN_FIELDS[t.field].read(store) : displayConfigValue(t.key, readConfig(store)[t.key]));
const shownKey = (t: Target) => ('field' in t ? t.field : t.key);

function writeSettings(store: Store, set: Record<string, unknown>): TownConfigView['changed'] {
  const writes = Object.entries(set).map(([key, raw]) => {
    const t = target(key, `set.${key}`);
    const parsed = 'field' in t ? TOWN_FIELDS[t.field].parse(raw) : parseConfigValue(t.key, raw, t.unitMs);
    const named = 'key' in t && t.key !== key ? `${key} (${t.key})` : key;
    if ('problem' in parsed) throw invalid(`${named}: ${parsed.problem}`, `set.${key}`);
    return { t, value: parsed.value };
  });
  return store.transaction(() =>
    writes.map(({ t, value }) => {
      const was = displayNow(store, t);
      if ('field' in t && t.field === 'dispatch_paused') setDispatchPaused(store, value as boolean);
      else store.setSetting(storageKey(t), value);
      store.event({ type: 'config.set', payload: { key: shownKey(t), value } });
      if ('key' in t && t.key === 'costs.town_budget') reviewChangedBudget(store, 'town', TOWN_BUDGET_ID);
      return { key: shownKey(t), was, now: displayNow(store, t) };
    }),
  );
}

/** Pausing and resuming go through their writer: the reason is kept and the breaker restarts its count. */
function setDispatchPaused(store: Store, paused: boolean) {
  if (paused === isDispatchPaused(store)) return;
  if (paused) pauseDispatch(store, { by: 'overseer', reason: 'paused by the overseer' });
  else resumeDispatch(store, 'overseer');
}

export const configHandlers: Handlers<'town.config'> = {
  'town.config': (ctx, _c, input) => {
    const { store } = ctx;
    const asked = input.get === undefined ? null : target(input.get, 'get');
    const changed = input.set ? writeSettings(store, input.set) : [];
    if (changed.length) ctx.wake();
    const config = readConfig(store);
    const keys = asked === null ? CONFIG_KEYS : 'key' in asked ? [asked.key] : [];
    return {
      settings: keys.map((k) => configSettingView(k, config[k])),
      changed,
      dispatch_paused: store.setting('dispatch_paused', false),
      town_prefix: townPrefix(store),
    };
  },
};
