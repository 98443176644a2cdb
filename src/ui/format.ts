// Pure text helpers for the TUI: every one accepts bad input (undefined, NaN) and returns "–" or "".
import type { Endpoint } from '../model/endpoint.js';
import type { FlowOwner, Layer } from '../model/diagnosis.js';

/** The blank shown for any unknown or malformed value. */
export const DASH = '–';

function finite(n: unknown): n is number {
  return typeof n === 'number' && Number.isFinite(n);
}

/** Formats a duration in seconds compactly (≤ 6 chars): `42s`, `9m12s`, `1h05m`, `3d02h`. */
export function fmtDuration(sec: unknown): string {
  if (!finite(sec)) return DASH;
  const s = Math.max(0, Math.floor(sec));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 86_400)
    return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  const d = Math.floor(s / 86_400);
  return d > 999 ? '>999d' : `${d}d${String(Math.floor((s % 86_400) / 3600)).padStart(2, '0')}h`;
}

/** Formats an epoch-ms timestamp as local wall-clock `HH:MM:SS`. */
export function fmtClock(ms: unknown): string {
  if (!finite(ms)) return DASH.padEnd(8);
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return DASH.padEnd(8);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Formats a span in ms as `mm:ss` (or `h:mm:ss`), for replay positions. */
export function fmtSpan(ms: unknown): string {
  if (!finite(ms)) return DASH;
  const s = Math.max(0, Math.floor(ms / 1000));
  const p = (n: number) => String(n).padStart(2, '0');
  const h = Math.floor(s / 3600);
  return h > 0
    ? `${h}:${p(Math.floor((s % 3600) / 60))}:${p(s % 60)}`
    : `${p(Math.floor(s / 60))}:${p(s % 60)}`;
}

/** Formats a rate per second: `950/s`, `1.2k/s`, `10k/s`. */
export function fmtRate(n: unknown): string {
  if (!finite(n) || n < 0) return DASH;
  return `${fmtCount(n)}/s`;
}

/** Formats a count compactly: `950`, `1.2k`, `12k`, `3.4M`. */
export function fmtCount(n: unknown): string {
  if (!finite(n)) return DASH;
  const a = Math.abs(n);
  if (a < 1000) return String(Math.round(n));
  if (a < 10_000) return `${(n / 1000).toFixed(1)}k`;
  if (a < 1_000_000) return `${Math.round(n / 1000)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

/** Formats an endpoint as `addr:port` (`[v6]:port`), or "–" when malformed. */
export function fmtEndpoint(e: Partial<Endpoint> | undefined | null): string {
  if (!e || typeof e.addr !== 'string' || e.addr === '') return DASH;
  const port = finite(e.port) ? String(e.port) : DASH;
  return e.addr.includes(':') ? `[${e.addr}]:${port}` : `${e.addr}:${port}`;
}

/** Formats who owns a flow: `ns/pod`, else `comm[pid]`, else the netns, else "–". */
export function fmtOwner(o: FlowOwner | undefined | null): string {
  if (!o) return DASH;
  if (o.pod && typeof o.pod.name === 'string')
    return o.pod.namespace ? `${o.pod.namespace}/${o.pod.name}` : o.pod.name;
  if (o.process && typeof o.process.comm === 'string')
    return finite(o.process.pid) ? `${o.process.comm}[${o.process.pid}]` : o.process.comm;
  if (typeof o.netns === 'string' && o.netns) return o.netns;
  return DASH;
}

const LAYER_SHORT: Record<Layer, string> = {
  keepalive: 'ka',
  conntrack: 'ct',
  ipvs: 'ipvs',
  path: 'path',
  cloud: 'cloud',
  calico: 'calico',
  cilium: 'bpfct',
};

/** Short layer name for narrow columns. */
export function layerShort(l: unknown): string {
  return typeof l === 'string' && l in LAYER_SHORT ? LAYER_SHORT[l as Layer] : DASH;
}

/** Cuts `s` to `w` columns with an ellipsis, then pads it to exactly `w`. */
export function fit(s: string, w: number): string {
  if (w <= 0) return '';
  const str = typeof s === 'string' ? s : String(s ?? '');
  if (str.length > w) return w === 1 ? '…' : `${str.slice(0, w - 1)}…`;
  return str.padEnd(w);
}

/** Like fit, but right-aligned. */
export function fitRight(s: string, w: number): string {
  if (w <= 0) return '';
  const str = typeof s === 'string' ? s : String(s ?? '');
  if (str.length > w) return w === 1 ? '…' : `${str.slice(0, w - 1)}…`;
  return str.padStart(w);
}

/** Cuts to at most `w` columns with an ellipsis, without padding. */
export function clip(s: unknown, w: number): string {
  const str = typeof s === 'string' ? s : s === undefined || s === null ? '' : String(s);
  if (w <= 0) return '';
  return str.length > w ? (w === 1 ? '…' : `${str.slice(0, w - 1)}…`) : str;
}

/** Splits text into lines of at most `w` columns, keeping explicit newlines; `hard` cuts anywhere and drops no character (for commands). */
export function wrapLines(text: unknown, w: number, indent = '', hard = false): string[] {
  const str =
    typeof text === 'string' ? text : text === undefined || text === null ? '' : String(text);
  const width = Math.max(1, w - indent.length);
  const out: string[] = [];
  for (const raw of str.replace(/\t/g, '  ').split('\n')) {
    if (raw.length <= width) {
      out.push(indent + raw);
      continue;
    }
    let rest = raw;
    while (rest.length > width) {
      let cut = rest.lastIndexOf(' ', width);
      if (hard || cut < width / 2) cut = width;
      out.push(indent + rest.slice(0, cut));
      rest = hard ? rest.slice(cut) : rest.slice(cut).replace(/^ /, '');
    }
    out.push(indent + rest);
  }
  return out.length > 0 ? out : [indent];
}

/** Returns the first finite number of the arguments, else null. */
export function num(n: unknown): number | null {
  return finite(n) ? n : null;
}
