// Convoy planner: drag beads from the backlog into a staged convoy, reorder members,
// drag one member's link handle onto another to make it wait on that one (a cycle is
// refused inline), remove members, start the convoy, and watch it progress live.
import { useMemo, useRef, useState, type ReactNode } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useRovingList } from '../components/virtual-list';
import {
  DndContext,
  DragOverlay,
  KeyboardSensor,
  pointerWithin,
  PointerSensor,
  rectIntersection,
  useDraggable,
  useDroppable,
  useSensor,
  useSensors,
  type CollisionDetection,
  type DragEndEvent,
  type DragStartEvent,
} from '@dnd-kit/core';
import { SortableContext, sortableKeyboardCoordinates, useSortable, verticalListSortingStrategy } from '@dnd-kit/sortable';
import { CSS } from '@dnd-kit/utilities';
import { BudgetBar } from '../components/BudgetBar';
import { NewConvoy } from '../components/NewConvoy';
import type { BeadView, ConvoyView, MergeRequestView } from '../../../shared/domain';
import { beadTone, Empty, mrTone, Pill, Priority, Progress } from '../components/bits';
import { Ago } from '../components/time';
import { getBackend, useTown } from '../state/town-store';
import { mergeRequestOf, plannerBacklog } from '../state/selectors';
import { attempt, errorText, openBead } from '../state/ui-store';
import { NO_DRAG, useOnline } from '../components/Connection';

type DragKind = { kind: 'backlog' | 'member' | 'link'; bead: string };

/** The target under the pointer, preferring a member row over the pane that holds it. */
const collide: CollisionDetection = (args) => {
  const within = pointerWithin(args);
  const hits = within.length > 0 ? within : rectIntersection(args);
  const kind = (args.active.data.current as DragKind | undefined)?.kind;
  const order = kind === 'link' ? ['link:', 'member:'] : ['member:', 'link:'];
  for (const prefix of order) {
    const hit = hits.find((c) => String(c.id).startsWith(prefix));
    if (hit) return [hit];
  }
  return hits.slice(0, 1);
};

export function Planner() {
  const entities = useTown((s) => s.entities);
  const convoys = entities.convoy.list().sort((a, b) => (a.created_at < b.created_at ? 1 : -1));
  const [selected, setSelected] = useState<string | null>(null);
  const convoy = (selected && entities.convoy.get(selected)) || convoys.find((c) => c.status === 'staged') || convoys[0] || null;
  const [dragging, setDragging] = useState<DragKind | null>(null);
  const [problem, setProblem] = useState<{ bead: string; text: string } | null>(null);
  const [search, setSearch] = useState('');
  const sensors = useSensors(
    useSensor(PointerSensor, { activationConstraint: { distance: 6 } }),
    useSensor(KeyboardSensor, { coordinateGetter: sortableKeyboardCoordinates }),
  );
  const online = useOnline();

  const inAnyConvoy = useMemo(() => new Set(entities.convoy.list().filter((c) => c.status !== 'landed').flatMap((c) => c.beads)), [entities.convoy]);
  const backlogRows = useMemo(() => plannerBacklog(inAnyConvoy, search), [inAnyConvoy, search]);
  const backlog = backlogRows.of(entities.bead);

  const api = getBackend();
  const onDragStart = (e: DragStartEvent) => setDragging((e.active.data.current as DragKind) ?? null);
  const onDragEnd = async (e: DragEndEvent) => {
    setDragging(null);
    const from = e.active.data.current as DragKind | undefined;
    const over = e.over ? String(e.over.id) : null;
    if (!from || !over || !convoy) return;
    setProblem(null);
    if (from.kind === 'backlog') {
      if (over === 'convoy' || over.startsWith('member:') || over.startsWith('link:')) {
        await attempt(() => api.call('convoy.add', { convoy: convoy.id, beads: [from.bead] }));
      }
    } else if (from.kind === 'member') {
      if (over === 'backlog') {
        await removeMember(convoy, from.bead);
      } else if (over.startsWith('member:')) {
        const target = over.slice('member:'.length);
        const position = convoy.beads.indexOf(target);
        if (target !== from.bead && position >= 0) await attempt(() => api.call('convoy.move', { convoy: convoy.id, bead: from.bead, position }));
      }
    } else if (from.kind === 'link') {
      const target = over.startsWith('link:') ? over.slice(5) : over.startsWith('member:') ? over.slice(7) : null;
      if (!target || target === from.bead) return;
      try {
        await api.call('dep.add', { bead: from.bead, depends_on: target });
      } catch (err) {
        setProblem({ bead: from.bead, text: errorText(err) });
      }
    }
  };

  const removeMember = (c: ConvoyView, bead: string) =>
    attempt(() => api.call('convoy.remove', { convoy: c.id, beads: [bead] }), `Removed ${bead} from ${c.title}`, () =>
      api.call('convoy.add', { convoy: c.id, beads: [bead] }),
    );

  return (
    <div className="view planner">
      <header className="view-head">
        <h1>Convoys</h1>
        <div className="convoy-tabs" role="tablist">
          {convoys.map((c) => (
            <button key={c.id} role="tab" aria-selected={convoy?.id === c.id} className={`tab ${convoy?.id === c.id ? 'active' : ''}`} onClick={() => setSelected(c.id)}>
              {c.title} <Pill tone={c.status === 'landed' ? 'ok' : c.status === 'active' ? 'info' : 'muted'}>{c.status}</Pill>
            </button>
          ))}
          <NewConvoy onCreated={setSelected} />
        </div>
      </header>
      <DndContext sensors={online ? sensors : NO_DRAG} collisionDetection={collide} onDragStart={onDragStart} onDragEnd={(e) => void onDragEnd(e)} onDragCancel={() => setDragging(null)}>
        <div className="planner-grid">
          <BacklogPane beads={backlog} search={search} onSearch={setSearch} />
          {convoy ? (
            <ConvoyPane convoy={convoy} problem={problem} onDismiss={() => setProblem(null)} onRemove={(b) => void removeMember(convoy, b)} linking={dragging?.kind === 'link'} />
          ) : (
            <section className="panel">
              <Empty>No convoy yet. Create one with “New convoy”.</Empty>
            </section>
          )}
        </div>
        <DragOverlay dropAnimation={null}>
          {dragging && entities.bead.get(dragging.bead) ? (
            dragging.kind === 'link' ? (
              <div className="link-ghost">⤷ {dragging.bead} waits on…</div>
            ) : (
              <PlannerRow bead={entities.bead.get(dragging.bead)!} />
            )
          ) : null}
        </DragOverlay>
      </DndContext>
    </div>
  );
}

function BacklogPane({ beads, search, onSearch }: { beads: BeadView[]; search: string; onSearch: (s: string) => void }) {
  const { setNodeRef, isOver } = useDroppable({ id: 'backlog' });
  return (
    <section ref={setNodeRef} className={`panel pane ${isOver ? 'over' : ''}`} aria-label="Backlog beads" data-pane="backlog">
      <h2>Open beads not in a convoy</h2>
      <input type="search" placeholder="Filter" aria-label="Filter open beads" value={search} onChange={(e) => onSearch(e.target.value)} />
      {beads.length === 0 ? (
        <Empty>Every open bead is planned. Create beads on the Board.</Empty>
      ) : (
        <BacklogList beads={beads} />
      )}
    </section>
  );
}

const ROW_HEIGHT = 38;

/** Only the rows in view are rendered: the backlog of a 10,000-bead import stays a few dozen rows. */
function BacklogList({ beads }: { beads: BeadView[] }) {
  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({ count: beads.length, getScrollElement: () => scroller.current, estimateSize: () => ROW_HEIGHT, overscan: 8, getItemKey: (i) => beads[i].id });
  const onKeyDown = useRovingList(virtual, beads.length, '.plan-item');
  return (
    <div className="plan-list" ref={scroller} role="list" aria-label="Open beads" onKeyDown={onKeyDown}>
      <div style={{ height: virtual.getTotalSize(), position: 'relative', flexShrink: 0 }}>
        {virtual.getVirtualItems().map((v) => (
          <div key={v.key} className="virtual-row" role="listitem" aria-setsize={beads.length} aria-posinset={v.index + 1} data-index={v.index} style={{ position: 'absolute', top: 0, left: 0, right: 0, height: ROW_HEIGHT, transform: `translateY(${v.start}px)` }}>
            <BacklogItem bead={beads[v.index]} />
          </div>
        ))}
      </div>
    </div>
  );
}

function BacklogItem({ bead }: { bead: BeadView }) {
  const { setNodeRef, listeners, attributes, isDragging } = useDraggable({ id: `backlog:${bead.id}`, data: { kind: 'backlog', bead: bead.id } satisfies DragKind });
  return (
    <div ref={setNodeRef} {...listeners} {...attributes} className={`plan-item ${isDragging ? 'dragging' : ''}`} data-bead={bead.id} aria-label={`${bead.id} ${bead.title}`}>
      <PlannerRow bead={bead} />
    </div>
  );
}

function PlannerRow({ bead }: { bead: BeadView }) {
  return (
    <div className="plan-row">
      <code className="bead-id">{bead.id}</code>
      <Priority value={bead.priority} />
      <span className="plan-title">{bead.title}</span>
      {bead.rig ? <span className="muted small">{bead.rig}</span> : <span className="warn small">no rig</span>}
    </div>
  );
}

function ConvoyPane({
  convoy,
  problem,
  onDismiss,
  onRemove,
  linking,
}: {
  convoy: ConvoyView;
  problem: { bead: string; text: string } | null;
  onDismiss: () => void;
  onRemove: (bead: string) => void;
  linking: boolean;
}) {
  const beads = useTown((s) => s.entities.bead);
  const { setNodeRef, isOver } = useDroppable({ id: 'convoy' });
  const staged = convoy.status === 'staged';
  const memberSet = useMemo(() => new Set(convoy.beads), [convoy.beads]);
  const api = getBackend();
  return (
    <section ref={setNodeRef} className={`panel pane convoy-pane ${isOver ? 'over' : ''}`} aria-label={`Convoy ${convoy.title}`} data-pane="convoy" data-convoy={convoy.id}>
      <div className="convoy-head">
        <h2>{convoy.title}</h2>
        <code className="bead-id">{convoy.id}</code>
        {convoy.mode === 'integration' && (
          <span className="muted small" title={`Members merge into convoy/${convoy.id}; one landing merge brings it to the default branch`}>
            integration
          </span>
        )}
        {convoy.status === 'staged' && (
          <button
            className="primary"
            disabled={convoy.total === 0}
            onClick={() => void attempt(() => api.call('convoy.start', { convoy: convoy.id }), `Convoy “${convoy.title}” started`)}
          >
            Start convoy
          </button>
        )}
        {convoy.started_at && (
          <span className="muted small">
            started <Ago at={convoy.started_at} />
          </span>
        )}
        {convoy.landed_at && (
          <span className="ok small">
            landed <Ago at={convoy.landed_at} />
          </span>
        )}
      </div>
      <Progress done={convoy.closed} total={convoy.total} label={`${convoy.title} progress`} />
      <BudgetBar convoy={convoy} />
      <p className="hint muted small">
        Drag beads here from the left. Drag ☰ to reorder, drag ⤷ onto another member to make it wait on that one.
        {staged ? ' Nothing runs until you start the convoy.' : ''}
      </p>
      {convoy.beads.length === 0 ? (
        <div className="drop-hint">Drop beads here</div>
      ) : (
        <MemberList
          convoy={convoy}
          render={(id) =>
            beads.get(id) ? (
              <Member
                bead={beads.get(id)!}
                members={memberSet}
                linking={linking}
                problem={problem?.bead === id ? problem.text : null}
                onDismiss={onDismiss}
                onRemove={() => onRemove(id)}
                onUnlink={(dep) => void attempt(() => api.call('dep.remove', { bead: id, depends_on: dep }), `${id} no longer waits on ${dep}`, () => api.call('dep.add', { bead: id, depends_on: dep }))}
              />
            ) : null
          }
        />
      )}
    </section>
  );
}

/**
 * The members, in order, rendered only where in view (rows differ in height: merges, links,
 * errors; they are measured). Every member stays a sortable id so a drop anywhere reorders.
 */
function MemberList({ convoy, render }: { convoy: ConvoyView; render: (id: string) => ReactNode }) {
  const scroller = useRef<HTMLDivElement>(null);
  const ids = convoy.beads;
  const virtual = useVirtualizer({ count: ids.length, getScrollElement: () => scroller.current, estimateSize: () => 44, overscan: 6, getItemKey: (i) => ids[i] });
  const onKeyDown = useRovingList(virtual, ids.length, '.row-main');
  const items = useMemo(() => ids.map((b) => `member:${b}`), [ids]);
  return (
    <SortableContext items={items} strategy={verticalListSortingStrategy}>
      <div className="plan-list members" ref={scroller} role="list" aria-label={`Members of ${convoy.title}`} onKeyDown={onKeyDown}>
        <div style={{ height: virtual.getTotalSize(), position: 'relative', flexShrink: 0 }}>
          {virtual.getVirtualItems().map((v) => (
            <div key={v.key} ref={virtual.measureElement} className="virtual-row" role="listitem" aria-setsize={ids.length} aria-posinset={v.index + 1} data-index={v.index} style={{ position: 'absolute', top: 0, left: 0, right: 0, transform: `translateY(${v.start}px)` }}>
              {render(ids[v.index])}
            </div>
          ))}
        </div>
      </div>
    </SortableContext>
  );
}

function Member({
  bead,
  members,
  linking,
  problem,
  onDismiss,
  onRemove,
  onUnlink,
}: {
  bead: BeadView;
  members: ReadonlySet<string>;
  linking: boolean;
  problem: string | null;
  onDismiss: () => void;
  onRemove: () => void;
  onUnlink: (dep: string) => void;
}) {
  const sortable = useSortable({ id: `member:${bead.id}`, data: { kind: 'member', bead: bead.id } satisfies DragKind });
  const link = useDraggable({ id: `linkfrom:${bead.id}`, data: { kind: 'link', bead: bead.id } satisfies DragKind });
  const linkDrop = useDroppable({ id: `link:${bead.id}` });
  const style = { transform: CSS.Transform.toString(sortable.transform), transition: sortable.transition };
  const waitsOn = bead.depends_on.filter((d) => members.has(d) || bead.blocked_by.includes(d));
  const mr = useTown((s) => mergeRequestOf(s.entities, bead.id));
  return (
    <div
      ref={(el) => {
        sortable.setNodeRef(el);
        linkDrop.setNodeRef(el);
      }}
      style={style}
      className={`plan-item member ${sortable.isDragging ? 'dragging' : ''} ${linking && linkDrop.isOver ? 'link-over' : ''}`}
      data-member={bead.id}
    >
      <div className="member-row">
        <button className="handle" aria-label={`Reorder ${bead.id}`} {...sortable.listeners} {...sortable.attributes}>
          ☰
        </button>
        <button className="handle link-handle" aria-label={`Make ${bead.id} wait on another member`} ref={link.setNodeRef} {...link.listeners} {...link.attributes}>
          ⤷
        </button>
        <button className="row-main" onClick={() => openBead(bead.id)}>
          <code className="bead-id">{bead.id}</code>
          <span className="plan-title">{bead.title}</span>
        </button>
        <Pill tone={beadTone(bead.status)}>{bead.status.replace('_', ' ')}</Pill>
        {bead.assignee && <span className="muted small">{bead.assignee.split('/').pop()}</span>}
        <button className="ghost small" aria-label={`Remove ${bead.id} from the convoy`} onClick={onRemove}>
          ×
        </button>
      </div>
      {mr && bead.status !== 'closed' && <MemberMerge mr={mr} />}
      {waitsOn.length > 0 && (
        <div className="member-deps">
          waits on{' '}
          {waitsOn.map((d) => (
            <span key={d} className="dep-chip" data-dep={d}>
              {d}
              <button className="ghost small" aria-label={`${bead.id} stops waiting on ${d}`} onClick={() => onUnlink(d)}>
                ×
              </button>
            </span>
          ))}
        </div>
      )}
      {problem && (
        <div className="inline-error" role="alert">
          {problem}{' '}
          <button className="ghost small" onClick={onDismiss} aria-label="Dismiss">
            ×
          </button>
        </div>
      )}
    </div>
  );
}

/** Where a member's merge stands, and why it waits (blocked on its resolution, or what failed). */
function MemberMerge({ mr }: { mr: MergeRequestView }) {
  const why = mr.blocked_reason ?? (mr.failure ? `${mr.failure.type}: ${mr.failure.tail.trim().split('\n').pop() ?? ''}` : null);
  return (
    <div className="member-deps" data-merge={mr.id}>
      merge <Pill tone={mrTone(mr.state)}>{mr.state}</Pill>
      {why && <span>{why}</span>}
    </div>
  );
}
