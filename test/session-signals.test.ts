// Attention signals of the session host on real PTYs: notifications the program raises,
// screen progress that spinners cannot fake, input, the screen's last lines, and the
// waiting probe (quiet + the foreground reading the terminal).
import { afterEach, describe, expect, it } from 'vitest';
import { SessionHost } from '../src/main/sessions/session-host';
import { KittyNotifications, normalizeLine, osc777Text, osc9Text } from '../src/main/sessions/screen-signals';
import { isHumanInput, waitingSummary, type SessionSignal } from '../src/main/sessions/signals';
import { removeTempDirs, tempDir, waitFor } from './helpers/town';

const hosts: SessionHost[] = [];
afterEach(async () => {
  for (const h of hosts.splice(0)) await h.stopAll('test over');
  removeTempDirs();
});

function newHost() {
  const h = new SessionHost({ stopGraceMs: 300 });
  hosts.push(h);
  const signals: SessionSignal[] = [];
  h.onSignal((s) => signals.push(s));
  return { h, signals };
}

const env = process.env as Record<string, string>;
const run = (h: SessionHost, id: string, file: string, args: string[]) => h.spawn({ sessionId: id, agentId: `a/${id}`, file, args, cwd: tempDir('sig'), env });
const node = (h: SessionHost, id: string, script: string) => run(h, id, process.execPath, ['-e', script]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const of = <K extends SessionSignal['kind']>(signals: SessionSignal[], kind: K) => signals.filter((s): s is Extract<SessionSignal, { kind: K }> => s.kind === kind);

describe('terminal notifications', () => {
  it('reads OSC 9, kitty OSC 99 and OSC 777 texts, ignoring what is not a notification', () => {
    expect(osc9Text('Build finished')).toBe('Build finished');
    expect(osc9Text('4;1;50')).toBeNull(); // ConEmu / Windows Terminal progress bar
    expect(osc9Text('9 files changed')).toBe('9 files changed');
    expect(osc777Text('notify;Claude;Needs your permission; to run ls')).toBe('Claude: Needs your permission; to run ls');
    expect(osc777Text('preexec')).toBeNull();
    const kitty = new KittyNotifications();
    expect(kitty.receive('i=1:d=0;Codex')).toBeNull();
    expect(kitty.receive(`i=1:p=body:e=1;${Buffer.from('Approve the command?').toString('base64')}`)).toBe('Codex: Approve the command?');
    expect(kitty.receive('i=2:p=?;')).toBeNull();
    expect(kitty.receive(';Just a title')).toBe('Just a title');
  });

  it('raises a bell and each OSC notification once, and a BEL that ends an OSC is no bell', async () => {
    const { h, signals } = newHost();
    const osc99 = Buffer.from('Tests are green').toString('base64');
    const script = [
      `printf 'before the bell\\a\\n'`,
      `printf '\\033]9;Build finished\\a'`,
      `printf '\\033]9;4;1;50\\a'`,
      `printf '\\033]99;i=7:d=0;Codex\\033\\\\'`,
      `printf '\\033]99;i=7:p=body:e=1;${osc99}\\a'`,
      `printf '\\033]777;notify;Claude Code;Permission needed\\a'`,
      `printf '\\033]0;a window title\\a'`,
      'echo all-sent; sleep 30',
    ].join('; ');
    run(h, 'n1', '/bin/sh', ['-c', script]);
    await waitFor('the last notification', () => of(signals, 'notification').some((s) => s.source === 'osc777'));
    await waitFor('the screen', async () => (await h.lastLines('n1', 1)).join('') === 'all-sent');
    expect(of(signals, 'notification').map((s) => [s.source, s.text])).toEqual([
      ['bel', ''],
      ['osc9', 'Build finished'],
      ['osc99', 'Codex: Tests are green'],
      ['osc777', 'Claude Code: Permission needed'],
    ]);
    const bell = of(signals, 'notification')[0];
    expect(bell.sessionId).toBe('n1');
    expect(bell.lastLines.at(-1)).toBe('before the bell');
  });
});

describe('screen progress', () => {
  it('ignores what spinners and timers change', () => {
    expect(normalizeLine('⠋ working 9s')).toBe(normalizeLine('⠙ working 10s'));
    expect(normalizeLine('✻ Thinking… (1:05 · ↑ 3.4k tokens)')).toBe(normalizeLine('✶ Thinking. (1:06 · ↑ 3.5k tokens)'));
    expect(normalizeLine('compiling alpha')).not.toBe(normalizeLine('compiling beta'));
  });

  it('counts a spinner with a running counter once, then never again', async () => {
    const { h, signals } = newHost();
    node(h, 'p1', `const f = '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏'; let i = 0; setInterval(() => process.stdout.write('\\r' + f[i % 10] + ' working ' + (i++) + 's'), 40)`);
    await waitFor('the first progress', () => of(signals, 'screen_progress').length > 0);
    expect(of(signals, 'screen_progress')[0].lastLines.at(-1)).toMatch(/working \d+s$/);
    await sleep(3500);
    const line = (await h.lastLines('p1', 1))[0];
    expect(line).toMatch(/working \d\ds$/); // it kept spinning all along
    expect(of(signals, 'screen_progress')).toHaveLength(1);
  });

  it('counts new lines as progress, at most about once a second', async () => {
    const { h, signals } = newHost();
    node(h, 'p2', `const w = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta']; let i = 0; setInterval(() => console.log('compiling ' + w[i++ % 8] + '.ts'), 100)`);
    await waitFor('the first progress', () => of(signals, 'screen_progress').length > 0);
    await sleep(3000);
    // Thirty new lines in those three seconds; reported about once a second.
    const reports = of(signals, 'screen_progress');
    expect(reports.length).toBeGreaterThanOrEqual(2);
    expect(reports.length).toBeLessThanOrEqual(5);
    expect(reports[0].lastLines.join('\n')).not.toBe(reports.at(-1)!.lastLines.join('\n'));
    expect(reports.at(-1)!.lastLines.at(-1)).toMatch(/^compiling \w+\.ts$/);
    expect(reports[0].sessionId).toBe('p2');
  });
});

describe('input', () => {
  it('signals what a person types, not the replies a terminal sends by itself', async () => {
    expect(isHumanInput('y\r')).toBe(true);
    expect(isHumanInput('\x1b[A')).toBe(true); // arrow up
    expect(isHumanInput('\x1b[I')).toBe(false); // focus in
    expect(isHumanInput('\x1b[12;40R\x1b[?1;2c\x1b]11;rgb:0000/0000/0000\x1b\\')).toBe(false);
    expect(isHumanInput('\x1b[<0;10;5M\x1b[<0;10;5m')).toBe(false); // mouse
    expect(isHumanInput('\x1b[Ino')).toBe(true);

    const { h, signals } = newHost();
    run(h, 'i1', '/bin/sh', ['-c', 'read x; echo "got $x"; sleep 30']);
    h.write('i1', '\x1b[I');
    h.write('i1', '\x1b[5;1R');
    expect(of(signals, 'input')).toEqual([]);
    h.write('i1', 'yes\r');
    expect(of(signals, 'input')).toEqual([{ kind: 'input', sessionId: 'i1', at: expect.any(Number) }]);
    await waitFor('the answer read', async () => (await h.lastLines('i1', 1))[0]?.endsWith('yes'));
  });
});

describe('waiting', () => {
  it('reads the screen\'s last lines as the user sees them, colours and cursor moves applied', async () => {
    const { h } = newHost();
    run(h, 'l1', '/bin/sh', ['-c', `printf 'one\\n\\n\\033[33mtwo\\033[0m\\n\\033[2K\\rthree old\\rthree\\033[K\\n? Proceed? [y/N] '; sleep 30`]);
    await waitFor('the prompt', async () => (await h.lastLines('l1', 3)).at(-1) === '? Proceed? [y/N]');
    expect(await h.lastLines('l1', 3)).toEqual(['two', 'three', '? Proceed? [y/N]']);
  });

  it('finds a quiet session whose foreground reads its terminal, and explains it', async () => {
    const { h } = newHost();
    run(h, 'w1', 'bash', ['-c', `echo working; printf 'Proceed? [y/N] '; read x; echo "got $x"; sleep 30`]);
    await waitFor('the prompt', async () => (await h.lastLines('w1', 1))[0] === 'Proceed? [y/N]');
    // Not quiet for long enough yet.
    expect(await h.probeWaiting('w1', 60_000)).toBeNull();
    const ev = await waitFor('waiting evidence', () => h.probeWaiting('w1', 300));
    expect(ev).toMatchObject({ process: { name: 'bash' }, how: 'read', lastLines: ['working', 'Proceed? [y/N]'], beforeCursor: 'Proceed? [y/N] ' });
    expect(ev.quietMs).toBeGreaterThanOrEqual(300);
    expect(ev.summary).toMatch(/^no output for \d+ s, bash is reading the terminal, last line "Proceed\? \[y\/N\]"$/);
    expect(Date.now() - h.lastOutputAt('w1')!).toBeGreaterThanOrEqual(300);
    // Answered: it sleeps, quiet again but not reading.
    h.write('w1', 'y\r');
    await waitFor('the answer taken', async () => (await h.lastLines('w1', 1))[0] === 'got y');
    await sleep(500);
    expect(await h.probeWaiting('w1', 300)).toBeNull();
  });

  it('says how long in minutes and hours', () => {
    expect(waitingSummary(17 * 60_000 + 5_000, 'node', [])).toBe('no output for 17 min, node is reading the terminal, the screen is empty');
    expect(waitingSummary(125 * 60_000, 'codex', ['a', '> '])).toBe('no output for 2 h 5 min, codex is reading the terminal, last line ">"');
  });
});
