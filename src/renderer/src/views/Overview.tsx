// Overview: problems first, then agents, convoys with progress, the merge queue and
// recent events.
import { useEffect, useState } from 'react';
import type { EventView } from '../../../shared/domain';
import { describeEvent } from '../../../shared/event-text';
import { Ago } from '../components/time';
import { agentTone, Empty, mrTone, Pill, Progress } from '../components/bits';
import { ProblemRow } from '../components/ProblemRow';
import { getBackend, useTown } from '../state/town-store';
import { problemsOf } from '../state/selectors';
import { goTo, openBead, openTerminal } from '../state/ui-store';
import { BudgetBar } from '../components/BudgetBar';
import { VirtualRows } from '../components/virtual-list';

/** The newest events, refetched (at most once a second) when the town changes. */
export function useRecentEvents(limit: number, bead?: string): EventView[] {
  const revision = useTown((s) => s.revision);
  const [events, setEvents] = useState<EventView[]>([]);
  useEffect(() => {
    let live = true;
    const t = setTimeout(() => {
      getBackend()
        .call('events.list', { limit, latest: true, ...(bead ? { bead } : {}) })
        .then((e) => live && setEvents(e), () => {});
    }, events.length ? 400 : 0);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [revision, bead, limit]);
  return events;
}

export function Overview() {
  const entities = useTown((s) => s.entities);
  const status = useTown((s) => s.status);
  const problems = problemsOf(entities, status);
  const agents = entities.agent.list().filter((a) => a.role === 'polecat' || a.session);
  const convoys = entities.convoy.list().sort((a, b) => (a.created_at < b.created_at ? 1 : -1));
  const queue = entities.merge_request.list()
    .filter((m) => m.state !== 'merged' || Date.now() - Date.parse(m.updated_at) < 3600_000)
    .sort((a, b) => (a.created_at < b.created_at ? 1 : -1))
    .slice(0, 12);
  const events = useRecentEvents(30);

  return (
    <div className="view overview">
      <header className="view-head">
        <h1>Overview</h1>
        {status && (
          <div className="stats">
            <span>{status.counts.in_progress ?? 0} in progress</span>
            <span>{status.counts.in_review ?? 0} in review</span>
            <span>{status.counts.closed ?? 0} done</span>
            <span title="engine memory">{status.memory.rss_mb} MB</span>
            <span title="last reconciler pass">tick {status.reconciler.last_tick_ms} ms</span>
          </div>
        )}
      </header>

      <section className="panel problems" aria-label="Problems">
        <h2>Problems</h2>
        {problems.length === 0 ? (
          <Empty>Nothing needs you right now.</Empty>
        ) : (
          <VirtualRows items={problems} keyOf={(p) => p.key} estimate={56} label="Problems" render={(p, row) => <ProblemRow p={p} row={row} />} />
        )}
      </section>

      <div className="grid-2">
        <section className="panel" aria-label="Agents">
          <h2>
            Agents <button className="link" onClick={() => goTo('agents')}>all</button>
          </h2>
          {agents.length === 0 ? (
            <Empty>No agents yet. Start a convoy or sling a bead.</Empty>
          ) : (
            <ul className="rows">
              {agents.map((a) => (
                <li key={a.id} className="row">
                  <button className="row-main" onClick={() => a.session && openTerminal(a.id)} disabled={!a.session}>
                    <strong>{a.name}</strong>
                    <Pill tone={agentTone(a.status)}>{a.status}</Pill>
                    <span className="muted">{a.hook ?? a.rig}</span>
                    <span className="muted right">
                      <Ago at={a.last_output_at} />
                    </span>
                  </button>
                </li>
              ))}
            </ul>
          )}
        </section>

        <section className="panel" aria-label="Convoys">
          <h2>
            Convoys <button className="link" onClick={() => goTo('planner')}>plan</button>
          </h2>
          {convoys.length === 0 ? (
            <Empty>No convoys. Plan one in the Convoys view.</Empty>
          ) : (
            <VirtualRows
              items={convoys}
              keyOf={(c) => c.id}
              estimate={64}
              label="Convoys"
              render={(c, row) => (
                <li {...row} className="row convoy-row" data-convoy={c.id}>
                  <div className="row-main">
                    <strong>{c.title}</strong>
                    <Pill tone={c.status === 'landed' ? 'ok' : c.stuck ? 'bad' : c.status === 'active' ? 'info' : 'muted'}>{c.stuck ? 'stuck' : c.status}</Pill>
                  </div>
                  <Progress done={c.closed} total={c.total} label={`${c.title} progress`} />
                  <BudgetBar convoy={c} />
                  {(c.rework ?? []).map((r) => (
                    <div key={r.bead} className="muted small" data-rework={r.bead}>{r.bead} in rework: {r.why}</div>
                  ))}
                </li>
              )}
            />
          )}
        </section>
      </div>

      <div className="grid-2">
        <section className="panel" aria-label="Merge queue">
          <h2>Merge queue</h2>
          {queue.length === 0 ? (
            <Empty>The queue is empty.</Empty>
          ) : (
            <ul className="rows">
              {queue.map((m) => (
                <li key={m.id} className="row">
                  <button className="row-main" onClick={() => openBead(m.bead)}>
                    <strong>{m.bead}</strong>
                    <Pill tone={mrTone(m.state)}>{m.state}</Pill>
                    <span className="muted">{m.blocked_reason ?? m.failure?.type ?? `${m.branch} → ${m.target}`}</span>
                    <span className="muted right">
                      <Ago at={m.updated_at} />
                    </span>
                  </button>
                </li>
              ))}
            </ul>
          )}
        </section>

        <section className="panel" aria-label="Recent events">
          <h2>Recent events</h2>
          <ul className="events">
            {[...events].reverse().map((e) => (
              <li key={e.seq}>
                <span className="muted">
                  <Ago at={e.created_at} />
                </span>{' '}
                <code>{e.type}</code>{' '}
                {e.bead && (
                  <button className="link" onClick={() => openBead(e.bead)}>
                    {e.bead}
                  </button>
                )}{' '}
                <span className="muted">{e.agent ?? ''}</span> <span className="event-text">{describeEvent(e.type, e.payload)}</span>
              </li>
            ))}
          </ul>
        </section>
      </div>
    </div>
  );
}
