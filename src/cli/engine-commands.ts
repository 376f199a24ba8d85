// The commands that are calls to the engine, for the overseer and for agents alike: the
// overseer's CLI runs them over the socket or in-process, the agent-side CLI over the socket.
// Imports here must stay light: the agent-side CLI loads this module.
import path from 'node:path';
import type { ApiOutput } from '../shared/api';
import type { TypedClient } from '../shared/typed-client';
import { describeEvent } from '../shared/event-text';
import { dollars, list, str, wholeNumber, type Parsed } from './args';
import { agentCommand } from './agent-commands';
import { UsageError } from './errors';
import { exportBeads, importFile, importReport } from './interop';
import { townCommand } from './invocation';
import * as fmt from './format';
import { line, print } from './printable';

/** `--setup-watch a,b`: a list of globs (blank entries dropped). */
function globList(v: string | undefined): string[] | undefined {
  return v === undefined ? undefined : v.split(',').map((g) => g.trim()).filter(Boolean);
}

/** Runs any common command (not init, demo, serve or attach) over `conn`. */
export async function dispatch(conn: TypedClient, command: string, a: Parsed): Promise<number> {
  const v = a.values;
  const json = !!v.json;
  const [p0, p1] = a.positionals;
  const need = (x: string | undefined, usage: string) => {
    if (!x) throw new UsageError(`usage: town ${usage}`);
    return x;
  };

  switch (command) {
    case 'status': {
      const s = await conn.call('town.status', {});
      print(json, s, () => fmt.statusText(s));
      return 0;
    }
    case 'doctor': {
      const d = await conn.call('town.doctor', {});
      print(json, d, () => fmt.doctorText(d));
      return d.invariants.violations.length ? 1 : 0;
    }
    case 'costs': {
      const by = str(v.by) ?? 'agent';
      if (!['agent', 'bead', 'convoy', 'rig'].includes(by)) throw new UsageError(`--by expects agent, bead, convoy or rig, got "${by}"`);
      const report = await conn.call('costs.report', { by: by as 'agent' });
      print(json, report, () => fmt.costsText(report));
      return 0;
    }
    // Configuration: `town config [list]`, `get KEY`, `set KEY VALUE` (keys or their old aliases).
    case 'config':
    case 'config list': {
      const { settings, dispatch_paused, town_prefix } = await conn.call('town.config', {});
      print(json, { settings, dispatch_paused, town_prefix }, () =>
        [fmt.configTable(settings), '', line`dispatch_paused = ${dispatch_paused}`, line`town_prefix = ${town_prefix}`].join('\n'),
      );
      return 0;
    }
    case 'config get': {
      const key = need(p0, 'config get KEY');
      const c = await conn.call('town.config', { get: key });
      const setting = c.settings[0];
      if (setting) print(json, setting, () => fmt.settingLine(setting));
      else print(json, { key, value: townField(c, key) }, () => line`${key} = ${townField(c, key)}`);
      return 0;
    }
    case 'config set': {
      const key = need(p0, 'config set KEY VALUE');
      const raw = need(p1, 'config set KEY VALUE');
      // Values are written as in the shell (`15m`, `0,2m,5m`, `bwrap`); JSON (`[0]`, `true`) still reads as before.
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch {
        value = raw;
      }
      const c = await conn.call('town.config', { set: { [key]: value } });
      const change = c.changed[0];
      const setting = c.settings.find((x) => x.key === change.key);
      print(json, setting ? { ...setting, was: change.was } : { key: change.key, value: townField(c, change.key), was: change.was }, () =>
        line`${change.key} = ${change.now} (was ${change.was})`,
      );
      return 0;
    }
    case 'rig add': {
      const rig = await conn.call('rig.add', {
        name: need(p0, 'rig add NAME PATH'),
        path: path.resolve(need(p1, 'rig add NAME PATH')),
        test: str(v.test), setup: str(v.setup), default_branch: str(v.branch), prefix: str(v.prefix),
        max_polecats: wholeNumber(v['max-polecats'], '--max-polecats'), runtime: str(v.runtime) as 'scripted' | undefined,
        command: str(v.command), auto_dispatch: v['auto-dispatch'] === true ? true : undefined,
        setup_watch: globList(str(v['setup-watch'])) ?? undefined, remote: str(v.remote),
        permissions: str(v.permissions) as 'ask' | undefined, model: str(v.model), budget_usd: dollars(v.budget, '--budget'),
      });
      print(json, rig, () => line`added rig ${rig.name} (prefix ${rig.prefix}, branch ${rig.default_branch}, runtime ${fmt.runtimeSummary(rig)})`);
      return 0;
    }
    case 'rig update': {
      const watch = str(v['setup-watch']);
      const rig = await conn.call('rig.update', {
        name: need(p0, 'rig update NAME'),
        setup: str(v.setup), default_branch: str(v.branch), max_polecats: wholeNumber(v['max-polecats'], '--max-polecats'),
        setup_watch: watch === undefined ? undefined : watch === 'default' ? null : globList(watch),
        remote: str(v.remote) === 'none' ? null : str(v.remote),
        runtime: str(v.runtime) as 'scripted' | undefined, command: str(v.command),
        permissions: str(v.permissions) as 'ask' | undefined,
        model: str(v.model) === 'default' ? null : str(v.model),
        budget_usd: str(v.budget) === 'none' ? null : dollars(v.budget, '--budget'),
      });
      print(json, rig, () =>
        [
          line`updated rig ${rig.name}: runtime ${fmt.runtimeSummary(rig)}`,
          line`setup ${rig.setup_command ?? 'none'}, re-run in the refinery when ${rig.setup_watch.join(', ') || 'nothing'} changes`,
        ].join('\n'),
      );
      return 0;
    }
    case 'rig list': {
      const rigs = await conn.call('rig.list', {});
      print(json, rigs, () => fmt.rigTable(rigs));
      return 0;
    }
    case 'bead create': {
      const b = await conn.call('bead.create', {
        rig: str(v.rig), title: str(v.title) ?? '', body: str(v.body), priority: wholeNumber(v.priority, '--priority'),
        scenario: str(v.scenario), after: list(v.after), labels: list(v.label), type: str(v.type) as 'task' | undefined,
        runtime: str(v.runtime) as 'claude' | undefined,
      });
      print(json, b, () => line`${b.id}`);
      return 0;
    }
    case 'bead list': {
      const beads = await conn.call('bead.list', {
        rig: str(v.rig), status: str(v.status) as 'open' | undefined, label: list(v.label)[0], assignee: str(v.assignee), ready: !!v.ready, all: !!v.all,
      });
      print(json, beads, () => fmt.beadTable(beads));
      return 0;
    }
    case 'import': {
      const summary = await importFile(conn, need(p0, 'import FILE [--rig R] [--strict]'), { rig: str(v.rig), strict: !!v.strict });
      print(json, summary, () => importReport(summary));
      return 0;
    }
    case 'export': {
      const { beads, mail } = await exportBeads(conn, { rig: str(v.rig), out: str(v.out) });
      if (v.out) print(json, { file: path.resolve(str(v.out)!), beads, mail }, () => line`wrote ${beads} beads and ${mail} messages to ${str(v.out)}`);
      return 0;
    }
    case 'bead show': {
      const b = await conn.call('bead.show', { id: need(p0, 'bead show ID') });
      print(json, b, () => fmt.beadDetail(b));
      return 0;
    }
    case 'bead update': {
      const b = await conn.call('bead.update', {
        id: need(p0, 'bead update ID ...'), title: str(v.title), body: str(v.body), priority: wholeNumber(v.priority, '--priority'),
        add_labels: v.label ? list(v.label) : undefined, remove_labels: v.unlabel ? list(v.unlabel) : undefined, scenario: str(v.scenario),
      });
      print(json, b, () => line`updated ${b.id}`);
      return 0;
    }
    case 'bead close': {
      const b = await conn.call('bead.close', { id: need(p0, 'bead close ID'), reason: str(v.reason) });
      print(json, b, () => line`closed ${b.id}`);
      return 0;
    }
    case 'bead reopen': {
      const b = await conn.call('bead.reopen', { id: need(p0, 'bead reopen ID') });
      print(json, b, () => line`reopened ${b.id}`);
      return 0;
    }
    case 'dep add': {
      const b = await conn.call('dep.add', { bead: need(p0, 'dep add BEAD DEPENDS_ON'), depends_on: need(p1, 'dep add BEAD DEPENDS_ON') });
      print(json, b, () => line`${b.id} now waits for ${p1}`);
      return 0;
    }
    case 'convoy create': {
      const c = await conn.call('convoy.create', {
        title: str(v.title) ?? '', beads: a.positionals, mode: v.integration === true ? 'integration' : undefined, budget_usd: dollars(v.budget, '--budget'),
      });
      print(json, c, () => line`${c.id}`);
      return 0;
    }
    case 'convoy update': {
      const convoy = need(p0, 'convoy update CONVOY --budget USD|none');
      if (v.budget === undefined) throw new UsageError('convoy update needs --budget USD|none');
      const c = await conn.call('convoy.update', { convoy, budget_usd: str(v.budget) === 'none' ? null : dollars(v.budget, '--budget')! });
      print(json, c, () => fmt.convoyLine(c));
      return 0;
    }
    case 'convoy add': {
      const c = await conn.call('convoy.add', { convoy: need(p0, 'convoy add CONVOY BEAD...'), beads: a.positionals.slice(1) });
      print(json, c, () => fmt.convoyLine(c));
      return 0;
    }
    case 'convoy start': {
      const c = await conn.call('convoy.start', { convoy: need(p0, 'convoy start CONVOY') });
      print(json, c, () => `started ${fmt.convoyLine(c)}`);
      return 0;
    }
    case 'convoy list': {
      const cs = await conn.call('convoy.list', {});
      print(json, cs, () => fmt.convoyTable(cs));
      return 0;
    }
    case 'convoy show': {
      const c = await conn.call('convoy.show', { id: need(p0, 'convoy show ID') });
      const beads = await conn.call('bead.list', {});
      print(json, c, () => `${fmt.convoyLine(c)}\n${fmt.beadTable(beads.filter((b) => c.beads.includes(b.id)))}`);
      return 0;
    }
    case 'sling': {
      const b = await conn.call('sling', { bead: need(p0, 'sling BEAD [RIG|AGENT]'), target: p1 });
      print(json, b, () => line`slung ${b.id} to ${b.slung_to}`);
      return 0;
    }
    case 'agents': {
      const agents = await conn.call('agent.list', {});
      print(json, agents, () => fmt.agentTable(agents));
      return 0;
    }
    case 'stop': {
      const hook = (await conn.call('agent.list', {})).find((x) => x.id === p0)?.hook ?? null;
      const hold = v['no-hold'] !== true;
      const agent = await conn.call('agent.stop', { agent: need(p0, 'stop AGENT [--no-hold]'), hold });
      print(json, agent, () =>
        line`stopped ${agent.id} (now ${agent.status})` +
        (!hook ? '' : hold ? line`\n${hook} is held: it stays open and is not dispatched until you run: ${townCommand()} release ${hook}` : line`\n${hook} is open again and will be dispatched`),
      );
      return 0;
    }
    case 'estop': {
      const r = await conn.call('town.estop', { reason: str(v.reason) });
      print(json, r, () => fmt.freezeText(r, 'frozen'));
      return r.failed.length > 0 ? 1 : 0;
    }
    case 'thaw': {
      const r = await conn.call('town.thaw', {});
      print(json, r, () => fmt.freezeText(r, 'thawed'));
      return r.failed.length > 0 ? 1 : 0;
    }
    case 'restart': {
      const fresh = v.fresh === true;
      const agent = await conn.call('agent.restart', { agent: need(p0, 'restart AGENT [--fresh]'), fresh });
      print(json, agent, () => line`restarting ${agent.id} on ${agent.hook ?? 'its bead'}${fresh ? ', in a new conversation' : ''}`);
      return 0;
    }
    case 'hold': {
      const b = await conn.call('bead.hold', { id: need(p0, 'hold BEAD [--reason R]'), reason: str(v.reason) });
      print(json, b, () => line`${b.id} is held; release it with: ${townCommand()} release ${b.id}`);
      return 0;
    }
    case 'release': {
      const b = await conn.call('bead.release', { id: need(p0, 'release BEAD') });
      print(json, b, () => line`released ${b.id}; it can be dispatched again`);
      return 0;
    }
    case 'nudge': {
      const text = a.positionals.slice(1).join(' ');
      const r = await conn.call('agent.input', { agent: need(p0, 'nudge AGENT TEXT'), data: `${need(text, 'nudge AGENT TEXT')}\r` });
      print(json, r, () => line`sent ${r.bytes} bytes to ${p0}`);
      return 0;
    }
    case 'mr list':
    case 'mq list': {
      const mrs = await conn.call('mr.list', { rig: str(v.rig) });
      print(json, mrs, () => fmt.mqTable(mrs));
      return 0;
    }
    case 'mq show': {
      const mr = await conn.call('mr.show', { mr: need(p0, 'mq show MR') });
      print(json, mr, () => fmt.mqDetail(mr));
      return 0;
    }
    case 'mq move': {
      const mr = need(p0, 'mq move MR POSITION');
      const position = wholeNumber(need(p1, 'mq move MR POSITION'), 'POSITION', { min: 1, max: 100_000 })!;
      const queue = await conn.call('mr.move', { mr, position });
      print(json, queue, () => `${line`${mr} moved to place ${queue.findIndex((e) => e.id === mr) + 1}`}\n${fmt.mqTable(queue)}`);
      return 0;
    }
    case 'mq retry': {
      const mr = await conn.call('mr.retry', { mr: need(p0, 'mq retry MR') });
      print(json, mr, () => line`${mr.id} is back in the queue at place ${mr.position ?? '?'}; ${mr.bead} is in review again`);
      return 0;
    }
    case 'mq reject': {
      const reason = str(v.reason);
      const mr = await conn.call('mr.reject', { mr: need(p0, 'mq reject MR --reason S'), reason: need(reason, 'mq reject MR --reason S') });
      print(json, mr, () => line`${mr.id} rejected; ${mr.bead} reopened: ${reason}`);
      return 0;
    }
    case 'events': {
      const events = await conn.call('events.list', { after: wholeNumber(v.since, '--since', { min: 0 }), limit: wholeNumber(v.limit, '--limit', { min: 1, max: 10_000 }) });
      print(json, events, () => events.map((e) => [e.seq, e.created_at, e.type, e.bead ?? '', e.agent ?? '', describeEvent(e.type, e.payload)].map((f) => line`${f}`).join('\t')).join('\n'));
      return 0;
    }
    case 'escalations': {
      const list = await conn.call('escalation.list', { all: v.all === true ? true : undefined });
      print(json, list, () => (list.length === 0 && !v.all ? 'no unacked escalations' : fmt.escalationTable(list)));
      return 0;
    }
    case 'ack': {
      const e = await conn.call('escalation.ack', { id: need(p0, 'ack ID') });
      print(json, e, () => line`acked ${e.id} (${e.reason})`);
      return 0;
    }
  }
  const code = await agentCommand(conn, command, a);
  if (code !== null) return code;
  throw new UsageError(`unknown command: town ${command} (see town --help)`);
}

/** `dispatch_paused` and `town_prefix`: the town-wide values `town.config` answers beside the settings. */
const townField = (c: ApiOutput<'town.config'>, key: string) => (key === 'dispatch_paused' ? c.dispatch_paused : c.town_prefix);
