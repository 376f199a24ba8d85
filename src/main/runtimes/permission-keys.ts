// The keys that answer a real agent CLI's permission dialog, per runtime, in steps typed a
// moment apart (each lets the TUI redraw before the next). Pure: the API sends them.
import type { PermissionDecision } from '../../shared/domain';

type KeysFor = (decision: PermissionDecision, reason: string) => string[];

/** One line: Enter would send it half-typed; control characters would drive the dialog. */
const oneLine = (reason: string) => reason.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim();

const PERMISSION_KEYS: Record<string, KeysFor> = {
  /**
   * Claude's "Do you want to proceed? ❯ 1. Yes … N. No" (claude-tui-findings.md §6): `1` picks
   * Yes at once; Up from the preselected Yes wraps to No, Tab opens "No, and tell Claude what
   * to do differently", and the reason goes back to the model with the refusal, so the turn
   * goes on. Typed in one burst from the engine, the Tab and text were lost.
   */
  claude: (decision, reason) => (decision === 'allow' ? ['1'] : ['\x1b[A', '\t', oneLine(reason), '\r']),
  /**
   * Codex's "Would you like to run the following command? › 1. Yes, proceed (y) … 3. No, and
   * tell Codex what to do differently (esc)" (codex-tui-findings.md §9): `y` runs it once.
   * Esc refuses and ends the turn (the model gets "aborted by user" and no further call), so
   * the reason follows as the next prompt, its Enter typed apart from the text (Codex takes a
   * burst ending in Enter as a paste and does not submit it).
   */
  codex: (decision, reason) => (decision === 'allow' ? ['y'] : ['\x1b', oneLine(reason), '\r']),
};

/** The key steps answering `runtime`'s dialog, or null when Overseer cannot answer it. */
export function permissionKeys(runtime: string | null, decision: PermissionDecision, reason: string): string[] | null {
  const keys = runtime ? PERMISSION_KEYS[runtime] : undefined;
  return keys ? keys(decision, reason) : null;
}
