// `node scripts/bench.mjs slow-reader`: a hostile control-socket client against a real
// `town serve`. One connection writes SLOW_READER_LINES invalid lines and never reads:
// first without a token, then with the overseer's token (lines naming an unknown method);
// meanwhile another connection calls `town.status` every 250 ms. Prints the engine's peak
// RSS, the status latencies, and the RSS a few seconds after the attacker closed.
// Not a test: it fails only on a functional error.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { SocketClient } from '../../src/main/control/socket-client';
import { overseerToken, removeTempDirs, ServedTown, tempDir, town } from '../helpers/town';

const LINES = Number(process.env.SLOW_READER_LINES ?? 2_000_000);
const BATCH = 10_000;
/** The attacker gives up when the engine has not taken a batch for this long (it stopped reading). */
const STUCK_MS = 10_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rssMb = (pid: number) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
};
function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
  return `median ${at(0.5).toFixed(1)} ms, p95 ${at(0.95).toFixed(1)} ms, max ${s[s.length - 1].toFixed(1)} ms (${s.length} calls)`;
}

/** Writes the lines, never reading; resolves with how it ended. */
function attack(socketPath: string, line: string): Promise<{ written: number; ended: string }> {
  return new Promise((resolve) => {
    const socket = net.createConnection(socketPath);
    // No 'data' listener: Node stops reading once its small buffer is full, so the kernel
    // buffers fill and the engine sees a peer that does not drain.
    let written = 0;
    let done = false;
    const finish = (ended: string) => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve({ written, ended });
    };
    socket.on('error', () => finish(`the engine closed the connection after ${written} lines`));
    socket.on('close', () => finish(`the engine closed the connection after ${written} lines`));
    const batch = line.repeat(BATCH);
    const more = () => {
      while (written < LINES && !done) {
        written += BATCH;
        if (!socket.write(batch)) {
          const stuck = setTimeout(() => finish(`the engine stopped reading after ${written} lines`), STUCK_MS);
          socket.once('drain', () => {
            clearTimeout(stuck);
            more();
          });
          return;
        }
      }
      if (!done) finish(`all ${written} lines written`);
    };
    socket.on('connect', more);
  });
}

async function main() {
  const dir = path.join(tempDir('slow-reader'), 'town');
  await town(dir, ['init', dir]);
  const served = new ServedTown(dir);
  await served.start();
  const pid = served.child!.pid!;
  const socketPath = path.join(dir, 'town.sock');
  const token = overseerToken(dir);
  const client = new SocketClient(socketPath, token);
  try {
    await client.call('town.status', {});
    await scenario('tokenless', pid, socketPath, client, JSON.stringify({ id: 1, method: 'town.status' }) + '\n');
    await scenario('with the token', pid, socketPath, client, JSON.stringify({ id: 1, token, method: 'no.such.method' }) + '\n');
  } finally {
    client.close();
    await served.stop();
    removeTempDirs();
  }
}

async function scenario(name: string, pid: number, socketPath: string, client: SocketClient, line: string) {
  const idleRss = rssMb(pid);
  let peakRss = idleRss;
  const latencies: number[] = [];
  let attacking = true;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMb(pid))), 50);
  const prober = (async () => {
    while (attacking) {
      const t0 = performance.now();
      await client.call('town.status', {});
      latencies.push(performance.now() - t0);
      await sleep(250);
    }
  })();
  const result = await attack(socketPath, line);
  attacking = false;
  await prober;
  clearInterval(sampler);
  await sleep(3000);
  const afterRss = rssMb(pid);
  const status = (await client.call('town.status', {})) as { memory: { rss_mb: number; heap_mb: number } };
  console.log(`bench slow-reader ${name}: ${LINES} invalid lines, never read: ${result.ended}`);
  console.log(`bench slow-reader ${name}: engine RSS before ${idleRss.toFixed(0)} MB, peak ${peakRss.toFixed(0)} MB, 3 s after close ${afterRss.toFixed(0)} MB (heap ${status.memory.heap_mb} MB)`);
  console.log(`bench slow-reader ${name}: town.status latency meanwhile: ${stats(latencies)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
