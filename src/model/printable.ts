// Strings from input (bundle fields, process and pod names, comments, kube-proxy args) reach a
// terminal: an ESC or BEL in them would let a bundle recolour the screen, move the cursor or set
// the clipboard (OSC 52). Everything shown to a person goes through these helpers first.

// A whole escape sequence is removed, not only its ESC, so no "[31m" debris is left: CSI
// (ESC [ … final byte), OSC/DCS/APC/PM/SOS strings (up to BEL or ST) and two-byte escapes.
const ESCAPE_SEQUENCE =
  /\u001b(?:\[[0-?]*[ -/]*[@-~]?|[\]PX^_][^\u0007\u001b]*(?:\u0007|\u001b\\)?|[ -~]?)|\u009b[0-?]*[ -/]*[@-~]?/g;
// C0 controls but tab and newline, DEL, C1 controls, and the bidi overrides that reorder what is shown.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const CONTROL_ONE_LINE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** `text` without escape sequences and control characters; tabs and newlines are kept. */
export function printable(text: string): string {
  return text.replace(ESCAPE_SEQUENCE, '').replace(CONTROL, '');
}

/**
 * A short, single-line excerpt of untrusted input for an error message: control characters shown
 * as `\xNN`, cut to `max` characters with an ellipsis.
 */
export function printableExcerpt(text: string, max = 60): string {
  const head = text.length > max * 4 ? text.slice(0, max * 4) : text;
  const escaped = head.replace(
    CONTROL_ONE_LINE,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
  return escaped.length > max || head.length < text.length ? `${escaped.slice(0, max)}…` : escaped;
}

// Anything `printable` would remove starts with one of these characters (ESC and CSI are among the
// controls), so a test for one of them decides it without building a copy of the string.
const UNPRINTABLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/** True when `text` holds nothing `printable` would remove. */
export function isPrintable(text: string): boolean {
  return !UNPRINTABLE.test(text);
}

/**
 * A copy of `value` with every string made printable (objects and arrays walked with an explicit
 * stack, never recursion, so depth does not grow the call stack). Values already printable are
 * returned as they are, so a clean snapshot costs one walk and no copy.
 */
export function printableDeep<T>(value: T): T {
  if (typeof value === 'string') return printable(value) as T;
  if (value === null || typeof value !== 'object') return value;
  if (!hasUnprintable(value)) return value;
  return copyPrintable(value);
}

/** Objects walked before `hasUnprintable` starts remembering them (to end a cycle). */
const TREE_STEPS = 1 << 20;

// The TUI walks every snapshot (100,000 flows: about 10^6 values), so the walk allocates nothing per
// value: strings are tested where they are found, and objects are remembered only past TREE_STEPS,
// since a snapshot is a tree (a shared object is merely walked twice; a cycle ends once remembered).
function hasUnprintable(root: object): boolean {
  const stack: object[] = [root];
  let seen: Set<object> | undefined;
  let steps = 0;
  const bad = (e: unknown): boolean => {
    if (typeof e === 'string') return UNPRINTABLE.test(e);
    if (e !== null && typeof e === 'object') stack.push(e);
    return false;
  };
  while (stack.length > 0) {
    const v = stack.pop()!;
    if (++steps > TREE_STEPS) {
      seen ??= new Set();
      if (seen.has(v)) continue;
      seen.add(v);
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) if (bad(v[i])) return true;
    } else if (v instanceof Map) {
      for (const [k, e] of v) if (bad(k) || bad(e)) return true;
    } else if (v instanceof Set) {
      for (const e of v) if (bad(e)) return true;
    } else {
      for (const k in v)
        if (
          Object.prototype.hasOwnProperty.call(v, k) &&
          (bad(k) || bad((v as Record<string, unknown>)[k]))
        )
          return true;
    }
  }
  return false;
}

function copyPrintable<T>(root: T): T {
  const copies = new Map<object, unknown>();
  const clean = (v: unknown): unknown => {
    if (typeof v === 'string') return printable(v);
    if (v === null || typeof v !== 'object' || v instanceof Date) return v;
    if (!copies.has(v)) pending.push(v);
    return v;
  };
  const pending: object[] = [];
  const shell = (v: object): unknown =>
    Array.isArray(v)
      ? []
      : v instanceof Map
        ? new Map()
        : v instanceof Set
          ? new Set()
          : Object.create(Object.getPrototypeOf(v) as object | null);
  clean(root);
  // First give every reachable object a copy, then fill the copies: cycles and sharing are kept.
  for (let i = 0; i < pending.length; i++) {
    const v = pending[i]!;
    if (copies.has(v)) continue;
    copies.set(v, shell(v));
    if (v instanceof Map) for (const [k, e] of v) (clean(k), clean(e));
    else if (v instanceof Set) for (const e of v) clean(e);
    else for (const k of Object.keys(v)) clean((v as Record<string, unknown>)[k]);
  }
  const mapped = (v: unknown): unknown =>
    typeof v === 'string'
      ? printable(v)
      : v !== null && typeof v === 'object' && !(v instanceof Date)
        ? copies.get(v)
        : v;
  for (const [v, c] of copies) {
    if (v instanceof Map)
      for (const [k, e] of v) (c as Map<unknown, unknown>).set(mapped(k), mapped(e));
    else if (v instanceof Set) for (const e of v) (c as Set<unknown>).add(mapped(e));
    else
      for (const k of Object.keys(v))
        (c as Record<string, unknown>)[printable(k)] = mapped((v as Record<string, unknown>)[k]);
  }
  return copies.get(root as object) as T;
}
