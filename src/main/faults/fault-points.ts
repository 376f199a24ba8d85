// Fault points for crash tests: `TOWN_FAULTS=name[,name...]` makes the engine SIGKILL
// itself when it reaches a named point, so a test can aim a crash at a window too narrow
// to hit from outside (e.g. between moving a branch and updating the checkout). Each point
// fires once per process; without the variable this is a no-op.
const armed = new Set((process.env.TOWN_FAULTS ?? '').split(',').map((s) => s.trim()).filter(Boolean));

export type FaultPoint = 'refinery.before-ref-move' | 'refinery.after-ref-move' | 'refinery.after-checkout-follow' | 'engine.after-session-spawned';

export function faultPoint(name: FaultPoint) {
  if (!armed.delete(name)) return;
  process.stderr.write(`[town] fault point ${name}: killing the engine (TOWN_FAULTS)\n`);
  process.kill(process.pid, 'SIGKILL');
}
