// What the web host's bind address means: whether other machines can reach it, and
// which Host headers name it (anything else is a DNS-rebinding page and gets 421).
import net from 'node:net';
import type { NetworkInterfaceInfo } from 'node:os';

/** What the host check needs to know of this machine (os.hostname(), os.networkInterfaces()). */
export interface Machine {
  hostname: string;
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>;
}

const loopback = new net.BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

const wildcard = new net.BlockList();
wildcard.addAddress('0.0.0.0', 'ipv4');
wildcard.addAddress('::', 'ipv6');

function ipFamily(host: string): 'ipv4' | 'ipv6' | null {
  return net.isIPv4(host) ? 'ipv4' : net.isIPv6(host) ? 'ipv6' : null;
}

const unbracketed = (host: string) => host.replace(/^\[(.*)\]$/, '$1');

/** Only this machine can connect: 127.0.0.0/8, ::1 (also IPv4-mapped) or `localhost`. */
export function isLoopbackBind(host: string): boolean {
  const h = unbracketed(host.trim().toLowerCase());
  if (h === 'localhost') return true;
  const family = ipFamily(h);
  return family !== null && loopback.check(h, family);
}

/** Bound to every interface (0.0.0.0, ::): reachable by any of the machine's addresses. */
export function isWildcardBind(host: string): boolean {
  const h = unbracketed(host.trim());
  const family = ipFamily(h);
  return family !== null && wildcard.check(h, family);
}

/** A name as a browser writes it in the Host header: lowercase, IPv6 bracketed and compressed. */
function hostName(name: string): string {
  const h = unbracketed(name.trim());
  const literal = net.isIPv6(h) ? `[${h}]` : h;
  try {
    return new URL(`http://${literal}/`).hostname;
  } catch {
    return literal.toLowerCase();
  }
}

/**
 * The Host header values (`name:port`, lowercase) that name a web host bound to `bind`:
 * the loopback names and the bind address itself, and for a wildcard bind every
 * address of the machine and its hostname. Port 80 also allows the bare names.
 */
export function hostHeadersFor(bind: string, port: number, machine: Machine): Set<string> {
  const names = ['localhost', '127.0.0.1', '::1', bind];
  if (isWildcardBind(bind)) {
    names.push(machine.hostname);
    for (const list of Object.values(machine.interfaces)) for (const i of list ?? []) names.push(i.address);
  }
  const allowed = new Set<string>();
  for (const n of names) {
    if (!n.trim()) continue;
    const h = hostName(n);
    allowed.add(`${h}:${port}`);
    if (port === 80) allowed.add(h);
  }
  return allowed;
}
