// Board: beads in columns, filterable and searchable, created and edited inline. Drag a
// card to Done to close it (or out of Done/Failed to reopen it), with undo; drag it onto
// a rig or an agent to sling it. Columns are virtualized (10,000 beads stay smooth).
import { useShallow } from 'zustand/react/shallow';
import { memo, useMemo, useRef, useState } from 'react';
import {
  DndContext,
  DragOverlay,
  KeyboardSensor,
  PointerSensor,
  useDraggable,
  useDroppable,
  useSensor,
  useSensors,
  type DragEndEvent,
  type DragStartEvent,
} from '@dnd-kit/core';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { BeadView } from '../../../shared/domain';
import { Priority } from '../components/bits';
import { getBackend, useTown } from '../state/town-store';
import { boardColumns, COLUMNS, columnOf, EMPTY_FILTER, isLive, labelsOf, type BoardFilter, type ColumnId } from '../state/selectors';
import { useRovingList } from '../components/virtual-list';
import { attempt, openBead } from '../state/ui-store';
import { NO_DRAG, useOnline } from '../components/Connection';

export function Board() {
  const entities = useTown((s) => s.entities);
  const [filter, setFilter] = useState<BoardFilter>(EMPTY_FILTER);
  const [dragging, setDragging] = useState<BeadView | null>(null);
  // Sorted columns follow patches incrementally; a new filter starts them afresh.
  const columns = useMemo(() => boardColumns(filter), [filter]);
  const rigs = entities.rig.list();
  const polecats = entities.agent.list().filter((a) => a.role === 'polecat');
  const labels = labelsOf(entities);
  const sensors = useSensors(useSensor(PointerSensor, { activationConstraint: { distance: 6 } }), useSensor(KeyboardSensor));
  const online = useOnline();

  const onDragStart = (e: DragStartEvent) => setDragging(entities.bead.get(String(e.active.id)) ?? null);
  const onDragEnd = (e: DragEndEvent) => {
    setDragging(null);
    const bead = entities.bead.get(String(e.active.id));
    const target = e.over ? String(e.over.id) : null;
    if (!bead || !target) return;
    void dropBead(bead, target);
  };

  return (
    <div className="view board">
      <header className="view-head">
        <h1>Board</h1>
        <div className="filters" role="search">
          <input
            className="search"
            type="search"
            placeholder="Search beads (/)"
            aria-label="Search beads"
            value={filter.text}
            onChange={(e) => setFilter({ ...filter, text: e.target.value })}
            onKeyDown={(e) => e.key === 'Escape' && setFilter({ ...filter, text: '' })}
          />
          <select aria-label="Filter by rig" value={filter.rig} onChange={(e) => setFilter({ ...filter, rig: e.target.value })}>
            <option value="">All rigs</option>
            {rigs.map((r) => (
              <option key={r.id} value={r.id}>{r.name}</option>
            ))}
          </select>
          <select aria-label="Filter by label" value={filter.label} onChange={(e) => setFilter({ ...filter, label: e.target.value })}>
            <option value="">Any label</option>
            {labels.map((l) => (
              <option key={l} value={l}>{l}</option>
            ))}
          </select>
          <select aria-label="Filter by assignee" value={filter.assignee} onChange={(e) => setFilter({ ...filter, assignee: e.target.value })}>
            <option value="">Anyone</option>
            {polecats.map((a) => (
              <option key={a.id} value={a.id}>{a.name}</option>
            ))}
          </select>
          <select aria-label="Filter by priority" value={filter.priority} onChange={(e) => setFilter({ ...filter, priority: e.target.value })}>
            <option value="">Any priority</option>
            {[0, 1, 2, 3, 4].map((p) => (
              <option key={p} value={String(p)}>P{p}</option>
            ))}
          </select>
          {filter !== EMPTY_FILTER && (
            <button className="ghost small" onClick={() => setFilter(EMPTY_FILTER)}>
              Clear
            </button>
          )}
        </div>
      </header>
      <DndContext sensors={online ? sensors : NO_DRAG} onDragStart={onDragStart} onDragEnd={onDragEnd} onDragCancel={() => setDragging(null)}>
        <div className="sling-bar" aria-label="Sling targets">
          <span className="muted">Drop on a rig or agent to sling:</span>
          {rigs.map((r) => (
            <SlingTarget key={r.id} id={`sling:${r.id}`} label={r.name} kind="rig" />
          ))}
          {polecats.map((a) => (
            <SlingTarget key={a.id} id={`sling:${a.id}`} label={a.name} kind={a.status} />
          ))}
        </div>
        <div className="columns">
          {COLUMNS.map((c) => (
            <Column key={c.id} id={c.id} title={c.title} beads={columns[c.id].of(entities.bead)} defaultRig={filter.rig || rigs[0]?.id || ''} />
          ))}
        </div>
        <DragOverlay dropAnimation={null}>{dragging ? <CardBody bead={dragging} agentName={null} /> : null}</DragOverlay>
      </DndContext>
    </div>
  );
}

/** What dropping a card on a target means. */
async function dropBead(bead: BeadView, target: string) {
  const api = getBackend();
  if (target.startsWith('sling:')) {
    const to = target.slice('sling:'.length);
    await attempt(() => api.call('sling', { bead: bead.id, target: to }), `Slung ${bead.id} to ${to}`);
    return;
  }
  const from = columnOf(bead);
  const to = target.replace(/^column:/, '') as ColumnId;
  if (from === to) return;
  if (to === 'done') {
    await attempt(() => api.call('bead.close', { id: bead.id, reason: 'closed on the board' }), `Closed ${bead.id}`, () =>
      api.call('bead.reopen', { id: bead.id }),
    );
  } else if (from === 'done' || from === 'failed') {
    if (to !== 'backlog' && to !== 'ready') return notifyNoMove(to);
    const wasClosed = from === 'done';
    await attempt(() => api.call('bead.reopen', { id: bead.id }), `Reopened ${bead.id}`, () =>
      wasClosed ? api.call('bead.close', { id: bead.id, reason: 'closed again (undo)' }) : Promise.resolve(),
    );
  } else {
    notifyNoMove(to);
  }
}

function notifyNoMove(to: ColumnId) {
  const hint =
    to === 'in_progress' || to === 'in_review'
      ? 'Agents move beads into progress and review. Drop the card on a rig or an agent to sling it.'
      : to === 'failed'
        ? 'Beads fail on their own (attempt cap). Close it instead (drop on Done).'
        : 'A bead is Ready when it has a rig and no open blockers.';
  void attempt(() => Promise.reject(new Error(hint)));
}

function SlingTarget({ id, label, kind }: { id: string; label: string; kind: string }) {
  const { setNodeRef, isOver } = useDroppable({ id });
  return (
    <span ref={setNodeRef} className={`sling-target ${isOver ? 'over' : ''}`} data-sling={id.slice(6)}>
      {kind === 'rig' ? '▣' : '●'} {label}
    </span>
  );
}

const CARD_HEIGHT = 84;

/** A column renders only the cards in view (plus a few): 10,000 beads, ~20 cards in the DOM. */
const Column = memo(function Column({ id, title, beads, defaultRig }: { id: ColumnId; title: string; beads: BeadView[]; defaultRig: string }) {
  const { setNodeRef, isOver } = useDroppable({ id: `column:${id}` });
  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({ count: beads.length, getScrollElement: () => scroller.current, estimateSize: () => CARD_HEIGHT, overscan: 6, getItemKey: (i) => beads[i].id });
  const onKeyDown = useRovingList(virtual, beads.length, '.card');
  const agents = useTown((s) => s.entities.agent);
  const [creating, setCreating] = useState(false);

  return (
    <section ref={setNodeRef} className={`column ${isOver ? 'over' : ''}`} data-column={id} aria-label={title}>
      <h2>
        {title} <span className="count">{beads.length}</span>
        {(id === 'backlog' || id === 'ready') && (
          <button className="ghost small add" aria-label={`New bead in ${title}`} onClick={() => setCreating(true)}>
            +
          </button>
        )}
      </h2>
      {creating && <NewBead defaultRig={id === 'backlog' ? '' : defaultRig} onDone={() => setCreating(false)} />}
      <div className="column-scroll" ref={scroller} role="list" aria-label={`${title} beads`} onKeyDown={onKeyDown}>
        <div style={{ height: virtual.getTotalSize(), position: 'relative' }}>
          {virtual.getVirtualItems().map((v) => {
            const b = beads[v.index];
            const agent = b.assignee ? agents.get(b.assignee) : undefined;
            return (
              <div key={b.id} className="card-slot" role="listitem" aria-setsize={beads.length} aria-posinset={v.index + 1} data-index={v.index} style={{ position: 'absolute', top: 0, left: 0, right: 0, height: CARD_HEIGHT, transform: `translateY(${v.start}px)` }}>
                <Card bead={b} agentName={agent ? `${agent.name}${isLive(agent) ? '' : ` (${agent.status})`}` : null} />
              </div>
            );
          })}
        </div>
      </div>
    </section>
  );
});

const Card = memo(function Card({ bead, agentName }: { bead: BeadView; agentName: string | null }) {
  const { setNodeRef, listeners, attributes, isDragging } = useDraggable({ id: bead.id });
  return (
    <div
      ref={setNodeRef}
      {...listeners}
      {...attributes}
      className={`card ${isDragging ? 'dragging' : ''}`}
      data-bead={bead.id}
      onClick={() => openBead(bead.id)}
      onKeyDown={(e) => {
        listeners?.onKeyDown?.(e);
        if (e.key === 'Enter') openBead(bead.id);
      }}
      aria-label={`${bead.id} ${bead.title}`}
    >
      <CardBody bead={bead} agentName={agentName} />
    </div>
  );
});

function CardBody({ bead, agentName }: { bead: BeadView; agentName: string | null }) {
  return (
    <>
      <div className="card-top">
        <code className="bead-id">{bead.id}</code>
        <Priority value={bead.priority} />
        {bead.rig && <span className="muted small">{bead.rig}</span>}
        {bead.held_at && <span className="pill tone-warn held" title={bead.held_reason ?? 'held'}>held</span>}
        {bead.labels.slice(0, 2).map((l) => (
          <span key={l} className="label">{l}</span>
        ))}
      </div>
      <div className="card-title">{bead.title}</div>
      <div className="card-foot">
        {agentName && <span className="assignee">● {agentName}</span>}
        {bead.blocked_by.length > 0 && <span className="blocked">waits on {bead.blocked_by.join(', ')}</span>}
      </div>
    </>
  );
}

function NewBead({ defaultRig, onDone }: { defaultRig: string; onDone: () => void }) {
  const rigs = useTown(useShallow((s) => s.entities.rig.list()));
  const [title, setTitle] = useState('');
  const [rig, setRig] = useState(defaultRig);
  const [priority, setPriority] = useState(2);
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    if (!title.trim()) return;
    setBusy(true);
    const created = await attempt(
      () => getBackend().call('bead.create', { title, priority, ...(rig ? { rig } : {}) }),
      undefined,
    );
    setBusy(false);
    if (created) {
      setTitle('');
      onDone();
    }
  };
  return (
    <form
      className="new-bead"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <input
        autoFocus
        aria-label="New bead title"
        placeholder="What needs doing?"
        value={title}
        onChange={(e) => setTitle(e.target.value)}
        onKeyDown={(e) => e.key === 'Escape' && onDone()}
      />
      <div className="new-bead-row">
        <select aria-label="Rig" value={rig} onChange={(e) => setRig(e.target.value)}>
          <option value="">No rig</option>
          {rigs.map((r) => (
            <option key={r.id} value={r.id}>{r.name}</option>
          ))}
        </select>
        <select aria-label="Priority" value={priority} onChange={(e) => setPriority(Number(e.target.value))}>
          {[0, 1, 2, 3, 4].map((p) => (
            <option key={p} value={p}>P{p}</option>
          ))}
        </select>
        <button type="submit" disabled={busy || !title.trim()}>
          Create
        </button>
        <button type="button" className="ghost" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}
