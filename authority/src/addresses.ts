/** Address checks shared by the command line, the transport and /ban: loopback, CIDR ranges. */
import { BlockList, isIP } from 'node:net';

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1';
  return false;
}

/** "10.0.0.0/8", "fd00::/8" or a single address → its parts; null when it is not one. */
export function parseCidr(text: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | null {
  const [address = '', bits, extra] = text.split('/');
  const v = isIP(address);
  if (v === 0 || extra !== undefined) return null;
  const max = v === 4 ? 32 : 128;
  const prefix = bits === undefined ? max : Number(bits);
  if (!/^\d{1,3}$/.test(bits ?? String(max)) || prefix > max) return null;
  return { address, prefix, family: v === 4 ? 'ipv4' : 'ipv6' };
}

/** The first of `ranges` (CIDR text, as --ban-exempt takes them) that holds `ip`; null when none does. */
export function rangeHolding(ip: string, ranges: readonly string[]): string | null {
  for (const range of ranges) {
    const r = parseCidr(range);
    if (!r) continue;
    const list = new BlockList();
    list.addSubnet(r.address, r.prefix, r.family);
    try {
      if (list.check(ip, r.family)) return range;
    } catch {
      // An address of the other family: not in this range.
    }
  }
  return null;
}
