// Text from agents (and anyone) reaches the overseer's terminal only as visible characters:
// a bead title holding `\x1b]0;…\x07` must not retitle the window, move the cursor or
// overwrite a line. `--json` output stays exact: the same value, with controls as JSON escapes.

// C0 and C1 controls, DEL, and the Unicode controls that reorder or break lines
// (bidi embeddings/overrides/isolates, marks, line and paragraph separators).
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const CONTROLS_BUT_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeControl(c: string): string {
  const code = c.charCodeAt(0);
  return NAMED[c] ?? (code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
}

/** One line of text: every control character shown as its escape (`\x1b`, `\n`, `\u202e`). */
export function printable(text: string): string {
  return text.replace(CONTROLS, escapeControl);
}

/** Several lines (a bead body, a whole command's output): newlines and tabs kept, CRLF read as LF. */
export function printableLines(text: string): string {
  return text.replace(/\r\n/g, '\n').replace(CONTROLS_BUT_LINES, escapeControl);
}

/** A template whose interpolated values are shown on one line: line`updated ${bead.title}`. */
export function line(strings: TemplateStringsArray, ...values: unknown[]): string {
  return strings.reduce((out, s, i) => out + s + (i < values.length ? printable(String(values[i])) : ''), '');
}

// JSON.stringify escapes C0 controls but writes DEL, C1 and the Unicode controls as they are.
const RAW_IN_JSON = /[\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** JSON text that parses to exactly `value` and holds no control character a terminal would act on. */
export function jsonForTerminal(value: unknown, indent = 2): string {
  return JSON.stringify(value, null, indent).replace(RAW_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A command's answer: JSON with --json, else the human text; either way nothing active reaches the terminal. */
export function print(json: boolean, value: unknown, human: () => string) {
  process.stdout.write((json ? jsonForTerminal(value) : printableLines(human())) + '\n');
}
