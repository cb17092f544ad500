import { describe, expect, it } from 'vitest';
import { clientIp, clientIpResolver, type ClientIpSource } from '@bulwark/http';

const req = (ip: string, headers: Record<string, string> = {}): ClientIpSource => ({
  ip,
  header: (name) => headers[name],
});

describe('clientIp', () => {
  it('uses the socket address and ignores forwarding headers by default (spoofing)', () => {
    const spoofed = req('198.51.100.7', { 'x-forwarded-for': '1.2.3.4', forwarded: 'for=1.2.3.4' });
    expect(clientIp(spoofed)).toBe('198.51.100.7');
    expect(clientIp(spoofed, { trustProxy: false })).toBe('198.51.100.7');
    expect(clientIp(spoofed, { trustProxy: 0 })).toBe('198.51.100.7');
  });

  it('with a hop count, takes the address that many hops from the socket', () => {
    const r = req('10.0.0.2', { 'x-forwarded-for': '6.6.6.6, 203.0.113.5, 10.0.0.1' });
    expect(clientIp(r, { trustProxy: 1 })).toBe('10.0.0.1');
    expect(clientIp(r, { trustProxy: 2 })).toBe('203.0.113.5');
    expect(clientIp(r, { trustProxy: 9 })).toBe('6.6.6.6');
  });

  it('with CIDRs, takes the right-most untrusted address: a client-supplied prefix cannot win', () => {
    const trusted = clientIpResolver({ trustProxy: ['10.0.0.0/8'] });
    // The client sent "X-Forwarded-For: 6.6.6.6"; the two proxies appended what they saw.
    const r = req('10.0.0.2', { 'x-forwarded-for': '6.6.6.6, 203.0.113.5, 10.0.0.1' });
    expect(trusted(r)).toBe('203.0.113.5');
    // A request that did not come through a trusted proxy keeps its socket address.
    expect(trusted(req('203.0.113.99', { 'x-forwarded-for': '6.6.6.6' }))).toBe('203.0.113.99');
    // Every hop trusted: the left-most address.
    expect(trusted(req('10.0.0.2', { 'x-forwarded-for': '10.9.9.9, 10.0.0.1' }))).toBe('10.9.9.9');
  });

  it('supports presets, IPv6 proxies and IPv4-mapped sockets', () => {
    const trusted = clientIpResolver({ trustProxy: ['loopback', 'uniquelocal'] });
    expect(trusted(req('::1', { 'x-forwarded-for': '2001:db8::7' }))).toBe('2001:db8::7');
    expect(trusted(req('127.0.0.1', { 'x-forwarded-for': '::ffff:198.51.100.1' }))).toBe('198.51.100.1');
    expect(trusted(req('fd00::1', { 'x-forwarded-for': '[2001:DB8::8]:5555' }))).toBe('2001:db8::8');
  });

  it('reads RFC 7239 Forwarded when told to', () => {
    const trusted = clientIpResolver({ trustProxy: ['10.0.0.0/8'], header: 'forwarded' });
    const r = req('10.0.0.2', {
      forwarded: 'for=6.6.6.6, for="[2001:db8:cafe::17]:4711";proto=https, For=10.0.0.1;by=10.0.0.2',
    });
    expect(trusted(r)).toBe('2001:db8:cafe::17');
  });

  it('takes the header name in any case, and refuses a header it cannot read', () => {
    const trusted = clientIpResolver({ trustProxy: 1, header: 'X-Forwarded-For' as 'x-forwarded-for' });
    expect(trusted(req('10.0.0.2', { 'x-forwarded-for': '6.6.6.6' }))).toBe('6.6.6.6');
    expect(() => clientIpResolver({ header: 'x-real-ip' as 'forwarded' })).toThrow(/header/);
    expect(() => clientIpResolver({ trustproxy: 1 } as never)).toThrow(/"trustproxy": unknown option/);
  });

  it('stops at a malformed hop and keeps the last good address, never the garbage', () => {
    const trusted = clientIpResolver({ trustProxy: ['10.0.0.0/8'] });
    expect(trusted(req('10.0.0.2', { 'x-forwarded-for': 'not-an-ip, 10.0.0.1' }))).toBe('10.0.0.1');
    expect(trusted(req('10.0.0.2', { forwarded: 'for=_hidden' }))).toBe('10.0.0.2');
    expect(clientIp(req('10.0.0.2', { 'x-forwarded-for': 'garbage' }), { trustProxy: 1 })).toBe('10.0.0.2');
    expect(trusted(req('10.0.0.2', { 'x-forwarded-for': ' , ' }))).toBe('10.0.0.2');
  });

  it('accepts a predicate over (address, hop)', () => {
    const trusted = clientIpResolver({ trustProxy: (address, hop) => hop < 2 && address.startsWith('10.') });
    expect(trusted(req('10.0.0.2', { 'x-forwarded-for': '203.0.113.5, 10.0.0.9, 10.0.0.1' }))).toBe('10.0.0.9');
  });

  it('rejects bad configuration with BulwarkConfigError naming trustProxy', () => {
    for (const trustProxy of [['10.0.0.0/99'], ['not a range'], -1, 1.5, 'yes']) {
      expect(() => clientIpResolver({ trustProxy: trustProxy as never })).toThrow(
        expect.objectContaining({ code: 'BULWARK_INVALID_CONFIG', field: expect.stringMatching(/^trustProxy/) }),
      );
    }
  });
});
