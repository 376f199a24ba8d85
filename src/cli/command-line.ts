// How a `town` command line reads: global flags anywhere, `GROUP SUBCOMMAND`, each command's
// own flags. Shared by the overseer's CLI and the agent-side one (which must stay lean).
import path from 'node:path';
import { parse as parseWith, str, type Options, type Parsed } from './args';
import { COMMAND_OPTIONS, FLAGS, GROUPS } from './commands';
import { UsageError } from './errors';

const GLOBAL: Options = { town: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } };

export const parse = (argv: string[], command: string, options: Options = {}) => parseWith(argv, { ...GLOBAL, ...options }, command);

export function townDirFrom(values: Parsed['values']): string {
  const dir = str(values.town) ?? process.env.TOWN_DIR;
  if (!dir) throw new UsageError('no town: pass --town DIR or set TOWN_DIR');
  return path.resolve(dir);
}

/** Global flags may come before the command: `town --town DIR bead list`. */
export function hoistGlobalFlags(argv: string[]): string[] {
  const front: string[] = [];
  let i = 0;
  while (i < argv.length && argv[i].startsWith('--')) {
    const flag = argv[i];
    if (flag === '--town') {
      front.push(flag, argv[i + 1] ?? '');
      i += 2;
    } else if (flag.startsWith('--town=') || flag === '--json') {
      front.push(flag);
      i++;
    } else break;
  }
  const [cmd, ...rest] = argv.slice(i);
  return cmd === undefined ? front : [cmd, ...rest, ...front];
}
/** A command of the common kind (not init, demo, serve or attach) with its parsed flags. */
export function parseCommand(cmd: string, rest: string[]): { command: string; a: Parsed } {
  const group = GROUPS.includes(cmd) && rest[0] !== undefined && !rest[0].startsWith('-') ? rest[0] : undefined;
  const command = group !== undefined ? `${cmd} ${group}` : cmd;
  const flags = Object.hasOwn(FLAGS, command) ? FLAGS[command] : undefined;
  if (!flags && GROUPS.includes(cmd)) {
    const subcommands = Object.keys(FLAGS).filter((c) => c.startsWith(`${cmd} `)).map((c) => c.slice(cmd.length + 1));
    throw new UsageError(`${group === undefined ? `town ${cmd} needs a subcommand` : `unknown command: town ${command}`}: ${subcommands.join(', ')}`);
  }
  if (!flags) throw new UsageError(`unknown command: town ${command} (see town --help)`);
  const args = group !== undefined ? rest.slice(1) : rest;
  return { command, a: parse(args, command, Object.fromEntries(flags.map((f) => [f, COMMAND_OPTIONS[f]]))) };
}

export const isHelp = (cmd: string | undefined) => !cmd || cmd === 'help' || cmd === '--help' || cmd === '-h';

export const HELP = `town — drive an Overseer town

Usage: town [--town DIR] [--json] COMMAND ...
  The town is --town DIR, else $TOWN_DIR.

Town:       init DIR · demo DIR · serve [--host H] [--port N] [--no-web] · status · doctor · costs [--by agent|bead|convoy|rig]
            estop [--reason TEXT] (freeze: dispatch paused, every agent and gate stopped) · thaw
            config [list] · config get KEY · config set KEY VALUE   (durations 90s, 15m, 2h; lists 0,2m,5m)
Rigs:       rig add NAME PATH [--test CMD] [--setup CMD] [--setup-watch GLOB[,GLOB]] [--branch B] [--prefix P]
                [--remote NAME] [--max-polecats N] [--runtime claude|codex|scripted|shell] [--command TEMPLATE]
                [--permissions ask|auto|bypass] [--model M] [--budget USD]
            rig update NAME [--setup CMD] [--setup-watch GLOB[,GLOB]|default] [--branch B] [--max-polecats N] [--remote NAME|none]
                [--runtime R] [--command TEMPLATE] [--permissions ask|auto|bypass] [--model M|default] [--budget USD|none]
            rig list
Beads:      bead create --rig R --title T [--body B] [--priority 0-4] [--type T] [--scenario S] [--after ID]... [--label L]... [--runtime R]
            bead list [--rig R] [--status S] [--label L] [--ready] [--all] · bead show ID
            import FILE [--rig R] [--strict]   (bd / Gas Town JSONL) · export [--rig R] [--out FILE]
            bead update ID [--title T] [--body B] [--priority N] [--label L]... [--unlabel L]... [--scenario S]
            bead close ID [--reason R] · bead reopen ID
            dep add BEAD DEPENDS_ON
Convoys:    convoy create --title T [--integration] [--budget USD] [BEAD...] · convoy update CONVOY --budget USD|none
            convoy add CONVOY BEAD... · convoy start CONVOY
            convoy list · convoy show ID
Agents:     sling BEAD [RIG|AGENT] · agents · attach AGENT · nudge AGENT TEXT
            stop AGENT [--no-hold]   (holds its bead out of dispatch; --no-hold lets it be dispatched again)
            restart AGENT [--fresh] · hold BEAD [--reason R] · release BEAD
            events [--since SEQ] [--limit N]
Merge queue: mq list [--rig R] (mr list) · mq show MR · mq move MR POSITION (1 = next)
            mq retry MR (a failed or blocked MR back to the queue) · mq reject MR --reason S (its bead reopened)
Problems:   escalations [--all] · ack ID · mail inbox [--unread] · mail read ID · mail ack ID
In agents:  prime · hook · done [--status completed|escalated|deferred] [--summary S] · signal waiting|working [MESSAGE]
            mail send TO --subject S --body B · mail inbox · mail read ID · mail ack ID · bead create/show/update
            escalate --severity low|medium|high|critical --reason R [--bead B] TEXT

Attach detaches with Ctrl-]. Planning commands work with no engine running; the rest need \`town serve\`.`;
