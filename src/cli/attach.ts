// `town attach AGENT`: the agent's current screen, then live output; keystrokes go to
// the agent's PTY. Ctrl-] detaches (the agent keeps running).
import { openStream } from '../main/control/socket-client';
import type { StreamFrame } from '../shared/frames';
import { printable } from './printable';

const DETACH = '\x1d'; // Ctrl-]

export async function attach(socketPath: string, token: string, agent: string): Promise<number> {
  const stdin = process.stdin;
  const stdout = process.stdout;
  // The agent's own screen and output pass through raw: that is what attaching means.
  const onFrame = (f: StreamFrame) => {
    if (f.stream === 'screen' || f.stream === 'output') stdout.write(f.data);
  };
  const stream = await openStream(socketPath, token, 'session.attach', { agent, cols: stdout.columns, rows: stdout.rows }, onFrame);
  process.stderr.write(`\x1b[2m[attached to ${printable(agent)} — Ctrl-] to detach]\x1b[0m\r\n`);
  if (stdin.isTTY) stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  const onInput = (data: string) => {
    const i = data.indexOf(DETACH);
    if (i >= 0) {
      if (i > 0) stream.send({ input: data.slice(0, i) });
      stream.send({ detach: true });
      return;
    }
    stream.send({ input: data });
  };
  stdin.on('data', onInput);
  stdin.resume();
  const reason = await stream.closed;
  stdin.off('data', onInput);
  if (stdin.isTTY) stdin.setRawMode(false);
  stdin.pause();
  process.stderr.write(`\r\n\x1b[2m[${reason === 'detached' ? `detached from ${printable(agent)}` : `session ended: ${printable(reason)}`}]\x1b[0m\r\n`);
  return 0;
}
