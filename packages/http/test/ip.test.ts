import { isIP } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cidrContains, formatIp, ipKey, normalizeIp, parseCidr, parseIp } from '@bulwark/http';

const v6Bytes = fc.uint8Array({ minLength: 16, maxLength: 16 });

describe('IP parsing', () => {
  it.each([
    ['192.0.2.1', '192.0.2.1'],
    ['  192.0.2.1 ', '192.0.2.1'],
    ['192.0.2.1:8080', '192.0.2.1'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['::FFFF:C000:0201', '192.0.2.1'],
    ['0:0:0:0:0:ffff:192.0.2.1', '192.0.2.1'],
    ['[::ffff:192.0.2.1]:443', '192.0.2.1'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8::1%eth0', '2001:db8::1'],
    ['[2001:db8::1]:8443', '2001:db8::1'],
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
  ])('normalizes %s to %s', (input, expected) => {
    expect(normalizeIp(input)).toBe(expected);
  });

  it.each([
    '',
    'localhost',
    '256.1.1.1',
    '1.2.3',
    '01.2.3.4',
    '1.2.3.4.5',
    '1:2:3:4:5:6:7:8:9',
    '1::2::3',
    'g::1',
    '[::1',
    '1.2.3.4::',
    '[::1]:x',
    'unknown',
    '_hidden',
  ])('rejects %j', (input) => {
    expect(parseIp(input)).toBeUndefined();
  });

  it('formats any IPv6 address canonically, and parsing the result gives the same bytes (property)', () => {
    fc.assert(
      fc.property(v6Bytes, (bytes) => {
        const text = formatIp({ version: 6, bytes });
        const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
        expect(isIP(text)).toBe(6);
        const back = parseIp(text)!;
        if (mapped) expect(back.bytes).toEqual(bytes.slice(12));
        else expect(back.bytes).toEqual(bytes);
        // Node agrees on the canonical form (it formats URL hosts per RFC 5952)
        if (!mapped) expect(new URL(`http://[${text}]/`).hostname).toBe(`[${text}]`);
      }),
    );
  });
});

describe('ipKey', () => {
  it('masks IPv6 to /64 by default, so one subnet is one key (property)', () => {
    fc.assert(
      fc.property(v6Bytes, fc.uint8Array({ minLength: 8, maxLength: 8 }), (a, hostBits) => {
        fc.pre(a[0] !== 0); // stay clear of the IPv4-mapped range
        const b = new Uint8Array(a);
        b.set(hostBits, 8);
        const ka = ipKey(formatIp({ version: 6, bytes: a }));
        expect(ka).toBe(ipKey(formatIp({ version: 6, bytes: b })));
        expect(ka.endsWith('/64')).toBe(true);
      }),
    );
  });

  it('keeps IPv4 as is, maps IPv4-mapped IPv6 to IPv4, and honours the prefix option', () => {
    expect(ipKey('203.0.113.9')).toBe('203.0.113.9');
    expect(ipKey('::ffff:203.0.113.9')).toBe('203.0.113.9');
    // Distinct IPv4 clients must never share a key (CVE-2026-30827 put all IPv4-mapped clients in one bucket).
    expect(ipKey('::ffff:203.0.113.9')).not.toBe(ipKey('::ffff:203.0.113.10'));
    expect(ipKey('2001:db8:aaaa:bbbb:1:2:3:4')).toBe('2001:db8:aaaa:bbbb::/64');
    expect(ipKey('2001:db8:aaaa:bbbb:1:2:3:4', { ipv6Prefix: 48 })).toBe('2001:db8:aaaa::/48');
    expect(ipKey('2001:db8:aaaa:bbbb:1:2:3:4', { ipv6Prefix: 128 })).toBe('2001:db8:aaaa:bbbb:1:2:3:4/128');
    expect(() => ipKey('::1', { ipv6Prefix: 0 })).toThrow(RangeError);
  });
});

describe('CIDR', () => {
  it.each([
    ['10.0.0.0/8', '10.255.1.2', true],
    ['10.0.0.0/8', '11.0.0.1', false],
    ['172.16.0.0/12', '172.31.255.255', true],
    ['172.16.0.0/12', '172.32.0.0', false],
    ['192.168.1.7', '192.168.1.7', true],
    ['fc00::/7', 'fd12::1', true],
    ['fc00::/7', 'fe80::1', false],
    ['::ffff:10.0.0.0/104', '10.9.9.9', true],
    ['10.0.0.0/8', '::ffff:10.1.1.1', true],
    ['10.0.0.0/8', '2001:db8::1', false],
  ])('%s contains %s: %s', (range, ip, inside) => {
    expect(cidrContains(parseCidr(range)!, parseIp(ip)!)).toBe(inside);
  });

  it.each(['10.0.0.0/33', '10.0.0.0/x', '::/129', 'nope/8'])('rejects %s', (range) => {
    expect(parseCidr(range)).toBeUndefined();
  });
});
