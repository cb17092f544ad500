/**
 * Client-IP cases: deciding whether a forwarded address belongs to a trusted proxy range, the per-request work of
 * `trustProxy: [CIDR…]`. Bulwark's parser and matcher (`@bulwark/http` ip.ts) beside Node's `BlockList`, the
 * built-in that could replace them; and canonical formatting beside the WHATWG URL parser, the built-in formatter.
 */
import { BlockList, isIP } from 'node:net';
import { cidrContains, normalizeIp, parseCidr, parseIp } from '@bulwark/http';

const ranges = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'];
const addresses = ['10.1.2.3', '203.0.113.9', '192.168.7.1', 'fd00::1', '2001:db8::1', '172.20.0.5'];
let i = 0;
const next = (): string => addresses[i++ % addresses.length]!;

export const cases: Record<string, () => () => unknown> = {
  'bulwark parseIp + cidrContains (4 ranges)': () => {
    const parsed = ranges.map((r) => parseCidr(r)!);
    return () => {
      const ip = parseIp(next());
      return ip !== undefined && parsed.some((r) => cidrContains(r, ip));
    };
  },
  'node BlockList.check (4 ranges)': () => {
    const list = new BlockList();
    for (const r of ranges) {
      const [net, prefix] = r.split('/');
      list.addSubnet(net!, Number(prefix), isIP(net!) === 6 ? 'ipv6' : 'ipv4');
    }
    return () => {
      const text = next();
      const family = isIP(text);
      return family !== 0 && list.check(text, family === 6 ? 'ipv6' : 'ipv4');
    };
  },
  'bulwark normalizeIp': () => () => normalizeIp(next()),
  'node URL host normalization': () => () => {
    const text = next();
    return text.includes(':') ? new URL(`http://[${text}]/`).hostname.slice(1, -1) : text;
  },
};
