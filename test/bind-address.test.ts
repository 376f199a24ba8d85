// The web host's bind address: who can reach it (the `--host` warning) and which Host
// headers name it (the DNS-rebinding guard), on loopback, one address and every interface.
import { describe, expect, it } from 'vitest';
import { hostHeadersFor, isLoopbackBind, isWildcardBind, type Machine } from '../src/main/hosts/bind-address';

const machine: Machine = {
  hostname: 'Build-Box',
  interfaces: {
    lo: [
      { address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' },
      { address: '::1', netmask: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', family: 'IPv6', mac: '00:00:00:00:00:00', internal: true, cidr: '::1/128', scopeid: 0 },
    ],
    eth0: [
      { address: '192.168.1.20', netmask: '255.255.255.0', family: 'IPv4', mac: '02:00:00:00:00:01', internal: false, cidr: '192.168.1.20/24' },
      { address: 'fd00::20', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '02:00:00:00:00:01', internal: false, cidr: 'fd00::20/64', scopeid: 0 },
    ],
  },
};

describe('the bind address', () => {
  it('is loopback for all of 127.0.0.0/8, ::1 and localhost, and for nothing else', () => {
    for (const host of ['127.0.0.1', '127.0.0.2', '127.255.255.254', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'localhost', 'LOCALHOST']) {
      expect(isLoopbackBind(host), host).toBe(true);
    }
    for (const host of ['0.0.0.0', '::', '192.168.1.20', '128.0.0.1', '10.0.0.1', 'fd00::20', 'build-box', 'localhost.evil.example', '']) {
      expect(isLoopbackBind(host), host).toBe(false);
    }
  });

  it('is a wildcard for 0.0.0.0 and :: in any spelling', () => {
    for (const host of ['0.0.0.0', '::', '[::]', '0:0:0:0:0:0:0:0']) expect(isWildcardBind(host), host).toBe(true);
    for (const host of ['127.0.0.1', '::1', '192.168.1.20', 'localhost']) expect(isWildcardBind(host), host).toBe(false);
  });

  it('names a loopback host by the loopback names only', () => {
    expect([...hostHeadersFor('127.0.0.1', 4000, machine)].sort()).toEqual(['127.0.0.1:4000', '[::1]:4000', 'localhost:4000']);
    expect(hostHeadersFor('127.0.0.2', 4000, machine).has('127.0.0.2:4000')).toBe(true);
    expect(hostHeadersFor('127.0.0.2', 4000, machine).has('192.168.1.20:4000')).toBe(false);
  });

  it('names a wildcard bind by every address of the machine and its hostname, and nothing else', () => {
    for (const bind of ['0.0.0.0', '::']) {
      const allowed = hostHeadersFor(bind, 4000, machine);
      for (const host of ['127.0.0.1:4000', 'localhost:4000', '[::1]:4000', '192.168.1.20:4000', '[fd00::20]:4000', 'build-box:4000']) {
        expect(allowed.has(host), `${bind} ${host}`).toBe(true);
      }
      // A rebinding page sends its own name; a right name on another port is someone else.
      for (const host of ['evil.example:4000', 'evil.example', '192.168.1.20:4001', '192.168.1.21:4000', '']) {
        expect(allowed.has(host), `${bind} ${host}`).toBe(false);
      }
    }
  });

  it('writes names as a browser sends them (lowercase, IPv6 compressed in brackets), bare on port 80', () => {
    expect(hostHeadersFor('0:0:0:0:0:0:0:1', 4000, machine).has('[::1]:4000')).toBe(true);
    expect(hostHeadersFor('Town.Example', 4000, machine).has('town.example:4000')).toBe(true);
    const onPort80 = hostHeadersFor('127.0.0.1', 80, machine);
    expect(onPort80.has('localhost')).toBe(true);
    expect(onPort80.has('localhost:80')).toBe(true);
  });
});
