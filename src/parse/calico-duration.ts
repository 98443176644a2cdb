// Go's time.Duration as its String method prints it (`1h2m3.5s`, `850ms`, `1.5µs`, `0s`) and as
// time.ParseDuration reads it (FelixConfiguration values such as `1h` or `90s`): seconds, or undefined.

const WHOLE = /^[-+]?(?:(?:\d{1,20}(?:\.\d{0,20})?|\.\d{1,20})(?:ns|us|µs|μs|ms|s|m|h)){1,8}$/;
const PART = /(\d{1,20}(?:\.\d{0,20})?|\.\d{1,20})(ns|us|µs|μs|ms|s|m|h)/g;

const UNIT_SEC: Readonly<Record<string, number>> = {
  ns: 1e-9,
  us: 1e-6,
  µs: 1e-6,
  μs: 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
};

/** Seconds of a Go duration (`0` alone is allowed, as ParseDuration allows it), else undefined. */
export function goDurationSec(text: string): number | undefined {
  const s = text.trim();
  if (s === '0' || s === '+0' || s === '-0') return 0;
  if (s.length > 64 || !WHOLE.test(s)) return undefined;
  let total = 0;
  for (const m of s.matchAll(PART)) total += Number(m[1]) * (UNIT_SEC[m[2]!] ?? NaN);
  if (!Number.isFinite(total)) return undefined;
  return s.startsWith('-') ? -total : total;
}
