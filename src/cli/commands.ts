// The commands `town` knows and the flags each one takes.
import type { Options } from './args';

/** Commands with subcommands: `town bead create`, `town config set`. */
export const GROUPS = ['rig', 'bead', 'convoy', 'dep', 'mail', 'config', 'mr', 'mq'];

export const COMMAND_OPTIONS: Options = {
  rig: { type: 'string' }, title: { type: 'string' }, body: { type: 'string' }, priority: { type: 'string' },
  scenario: { type: 'string' }, after: { type: 'string', multiple: true }, label: { type: 'string', multiple: true },
  unlabel: { type: 'string', multiple: true }, status: { type: 'string' }, assignee: { type: 'string' }, reason: { type: 'string' },
  test: { type: 'string' }, setup: { type: 'string' }, branch: { type: 'string' }, prefix: { type: 'string' },
  'max-polecats': { type: 'string' }, runtime: { type: 'string' }, command: { type: 'string' }, 'auto-dispatch': { type: 'boolean' },
  summary: { type: 'string' }, bead: { type: 'string' }, subject: { type: 'string' }, unread: { type: 'boolean' },
  type: { type: 'string' }, since: { type: 'string' }, limit: { type: 'string' }, 'no-hold': { type: 'boolean' }, fresh: { type: 'boolean' },
  severity: { type: 'string' }, all: { type: 'boolean' }, 'setup-watch': { type: 'string' },
  remote: { type: 'string' }, integration: { type: 'boolean' }, permissions: { type: 'string' }, model: { type: 'string' },
  budget: { type: 'string' }, by: { type: 'string' }, strict: { type: 'boolean' }, out: { type: 'string' }, ready: { type: 'boolean' },
};

/** Each command's own flags: a flag another command takes (`bead update --status`) is refused, not ignored. */
export const FLAGS: Record<string, string[]> = {
  status: [], doctor: [], costs: ['by'], estop: ['reason'], thaw: [], config: [], 'config list': [], 'config get': [], 'config set': [],
  'rig add': ['test', 'setup', 'setup-watch', 'branch', 'prefix', 'max-polecats', 'runtime', 'command', 'auto-dispatch', 'remote', 'permissions', 'model', 'budget'],
  'rig update': ['setup', 'setup-watch', 'branch', 'max-polecats', 'remote', 'runtime', 'command', 'permissions', 'model', 'budget'],
  'rig list': [],
  'bead create': ['rig', 'title', 'body', 'priority', 'scenario', 'after', 'label', 'type', 'runtime'],
  'bead list': ['rig', 'status', 'label', 'assignee', 'ready', 'all'],
  import: ['rig', 'strict'], export: ['rig', 'out'],
  'bead show': [],
  'bead update': ['title', 'body', 'priority', 'label', 'unlabel', 'scenario'],
  'bead close': ['reason'], 'bead reopen': [],
  'dep add': [],
  'convoy create': ['title', 'integration', 'budget'], 'convoy update': ['budget'], 'convoy add': [], 'convoy start': [], 'convoy list': [], 'convoy show': [],
  sling: [], agents: [], stop: ['no-hold'], restart: ['fresh'], hold: ['reason'], release: [], nudge: [],
  'mr list': ['rig'],
  'mq list': ['rig'], 'mq show': [], 'mq move': [], 'mq retry': [], 'mq reject': ['reason'],
  events: ['since', 'limit'],
  prime: [], hook: [], done: ['status', 'summary', 'bead'], signal: [],
  'mail send': ['subject', 'body'], 'mail inbox': ['unread'], 'mail read': [], 'mail ack': [],
  escalate: ['severity', 'reason', 'bead'], escalations: ['all'], ack: [],
};
