// Reading `town`'s command line: node's parseArgs, after a pass that names the flag in every
// mistake (unknown, missing value) and reads negative numbers as values, not flags.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors';

export type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

// No flag starts with a digit, so `-1` is always a value: `--priority -1`, `config set KEY -5`.
const NEGATIVE_NUMBER = /^-\d/;

/**
 * Checks every flag against `options` and returns argv in a form parseArgs reads the same way
 * every time: flags first (string values joined with `=`), then `--` and the positionals in order.
 */
function normalise(argv: string[], options: Options, command: string): string[] {
  const flags: string[] = [];
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (word === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!word.startsWith('-') || word === '-' || NEGATIVE_NUMBER.test(word)) {
      positionals.push(word);
      continue;
    }
    const eq = word.indexOf('=');
    const name = word.startsWith('--') ? word.slice(2, eq < 0 ? undefined : eq) : word.slice(1);
    const option = word.startsWith('--') ? (Object.hasOwn(options, name) ? options[name] : undefined) : Object.values(options).find((o) => o.short === name);
    const shown = word.startsWith('--') ? `--${name}` : word;
    if (!option) throw new UsageError(`${command} has no option ${shown} (see town --help)`);
    if (option.type === 'boolean') {
      if (eq >= 0) throw new UsageError(`${shown} takes no value`);
      flags.push(word);
      continue;
    }
    if (eq >= 0) {
      flags.push(word);
      continue;
    }
    const value = argv[i + 1];
    if (value === undefined || (value.startsWith('-') && value !== '-' && !NEGATIVE_NUMBER.test(value))) {
      throw new UsageError(`${shown} needs a value (write ${shown}=VALUE for a value that starts with -)`);
    }
    flags.push(`${shown}=${value}`);
    i++;
  }
  return [...flags, '--', ...positionals];
}

export function parse(argv: string[], options: Options, command: string): Parsed {
  try {
    const r = parseArgs({ args: normalise(argv, options, command), options, allowPositionals: true, strict: true });
    return { values: r.values as Parsed['values'], positionals: r.positionals };
  } catch (err) {
    if (err instanceof UsageError) throw err;
    // normalise() catches what parseArgs would refuse; keep its first line if it finds more.
    throw new UsageError((err as Error).message.split('\n')[0]);
  }
}

export const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
export const list = (v: unknown) => (Array.isArray(v) ? (v as string[]) : typeof v === 'string' ? [v] : []);

/** A whole number in decimal digits: `""`, `0x3`, `1e2` and `2.0` are refused, naming the flag. */
export function wholeNumber(v: unknown, flag: string, range: { min?: number; max?: number } = {}): number | undefined {
  if (v === undefined) return undefined;
  const text = String(v);
  const n = Number(text);
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(n)) throw new UsageError(`${flag} expects a whole number, got "${text}"`);
  const { min = -Infinity, max = Infinity } = range;
  if (n < min || n > max) {
    throw new UsageError(`${flag} must be ${max === Infinity ? `at least ${min}` : min === -Infinity ? `at most ${max}` : `between ${min} and ${max}`}, got ${n}`);
  }
  return n;
}

/** A dollar amount: `--budget 25` or `--budget 2.50`. */
export function dollars(v: unknown, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const text = String(v).replace(/^\$/, '');
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !(n > 0)) throw new UsageError(`${flag} expects an amount in US dollars such as 25 or 2.50, got "${String(v)}"`);
  return n;
}
