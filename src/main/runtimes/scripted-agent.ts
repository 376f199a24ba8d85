// The scripted agent: a deterministic stand-in for a coding agent CLI, run in a PTY.
// It reads its hook through `town`, shows realistic progress, then acts out its bead's
// scenario. The demo town and the tests rely on it.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

const PACE = Number(process.env.TOWN_SCRIPTED_PACE_MS ?? 350);
/**
 * `late-done`: the pause between its two `town done` calls. Below the session host's 2 s
 * stop grace, so the second call still goes out while the engine stops the session.
 */
const LATE_DONE_DELAY_MS = 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const c = {
  dim: (s: string) => `\x1b[2m${s}\x1b[0m`,
  bold: (s: string) => `\x1b[1m${s}\x1b[0m`,
  green: (s: string) => `\x1b[32m${s}\x1b[0m`,
  red: (s: string) => `\x1b[31m${s}\x1b[0m`,
  cyan: (s: string) => `\x1b[36m${s}\x1b[0m`,
  yellow: (s: string) => `\x1b[33m${s}\x1b[0m`,
};
const out = (s: string) => process.stdout.write(s);

interface Hooked {
  id: string;
  title: string;
  scenario: string | null;
  labels?: string[];
  resolves?: { mr: string; bead: string; target: string; files: string[] } | null;
}

function town(args: string[]): string {
  return execFileSync('town', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

async function spin(label: string, steps: number) {
  const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
  for (let i = 0; i < steps; i++) {
    out(`\r${c.cyan(frames[i % frames.length])} ${label}`);
    await sleep(PACE / 3);
  }
  out(`\r${c.green('✔')} ${label}\n`);
}

async function progress(bead: Hooked) {
  out(`${c.bold('scripted agent')} ${c.dim(`(${process.env.TOWN_AGENT})`)}\n`);
  out(`${c.dim('hook:')} ${bead.id} ${bead.title}\n\n`);
  await spin('Reading the repository', 3);
  await spin('Planning the change', 3);
  out(`${c.dim('  → edit')} work/${bead.id}.md\n`);
  await spin('Writing the change', 3);
}

/** Writes the bead's note and commits it, unless an earlier run already committed it. */
function commitWork(bead: Hooked) {
  const file = path.join('work', `${bead.id}.md`);
  if (fs.existsSync(file) && fs.readFileSync(file, 'utf8').startsWith(`# ${bead.title}\n`)) {
    // An earlier run of this bead wrote it; keep its text so a resumed run changes nothing.
  } else {
    fs.mkdirSync('work', { recursive: true });
    fs.writeFileSync(file, `# ${bead.title}\n\nDone by ${process.env.TOWN_AGENT}.\n`);
  }
  execFileSync('git', ['add', file], { stdio: 'ignore' });
  const staged = spawnSync('git', ['diff', '--cached', '--quiet']).status !== 0;
  if (!staged) {
    out(`${c.green('✔')} ${c.bold(file)} is already committed on my branch\n`);
    return;
  }
  execFileSync('git', ['commit', '-q', '-m', `${bead.id}: ${bead.title}`], { stdio: 'ignore' });
  out(`${c.green('✔')} committed ${c.bold(`${bead.id}: ${bead.title}`)}\n`);
}

/** Writes `files` (path → text; null deletes) and commits them in one commit. */
function commitFiles(files: Record<string, string | null>, message: string) {
  for (const [file, text] of Object.entries(files)) {
    if (text === null) {
      execFileSync('git', ['rm', '-q', '--ignore-unmatch', file], { stdio: 'ignore' });
      continue;
    }
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    execFileSync('git', ['add', file], { stdio: 'ignore' });
  }
  if (spawnSync('git', ['diff', '--cached', '--quiet']).status === 0) return;
  execFileSync('git', ['commit', '-q', '-m', message], { stdio: 'ignore' });
  out(`${c.green('✔')} committed ${c.bold(message)}\n`);
}

/**
 * `conflict`, on its resolution bead (`needs-rebase`): merges the target into the branch and
 * resolves `shared.md` by keeping both sides' lines, sorted (the same result whichever side
 * merged first); any other conflicted file keeps the branch's version.
 */
function resolveConflict(target: string) {
  out(`${c.dim('rebase:')} merging ${target} into my branch\n`);
  if (spawnSync('git', ['merge', '--no-edit', '-q', target], { stdio: 'ignore' }).status === 0) {
    out(`${c.green('✔')} merged ${target} cleanly\n`);
    return;
  }
  const conflicted = execFileSync('git', ['diff', '--name-only', '--diff-filter=U'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const file of conflicted) {
    if (file === 'shared.md') {
      const side = (stage: number) => spawnSync('git', ['show', `:${stage}:${file}`], { encoding: 'utf8' }).stdout ?? '';
      const lines = [...new Set([...side(2).split('\n'), ...side(3).split('\n')].filter(Boolean))].sort();
      fs.writeFileSync(file, `${lines.join('\n')}\n`);
    } else {
      execFileSync('git', ['checkout', '--ours', '--', file], { stdio: 'ignore' });
    }
    execFileSync('git', ['add', file], { stdio: 'ignore' });
    out(`${c.green('✔')} resolved ${c.bold(file)}\n`);
  }
  execFileSync('git', ['commit', '-q', '--no-edit'], { stdio: 'ignore' });
  out(`${c.green('✔')} committed the merge of ${target}\n`);
}

function finish(bead: Hooked, status = 'completed') {
  town(['done', '--bead', bead.id, '--status', status, '--summary', `scripted ${bead.scenario ?? 'ok'} run`]);
  out(`${c.green('✔')} town done (${status})\n`);
}

async function flood(bytes: number) {
  const line = `${c.dim('[flood]')} ${'lorem ipsum dolor sit amet '.repeat(3)}\n`;
  const chunk = line.repeat(Math.ceil(16384 / line.length));
  let written = 0;
  let n = 0;
  while (written < bytes) {
    const piece = `${c.yellow(String(n++).padStart(6, '0'))} ${chunk}`;
    written += Buffer.byteLength(piece);
    if (!process.stdout.write(piece)) await new Promise((r) => process.stdout.once('drain', r));
  }
  out(`\n${c.bold('flood complete')} ${written} bytes\n`);
}

/** A chatty agent: a long log, then a line every 100 ms for a while (scrolling while it streams). */
async function stream() {
  let log = '';
  for (let i = 1; i <= 3000; i++) log += `log line ${i} ${c.dim('compiling module')} ${i % 7 === 0 ? c.green('ok') : ''}\n`;
  out(log);
  for (let t = 1; t <= 400; t++) {
    out(`tick ${t}\n`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function ask(question: string): Promise<string> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
  return new Promise((resolve) => rl.question(question, (answer) => (rl.close(), resolve(answer.trim()))));
}

/**
 * `stall`: silent from here on (no output, no CLI calls), reading the terminal for a nudge.
 * A line containing `continue` ends the stall; any other input is ignored. Cooked mode:
 * the terminal echoes what is typed, the agent itself prints nothing.
 */
function stallUntilContinue(): Promise<void> {
  return new Promise((resolve) => {
    const rl = readline.createInterface({ input: process.stdin });
    rl.on('line', (line) => {
      if (!line.includes('continue')) return;
      rl.close();
      resolve();
    });
  });
}

/** `late-done`: done, then again after a pause, like a CLI that finishes its bookkeeping after being told to stop. */
async function doneTwice(bead: Hooked) {
  // The engine stops the session after the first done; the second call is the point.
  process.on('SIGTERM', () => {});
  process.on('SIGHUP', () => {});
  finish(bead);
  await sleep(LATE_DONE_DELAY_MS);
  try {
    finish(bead);
  } catch (err) {
    out(c.yellow(`second town done refused: ${((err as { stderr?: string }).stderr ?? String(err)).trim()}\n`));
  }
}

async function main() {
  const hook = JSON.parse(town(['hook', '--json'])) as { bead: Hooked | null; prior_work: { branch: string; commits: { subject: string }[] } | null };
  if (!hook.bead) {
    out(c.yellow('nothing on my hook; exiting\n'));
    return 0;
  }
  const bead = hook.bead;
  const scenario = bead.scenario ?? 'ok';
  if (hook.prior_work) {
    // Told by `town hook`: an earlier run's commits are on this branch. Continue from them.
    out(`${c.dim('resuming:')} ${hook.prior_work.commits.length} commit(s) already on ${hook.prior_work.branch}\n`);
    for (const commit of hook.prior_work.commits.slice(0, 5)) out(`  ${c.dim(commit.subject)}\n`);
  }
  await progress(bead);
  const labels = bead.labels ?? [];
  if (bead.resolves) {
    // A resolution bead: the branch already holds the work; bring it up to the target.
    resolveConflict(bead.resolves.target);
    finish(bead);
    return 0;
  }
  switch (scenario) {
    case 'crash':
      out(c.red('✖ fatal: the scripted agent crashed (scenario crash)\n'));
      return 3;
    case 'needs-input': {
      const answer = await ask(`${c.yellow('?')} Proceed? [y/N] `);
      if (answer.toLowerCase() !== 'y') {
        out(c.yellow('not proceeding; handing the bead back\n'));
        finish(bead, 'deferred');
        return 0;
      }
      break;
    }
    case 'flood':
      // Tests that need a flood still running (e-stop) make it longer.
      await flood(Number(process.env.TOWN_SCRIPTED_FLOOD_BYTES ?? 20 * 1024 * 1024));
      break;
    case 'stream':
      await stream();
      break;
    case 'commit-then-work':
      // Commits early, then keeps working before it reports: a crash in between leaves
      // committed but unreported work.
      commitWork(bead);
      await spin('Checking the change', 6);
      break;
    case 'stall':
      await stallUntilContinue();
      out(`${c.dim('nudged:')} continuing\n`);
      break;
    case 'exit-without-done':
      commitWork(bead);
      out(c.yellow('leaving without town done\n'));
      return 0;
    case 'late-done':
      commitWork(bead);
      await doneTwice(bead);
      return 0;
    case 'conflict':
      // Every conflict bead writes the same file: the second to merge conflicts with the first.
      commitWork(bead);
      commitFiles({ 'shared.md': `${bead.id}\n` }, `${bead.id}: claim shared.md`);
      break;
    case 'fail-tests':
      commitWork(bead);
      // The demo gate fails while any work/*.fail exists; told needs-fix, the agent removes it.
      if (labels.includes('needs-fix')) commitFiles({ [`work/${bead.id}.fail`]: null }, `${bead.id}: fix the failing test`);
      else commitFiles({ [`work/${bead.id}.fail`]: 'this change breaks the tests\n' }, `${bead.id}: a change that fails the gate`);
      break;
    case 'flaky':
      commitWork(bead);
      commitFiles({ [`work/${bead.id}.flaky`]: 'the gate fails the first time it sees this file\n' }, `${bead.id}: a change the gate is flaky on`);
      break;
    case 'ok':
      break;
    default:
      out(c.yellow(`unknown scenario ${scenario}; acting as ok\n`));
  }
  commitWork(bead);
  finish(bead);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error & { stderr?: string }) => {
    out(c.red(`✖ ${err.message}\n${err.stderr ?? ''}`));
    process.exit(1);
  },
);
