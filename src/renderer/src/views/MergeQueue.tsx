// The merge queue of one rig, in the order the refinery will take it (the engine's own
// order, from mr.list): what runs now and its gate, what waits and for how long, what
// needs the overseer (blocked, failed, with the reason and the output's tail), and what
// merged lately. Queued MRs can be dragged (or moved with the keyboard) to a new place;
// retry and reject ask first.
import { closestCenter, DndContext, KeyboardSensor, PointerSensor, useSensor, useSensors, type DragEndEvent } from '@dnd-kit/core';
import { SortableContext, sortableKeyboardCoordinates, useSortable, verticalListSortingStrategy } from '@dnd-kit/sortable';
import { CSS } from '@dnd-kit/utilities';
import { useEffect, useState } from 'react';
import type { MergeQueueEntry } from '../../../shared/domain';
import { Empty, mrTone, Pill } from '../components/bits';
import { useOnline } from '../components/Connection';
import { Ago } from '../components/time';
import { getBackend, useTown } from '../state/town-store';
import { attempt, errorText, openBead, openTerminal } from '../state/ui-store';

const RUNNING = new Set(['claimed', 'merging', 'testing']);
const MERGED_SHOWN = 10;

/** A duration as people say it: 45 s, 12 min, 3 h 5 min. */
export function waited(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
}

/** The rig's queue from the engine, fetched again whenever any MR changes. */
function useMergeQueue(rig: string | null): [MergeQueueEntry[] | null, string | null, (next: MergeQueueEntry[]) => void] {
  const changes = useTown((s) => s.entities.merge_request);
  const [entries, setEntries] = useState<MergeQueueEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!rig) return;
    let live = true;
    getBackend()
      .call('mr.list', { rig })
      .then(
        (list) => live && (setEntries(list), setError(null)),
        (err) => live && setError(errorText(err)),
      );
    return () => {
      live = false;
    };
  }, [rig, changes]);
  return [rig ? entries : null, error, setEntries];
}

export function MergeQueue() {
  const rigs = useTown((s) => s.entities.rig.list());
  const [chosen, setChosen] = useState<string | null>(null);
  const rig = chosen ?? rigs[0]?.id ?? null;
  const [entries, error, setEntries] = useMergeQueue(rig);
  const online = useOnline();
  const sensors = useSensors(
    useSensor(PointerSensor, { activationConstraint: { distance: 6 } }),
    useSensor(KeyboardSensor, { coordinateGetter: sortableKeyboardCoordinates }),
  );

  const all = (entries ?? []).filter((m) => m.rig === rig);
  const running = all.filter((m) => RUNNING.has(m.state));
  const queued = all.filter((m) => m.state === 'queued').sort((a, b) => (a.position ?? 0) - (b.position ?? 0));
  // A failed MR whose bead was submitted again since (a rework) is history, not a problem.
  const newest = new Map<string, string>();
  for (const m of all) if ((newest.get(m.bead) ?? '') < m.created_at) newest.set(m.bead, m.created_at);
  const superseded = (m: MergeQueueEntry) => m.state === 'failed' && newest.get(m.bead)! > m.created_at;
  const attention = all
    .filter((m) => (m.state === 'blocked' || m.state === 'failed') && !superseded(m))
    .sort((a, b) => (a.updated_at < b.updated_at ? 1 : -1));
  const merged = all.filter((m) => m.state === 'merged').sort((a, b) => (a.updated_at < b.updated_at ? 1 : -1)).slice(0, MERGED_SHOWN);

  const move = (mr: MergeQueueEntry, position: number) =>
    attempt(async () => setEntries(await getBackend().call('mr.move', { mr: mr.id, position })), `${mr.bead} is now ${position === 1 ? 'next' : `number ${position}`} in the queue`);
  const onDragEnd = (e: DragEndEvent) => {
    const over = e.over ? String(e.over.id) : null;
    const from = String(e.active.id);
    if (!over || over === from) return;
    const position = queued.findIndex((m) => m.id === over) + 1;
    const moving = queued.find((m) => m.id === from);
    if (moving && position > 0) void move(moving, position);
  };

  return (
    <div className="view merge-queue">
      <header className="view-head">
        <h1>Merge queue</h1>
        {rigs.length > 1 && (
          <div className="convoy-tabs" role="tablist" aria-label="Rigs">
            {rigs.map((r) => (
              <button key={r.id} role="tab" aria-selected={r.id === rig} className={`tab ${r.id === rig ? 'active' : ''}`} onClick={() => setChosen(r.id)}>
                {r.id}
              </button>
            ))}
          </div>
        )}
      </header>
      {!rig ? (
        <Empty>No rig yet. Add one in Rigs; its merge queue shows here.</Empty>
      ) : (
        <>
          {error && <p className="error">Could not load the queue: {error}</p>}
          <section className="panel" aria-label="Merging now">
            <h2>Merging now</h2>
            {running.length === 0 ? <Empty>Nothing is merging.</Empty> : <ul className="rows">{running.map((m) => <RunningRow key={m.id} mr={m} />)}</ul>}
          </section>

          <section className="panel" aria-label="Queued">
            <h2>
              Queued <span className="muted small">in the order the refinery takes them; drag, or focus ☰ and use Space and the arrows, to move one</span>
            </h2>
            {queued.length === 0 ? (
              <Empty>The queue is empty.</Empty>
            ) : (
              <DndContext sensors={online ? sensors : undefined} collisionDetection={closestCenter} onDragEnd={onDragEnd}>
                <SortableContext items={queued.map((m) => m.id)} strategy={verticalListSortingStrategy}>
                  <ol className="rows mq-queued">
                    {queued.map((m) => (
                      <QueuedRow key={m.id} mr={m} onTop={() => void move(m, 1)} />
                    ))}
                  </ol>
                </SortableContext>
              </DndContext>
            )}
          </section>

          <section className="panel" aria-label="Blocked and failed">
            <h2>Blocked and failed</h2>
            {attention.length === 0 ? <Empty>Nothing blocked or failed.</Empty> : <ul className="rows">{attention.map((m) => <AttentionRow key={m.id} mr={m} />)}</ul>}
          </section>

          <section className="panel" aria-label="Merged lately">
            <h2>Merged lately</h2>
            {merged.length === 0 ? (
              <Empty>Nothing merged yet.</Empty>
            ) : (
              <ul className="rows">
                {merged.map((m) => (
                  <li key={m.id} className="row member-row" data-mr={m.id}>
                    <BeadLink mr={m} />
                    <Pill tone="ok">merged</Pill>
                    {m.flaky && (
                      <span title="a gate failed, then passed on its single rerun">
                        <Pill tone="warn">flaky</Pill>
                      </span>
                    )}
                    <code className="muted">{m.merge_sha?.slice(0, 10)}</code>
                    <span className="muted right">
                      <Ago at={m.updated_at} />
                    </span>
                  </li>
                ))}
              </ul>
            )}
          </section>
        </>
      )}
    </div>
  );
}

function BeadLink({ mr }: { mr: MergeQueueEntry }) {
  const title = useTown((s) => s.entities.bead.get(mr.bead)?.title);
  return (
    <button className="row-main" onClick={() => openBead(mr.bead)} title={`${mr.id}: ${mr.branch} → ${mr.target}`}>
      <code className="bead-id">{mr.bead}</code>
      <span className="plan-title">{title ?? mr.branch}</span>
    </button>
  );
}

function RunningRow({ mr }: { mr: MergeQueueEntry }) {
  return (
    <li className="row member-row" data-mr={mr.id}>
      <BeadLink mr={mr} />
      <Pill tone={mrTone(mr.state)}>{mr.state}</Pill>
      {mr.gate ? (
        <span className="muted">
          gate <strong>{mr.gate.name}</strong> {mr.gate.index}/{mr.gate.of}, <Ago at={mr.gate.since} />
        </span>
      ) : (
        <span className="muted">for {waited(mr.waiting_ms)}</span>
      )}
      {mr.claimed_by && <span className="muted small" title="who holds the claim">{mr.claimed_by}</span>}
      <button className="small" onClick={() => openTerminal(`${mr.rig}/refinery`)} title="Watch the gate's terminal">
        Attach
      </button>
    </li>
  );
}

function QueuedRow({ mr, onTop }: { mr: MergeQueueEntry; onTop: () => void }) {
  const sortable = useSortable({ id: mr.id });
  const style = { transform: CSS.Transform.toString(sortable.transform), transition: sortable.transition };
  return (
    <li ref={sortable.setNodeRef} style={style} className={`row member-row ${sortable.isDragging ? 'dragging' : ''}`} data-mr={mr.id}>
      <button className="handle" aria-label={`Move ${mr.bead} in the queue`} {...sortable.listeners} {...sortable.attributes}>
        ☰
      </button>
      <span className="mq-position" aria-label="place in queue">
        {mr.position}
      </span>
      <BeadLink mr={mr} />
      <span className="muted">waiting {waited(mr.waiting_ms)}</span>
      {mr.attempts > 0 && <span className="muted small">{mr.attempts} earlier tr{mr.attempts === 1 ? 'y' : 'ies'}</span>}
      {mr.moved_to != null && <span className="muted small">moved by you</span>}
      <button className="small ghost" disabled={mr.position === 1} onClick={onTop} aria-label={`Move ${mr.bead} to the front`}>
        To front
      </button>
      <RejectButton mr={mr} />
    </li>
  );
}

function AttentionRow({ mr }: { mr: MergeQueueEntry }) {
  const tail = mr.failure?.tail.trim() ?? '';
  const lastLine = tail.split('\n').pop() ?? '';
  return (
    <li className="row mq-attention" data-mr={mr.id}>
      <div className="member-row">
        <BeadLink mr={mr} />
        <Pill tone={mrTone(mr.state)}>{mr.state}</Pill>
        {mr.failure && <code>{mr.failure.type}</code>}
        <span className="muted right">
          <Ago at={mr.updated_at} />
        </span>
        <RetryButton mr={mr} />
        <RejectButton mr={mr} />
      </div>
      {mr.blocked_reason && <p className="muted small">{mr.blocked_reason}</p>}
      {tail && (
        <details>
          <summary className="small">{lastLine || 'output'}</summary>
          <pre className="tail">{tail}</pre>
        </details>
      )}
    </li>
  );
}

function RetryButton({ mr }: { mr: MergeQueueEntry }) {
  const [confirming, setConfirming] = useState(false);
  if (!confirming) {
    return (
      <button className="small" onClick={() => setConfirming(true)} title="Put it back in the queue; its gates run again">
        Retry
      </button>
    );
  }
  return (
    <span role="group" aria-label={`Retry ${mr.id}?`} onKeyDown={(e) => e.key === 'Escape' && setConfirming(false)}>
      <button
        autoFocus
        className="small"
        onClick={() => {
          setConfirming(false);
          void attempt(() => getBackend().call('mr.retry', { mr: mr.id }), `${mr.bead} is queued again`);
        }}
      >
        Retry {mr.bead}?
      </button>
      <button className="small ghost" onClick={() => setConfirming(false)}>
        Cancel
      </button>
    </span>
  );
}

function RejectButton({ mr }: { mr: MergeQueueEntry }) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  if (!open) {
    return (
      <button className="small ghost" onClick={() => setOpen(true)} title="Take it out of the queue; its bead is reopened with your reason">
        Reject
      </button>
    );
  }
  const submit = () => {
    if (!reason.trim()) return;
    setOpen(false);
    void attempt(() => getBackend().call('mr.reject', { mr: mr.id, reason: reason.trim() }), `Rejected ${mr.id}; ${mr.bead} is open again`);
  };
  return (
    <form
      className="inline-form"
      aria-label={`Reject ${mr.id}`}
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
      onKeyDown={(e) => e.key === 'Escape' && setOpen(false)}
    >
      <input autoFocus aria-label="Why reject it" placeholder="why (the bead's agent reads this)" value={reason} onChange={(e) => setReason(e.target.value)} />
      <button type="submit" className="small danger" disabled={!reason.trim()}>
        Reject {mr.bead}
      </button>
      <button type="button" className="small ghost" onClick={() => setOpen(false)}>
        Cancel
      </button>
    </form>
  );
}
