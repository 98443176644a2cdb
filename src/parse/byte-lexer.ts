// A byte lexer for space-separated text lines: the line is copied once into a reused byte array and
// read as character codes (tokens, key prefixes, decimal numbers, interned words). The conntrack entry
// and event scanners run on it over snapshots of 10^5–10^6 lines; see docs/DEVELOPING.md "Hot paths".
// Everything here is small so that V8 inlines it into the scanners' loops.

/** Longest line the reused byte array holds without allocating (longer ones get their own array). */
export const LEXER_LINE_BYTES = 8192;

const SP = 32;

// Character compares for the keys on every line (src= dst= sport= dport= packets= bytes= mark=…): cheaper
// than a loop over a word on every token.
export function at3(u: Uint8Array, p: number, a: number, b: number, c: number): boolean {
  return u[p] === a && u[p + 1] === b && u[p + 2] === c;
}

export function at4(u: Uint8Array, p: number, a: number, b: number, c: number, d: number): boolean {
  return u[p] === a && u[p + 1] === b && u[p + 2] === c && u[p + 3] === d;
}

// The scanner reads character codes from a byte copy of the line: one native encodeInto per line is
// far cheaper than a charCodeAt per character (each re-checks the string's representation; lines
// from split() are sliced strings), and so are byte compares than startsWith/indexOf calls. Every
// compare in the scanner is against ASCII or `> 127`, so a line with other characters is copied with
// each code above 255 stored as 255: same decisions.
// Bytes past the end are zeroed so look-ahead key compares fail like startsWith past the end would.
const LOOKAHEAD = 16;
const CODES = new Uint8Array(LEXER_LINE_BYTES + 1024);
const ENCODER = new TextEncoder();

/** The line's character codes (see above); valid until the next call. */
export function lineCodes(s: string): Uint8Array {
  const n = s.length;
  const b = n + LOOKAHEAD <= CODES.length ? CODES : new Uint8Array(n + LOOKAHEAD);
  const r = ENCODER.encodeInto(s, b);
  if (r.read !== n || r.written !== n) {
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      b[i] = c > 255 ? 255 : c;
    }
  }
  for (let i = n; i < n + LOOKAHEAD; i++) b[i] = 0;
  return b;
}

/** ASCII text as bytes, to compare with a line's codes. */
export function ascii(text: string): Uint8Array {
  const u = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) u[i] = text.charCodeAt(i);
  return u;
}

/** Whether the token b[from, to) is exactly `word`. */
export function isWord(b: Uint8Array, from: number, to: number, word: Uint8Array): boolean {
  const n = word.length;
  if (to - from !== n) return false;
  for (let i = 0; i < n; i++) if (b[from + i] !== word[i]) return false;
  return true;
}

/** Whether b holds `word` at p (words are at most LOOKAHEAD long, so past the line this reads zeros). */
export function hasAt(b: Uint8Array, p: number, word: Uint8Array): boolean {
  for (let i = 0; i < word.length; i++) if (b[p + i] !== word[i]) return false;
  return true;
}

/** First position of `code` in b[from, to), or -1. */
export function byteIndex(b: Uint8Array, code: number, from: number, to: number): number {
  for (let i = from; i < to; i++) if (b[i] === code) return i;
  return -1;
}

/** End of the token starting at `from`: the next space or `end`. */
export function tokenEnd(b: Uint8Array, from: number, end: number): number {
  // Tokens are short (a header word, a flag, a value): a loop beats an indexOf call on the string.
  let i = from;
  while (i < end && b[i] !== SP) i++;
  return i;
}

/** First non-space position at or after `from`, or `end`. */
export function skipSpaces(b: Uint8Array, from: number, end: number): number {
  let i = from;
  while (i < end && b[i] === SP) i++;
  return i;
}

/** Decimal digits in b[from, to) as a number; -1 when empty, not all digits or longer than 20 digits (as parseDec). */
export function decimalAt(b: Uint8Array, from: number, to: number): number {
  const n = to - from;
  if (n <= 0 || n > 20) return -1;
  let v = 0;
  for (let i = from; i < to; i++) {
    const c = b[i]! - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** `0x` and 1–8 hex digits (GRE keys). */
export function isHexWord(b: Uint8Array, from: number, to: number): boolean {
  if (to - from < 3 || to - from > 10 || b[from] !== 48 || b[from + 1] !== 120) return false;
  for (let i = from + 2; i < to; i++) {
    const c = b[i]!;
    if (!(isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70))) return false;
  }
  return true;
}

/** A word the scanner hands out as one shared string instead of a slice per line. */
export interface Interned {
  readonly text: string;
  readonly bytes: Uint8Array;
}

export function interned(...texts: string[]): readonly Interned[] {
  return texts.map((text) => ({ text, bytes: ascii(text) }));
}

export function lookup(
  b: Uint8Array,
  from: number,
  to: number,
  words: readonly Interned[],
): string | null {
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (isWord(b, from, to, w.bytes)) return w.text;
  }
  return null;
}

/** Quotes a piece of the line for a message, bounded and with control characters made visible. */
export function quote(s: string, from: number, to: number): string {
  const cut = to - from > 60 ? `${s.slice(from, from + 60)}…` : s.slice(from, to);
  return JSON.stringify(cut);
}

/** Decimal digits in [from, to) as a number; -1 when empty, not all digits or longer than 20 digits. */
export function parseDec(s: string, from: number, to: number): number {
  const n = to - from;
  if (n <= 0 || n > 20) return -1;
  let v = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
