// Work per frame, from a Chromium trace: how long the page's main thread (CrRendererMain)
// spends producing each frame. A rAF interval cannot show that: at 60 Hz it is 16.7 ms at
// best whatever the page does, and on a shared headless --disable-gpu Chromium it mostly
// shows the compositor's jitter. Here a frame's work is the main thread's busy time (every
// top-level task: script, feed messages, React, style, layout, paint, GC) from the start of
// the task that ran one frame's rAF callbacks to the start of the next one's. A page that
// keeps it under 16 ms can hold 60 fps; dropped frames (rAF interval > 1.5 vsync) are
// counted beside it, since on this machine they also come from CPU the page never got.
import fs from 'node:fs';
import type { CDPSession, Page } from 'playwright-core';

export interface TraceEvent {
  name: string;
  cat?: string;
  ph: string;
  ts: number;
  dur?: number;
  /** Thread time: the CPU the thread actually got during the event. */
  tdur?: number;
  pid: number;
  tid: number;
  args?: { name?: string; data?: { message?: string } };
}

export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

export interface FrameWork {
  /** Main-thread busy ms per frame interval (wall time). */
  work: number[];
  /** The CPU time within that work: the rest is the thread waiting or descheduled. */
  cpu: number[];
  /** rAF intervals, ms. */
  intervals: number[];
  /** Intervals past 1.5 refreshes (25 ms): frames the display did not get in time. */
  dropped: number;
  /** Mean ms per frame by kind of work (self time of the main thread's trace events). */
  kinds: Record<Kind, number>;
  /** Share of the window the main thread was busy. */
  busy: number;
  /** The heaviest frame: its work and the trace events with the most self time in it. */
  worst: string;
  profile?: CpuProfile;
}

type Kind = 'script' | 'style+layout' | 'paint' | 'gc' | 'other';
const MARK = 'overseer-frame';
const VSYNC_MS = 1000 / 60;

// Commit counts as paint: the main thread handing the frame to the compositor thread. It is
// where the wall time of a frame grows when the compositor is starved of CPU (the cpu figure
// then stays small).
function kindOf(name: string): Kind {
  if (/^(UpdateLayoutTree|RecalculateStyles|Layout|ScheduleStyleRecalculation|InvalidateLayout|ParseAuthorStyleSheet|LayoutInvalidationTracking)$/.test(name)) return 'style+layout';
  if (/^(Paint|PrePaint|Layerize|PaintImage|UpdateLayer|UpdateLayerTree|CompositeLayers|Commit|RasterTask|Decode)/.test(name)) return 'paint';
  if (/GC|GarbageCollect|BlinkGC|CppGC/i.test(name)) return 'gc';
  if (/^(FunctionCall|EvaluateScript|TimerFire|EventDispatch|FireAnimationFrame|RunMicrotasks|v8\.|V8\.|XHRReadyStateChange|HandlePostMessage|FireIdleCallback|ResourceReceivedData|WebSocketReceive|ProfileCall)/.test(name)) return 'script';
  return 'other';
}

/**
 * Runs a rAF loop in `page` for `ms` under a devtools.timeline trace (and, with `profile`,
 * a sampling CPU profile of the page) and returns the work per frame. With `scroll`, each
 * frame scrolls that element 240 px, down to its end and back.
 */
export async function measureFrameWork(page: Page, ms: number, opts: { profile?: boolean; scroll?: string } = {}): Promise<FrameWork> {
  const cdp: CDPSession = await page.context().newCDPSession(page);
  const trace: TraceEvent[] = [];
  cdp.on('Tracing.dataCollected', (e) => trace.push(...(e.value as unknown as TraceEvent[])));
  const traced = new Promise<void>((res) => cdp.once('Tracing.tracingComplete', () => res()));
  if (opts.profile) {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
    await cdp.send('Profiler.start');
  }
  await cdp.send('Tracing.start', { categories: 'devtools.timeline,disabled-by-default-devtools.timeline', transferMode: 'ReportEvents' });
  // console.timeStamp in each rAF callback puts the frame boundaries into the trace itself,
  // on the page's main thread and in the trace's clock.
  await page.evaluate(
    ([ms, mark, scroll]) =>
      new Promise<void>((resolve) => {
        const el = scroll ? document.querySelector<HTMLElement>(scroll) : null;
        let down = true;
        const start = performance.now();
        const step = () => {
          console.timeStamp(mark);
          if (el) {
            if (el.scrollTop + el.clientHeight >= el.scrollHeight - 1) down = false;
            else if (el.scrollTop <= 0) down = true;
            el.scrollTop += down ? 240 : -240;
          }
          if (performance.now() - start < ms) requestAnimationFrame(step);
          else resolve();
        };
        requestAnimationFrame(step);
      }),
    [ms, MARK, opts.scroll ?? null] as const,
  );
  const profile = opts.profile ? ((await cdp.send('Profiler.stop')) as { profile: CpuProfile }).profile : undefined;
  await cdp.send('Tracing.end');
  await traced;
  await cdp.detach();
  // For a closer look in DevTools' Performance panel or with frameWorkOf.
  if (process.env.BENCH_TRACE_DIR) fs.writeFileSync(`${process.env.BENCH_TRACE_DIR}/frames-${Date.now()}.json`, JSON.stringify({ traceEvents: trace }));
  return { ...frameWorkOf(trace), profile };
}

/** The figures of FrameWork from the events of one trace (pure, for the sake of reading it). */
export function frameWorkOf(trace: TraceEvent[]): Omit<FrameWork, 'profile'> {
  const marks = trace.filter((e) => e.name === 'TimeStamp' && e.args?.data?.message === MARK).sort((a, b) => a.ts - b.ts);
  if (marks.length < 3) throw new Error(`the trace holds ${marks.length} frame marks`);
  const { pid, tid } = marks[0];
  const main = trace.filter((e) => e.pid === pid && e.tid === tid && e.ph === 'X' && e.dur !== undefined).sort((a, b) => a.ts - b.ts || b.dur! - a.dur!);
  // Top-level tasks: the outermost complete events (RunTask, or anything not inside one).
  const tasks: TraceEvent[] = [];
  let end = -Infinity;
  for (const e of main) {
    if (e.ts >= end) {
      tasks.push(e);
      end = e.ts + e.dur!;
    }
  }
  // Each frame starts with the task that ran its rAF callbacks.
  let t = 0;
  const starts = marks.map((m) => {
    while (t + 1 < tasks.length && tasks[t + 1].ts <= m.ts) t++;
    const task = tasks[t];
    return task && task.ts <= m.ts && task.ts + task.dur! >= m.ts ? task.ts : m.ts;
  });
  const work: number[] = [];
  const cpu: number[] = [];
  let k = 0;
  for (let i = 0; i + 1 < starts.length; i++) {
    const [a, b] = [starts[i], starts[i + 1]];
    let us = 0;
    let cpuUs = 0;
    while (k < tasks.length && tasks[k].ts + tasks[k].dur! <= a) k++;
    for (let j = k; j < tasks.length && tasks[j].ts < b; j++) {
      const t = tasks[j];
      const inside = Math.max(0, Math.min(b, t.ts + t.dur!) - Math.max(a, t.ts));
      us += inside;
      // A task split between two frames gives each its share of its CPU time.
      cpuUs += t.dur ? ((t.tdur ?? t.dur) * inside) / t.dur : 0;
    }
    work.push(us / 1000);
    cpu.push(cpuUs / 1000);
  }
  const intervals = marks.slice(1).map((m, i) => (m.ts - marks[i].ts) / 1000);
  const windowUs = starts[starts.length - 1] - starts[0];
  const inWindow = main.filter((e) => e.ts >= starts[0] && e.ts < starts[starts.length - 1]);
  const kinds: Record<Kind, number> = { script: 0, 'style+layout': 0, paint: 0, gc: 0, other: 0 };
  for (const [name, us] of selfTimes(inWindow)) kinds[kindOf(name)] += us / 1000 / work.length;
  const w = work.indexOf(Math.max(...work));
  const inWorst = main.filter((e) => e.ts >= starts[w] && e.ts < starts[w + 1]);
  const worst = `${work[w].toFixed(1)} ms: ${[...selfTimes(inWorst)].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([n, us]) => `${n} ${(us / 1000).toFixed(1)}`).join(', ')}`;
  return {
    worst,
    work,
    cpu,
    intervals,
    dropped: intervals.filter((d) => d > 1.5 * VSYNC_MS).length,
    kinds,
    busy: work.reduce((s, x) => s + x, 0) / (windowUs / 1000),
  };
}

/** Self time (µs) per event name, for properly nested complete events sorted by start. */
function selfTimes(events: TraceEvent[]): Map<string, number> {
  const self = new Map<string, number>();
  const stack: { e: TraceEvent; child: number }[] = [];
  const close = (until: number) => {
    while (stack.length && stack[stack.length - 1].e.ts + stack[stack.length - 1].e.dur! <= until) {
      const { e, child } = stack.pop()!;
      self.set(e.name, (self.get(e.name) ?? 0) + Math.max(0, e.dur! - child));
      if (stack.length) stack[stack.length - 1].child += e.dur!;
    }
  };
  for (const e of events) {
    close(e.ts);
    stack.push({ e, child: 0 });
  }
  close(Infinity);
  return self;
}

/** Mean ms per frame by kind of work, as `script 0.41, style+layout 0.10, …`. */
export function kindsText(fw: FrameWork): string {
  return (Object.entries(fw.kinds) as [Kind, number][]).map(([k, ms]) => `${k} ${ms.toFixed(2)}`).join(', ');
}

/** The functions with the most self time in a V8 CPU profile, as `ms  name  file:line`. */
export function topSelfTime(profile: CpuProfile, n = 15): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, k) => {
    const cf = byId.get(id)!.callFrame;
    const key = `${cf.functionName || '(anonymous)'}  ${cf.url.split('/').slice(-2).join('/')}:${cf.lineNumber + 1}`;
    const dt = (profile.timeDeltas[k] ?? 0) / 1000;
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  });
  const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
  return [`total ${total.toFixed(0)} ms`, ...rows.map(([k, ms]) => `${ms.toFixed(0).padStart(7)} ms ${((100 * ms) / total).toFixed(1).padStart(5)}%  ${k}`)].join('\n');
}
