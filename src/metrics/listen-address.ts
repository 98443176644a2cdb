// `--metrics ADDR`: where the exporter listens. A bare port means 127.0.0.1; a host must be an IP
// literal (or `localhost`), never a name to resolve, so what is exposed beyond loopback is exactly
// what the user typed. The exposition names flows' Services and namespaces: not for the network by
// accident.
import { isIP } from 'node:net';
import { UsageError } from '../errors.js';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
  /** True for 127.0.0.0/8 and ::1. */
  readonly loopback: boolean;
}

function portOf(text: string, arg: string): number {
  const n = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new UsageError(`--metrics: port must be 1-65535 (got "${arg}")`);
  return n;
}

/** True for an IPv4 address in 127.0.0.0/8 or the IPv6 loopback. */
export function isLoopback(host: string): boolean {
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return /^(0{0,4}:){2,7}0{0,3}1$/.test(host) || host === '::1';
  return false;
}

/** Reads PORT, HOST:PORT or [IPv6]:PORT. */
export function parseListenAddress(arg: string): ListenAddress {
  const text = arg.trim();
  if (/^\d+$/.test(text)) return { host: '127.0.0.1', port: portOf(text, arg), loopback: true };
  let host: string;
  let port: string;
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(text);
  if (v6) [, host, port] = v6 as unknown as [string, string, string];
  else {
    const i = text.lastIndexOf(':');
    if (i <= 0 || text.indexOf(':') !== i)
      throw new UsageError(
        `--metrics: expected PORT, HOST:PORT or [IPv6]:PORT (got "${arg}")`,
        'e.g. --metrics 9917 (127.0.0.1:9917)',
      );
    host = text.slice(0, i);
    port = text.slice(i + 1);
  }
  if (host === 'localhost') host = '127.0.0.1';
  if (isIP(host) === 0)
    throw new UsageError(
      `--metrics: host must be an IP address (got "${host}")`,
      'a name is not resolved: write 127.0.0.1, or the exact address to expose',
    );
  return { host, port: portOf(port, arg), loopback: isLoopback(host) };
}
