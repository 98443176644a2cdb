// Flow numbers and the FlowTable's indexes in typed arrays. A million flows kept as JS objects and
// Maps cost ~260 B each on the V8 heap, and V8 lets the heap grow to 2-4× its live size between full
// GCs, so the peak RSS while feeding was over twice the settled size. Typed arrays live outside the
// heap's growth factor, and their lookups allocate nothing (no boxed keys, no closures).

/** Int32 fields of a row: address ids, packed ports, status bits, descriptor id, first-seen order links. */
export const C = 0;
export const TG = 1;
export const B = 2;
export const R = 3;
export const P1 = 4;
export const P2 = 5;
export const G = 6;
export const D = 7;
export const NEXT = 8;
export const PREV = 9;
export const NI = 10;
/** Float64 fields of a row: conntrack timeout (s); conntrack time and latest activity (ms since the epoch). */
export const TO = 0;
export const CT = 1;
export const ACT = 2;
export const NF = 3;

/** Rows of per-flow numbers; a freed row is reused by the next flow. */
export class FlowRows {
  ints: Int32Array;
  nums: Float64Array;
  private cap: number;
  private used = 0;
  private readonly free: number[] = [];

  constructor(cap = 256) {
    this.cap = cap;
    this.ints = new Int32Array(cap * NI);
    this.nums = new Float64Array(cap * NF);
  }

  alloc(): number {
    const r = this.free.pop();
    if (r !== undefined) return r;
    if (this.used === this.cap) {
      this.cap *= 2;
      const ints = new Int32Array(this.cap * NI);
      ints.set(this.ints);
      this.ints = ints;
      const nums = new Float64Array(this.cap * NF);
      nums.set(this.nums);
      this.nums = nums;
    }
    return this.used++;
  }

  release(r: number): void {
    this.free.push(r);
  }

  /** A one-row copy of row r, for a flow that leaves the table but may still be read. */
  copy(r: number): FlowRows {
    const c = new FlowRows(1);
    c.used = 1;
    c.ints.set(this.ints.subarray(r * NI, r * NI + NI));
    c.nums.set(this.nums.subarray(r * NF, r * NF + NF));
    return c;
  }
}

function hash(a: number, p: number): number {
  let h = Math.imul(a, 0x9e3779b1) ^ Math.imul(p + 0x7f4a7c15, 0x85ebca6b);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return h ^ (h >>> 12);
}

const EMPTY = 0;
const GONE = -1;

/**
 * A multimap from an endpoint (address id, port) to rows, by open addressing (linear probing).
 * Entries of one key are met in the order they were added: a new entry takes the first empty slot
 * after the key's others (freed slots are not reused until a rebuild, which keeps that order).
 * A slot is three ints side by side (row + 1 or EMPTY or GONE, address id, port): one cache miss
 * per probe in a table of tens of MB.
 */
export class EndpointRows {
  private s: Int32Array;
  private mask: number;
  /** Slots not EMPTY (entries and GONE). */
  private filled = 0;
  count = 0;
  // The cursor of first()/next(): one scan at a time.
  private pos = 0;
  private qa = 0;
  private qp = 0;

  constructor(cap = 1024) {
    this.s = new Int32Array(cap * 3);
    this.mask = cap - 1;
  }

  /** The first row under (a, p), -1 when none; next() gives the following ones. */
  first(a: number, p: number): number {
    this.qa = a;
    this.qp = p;
    this.pos = hash(a, p) & this.mask;
    return this.scan();
  }

  next(): number {
    this.pos = (this.pos + 1) & this.mask;
    return this.scan();
  }

  private scan(): number {
    const s = this.s;
    const mask = this.mask;
    const a = this.qa;
    const p = this.qp;
    let i = this.pos;
    for (;;) {
      const r = s[i * 3]!;
      if (r === EMPTY) break;
      if (r > 0 && s[i * 3 + 1] === a && s[i * 3 + 2] === p) {
        this.pos = i;
        return r - 1;
      }
      i = (i + 1) & mask;
    }
    this.pos = i;
    return -1;
  }

  /** The slot holding stored value v under (a, p), else the EMPTY slot that ends its probe sequence. */
  private slot(a: number, p: number, v: number): number {
    const s = this.s;
    const mask = this.mask;
    let i = hash(a, p) & mask;
    for (;;) {
      const r = s[i * 3]!;
      if (r === EMPTY || (r === v && s[i * 3 + 1] === a && s[i * 3 + 2] === p)) return i;
      i = (i + 1) & mask;
    }
  }

  /** Adds row under (a, p) unless it is there already; false when it was. */
  add(a: number, p: number, row: number): boolean {
    const v = row + 1;
    const i = this.slot(a, p, v);
    const s = this.s;
    if (s[i * 3] === v) return false;
    s[i * 3] = v;
    s[i * 3 + 1] = a;
    s[i * 3 + 2] = p;
    this.count++;
    if (++this.filled * 10 > (this.mask + 1) * 6) this.rebuild();
    return true;
  }

  delete(a: number, p: number, row: number): boolean {
    const v = row + 1;
    const i = this.slot(a, p, v);
    const s = this.s;
    if (s[i * 3] !== v) return false;
    s[i * 3] = GONE;
    this.count--;
    return true;
  }

  private rebuild(): void {
    const s = this.s;
    const cap = this.mask + 1;
    // Twice the size when entries fill more than a quarter, else the same size without the GONE slots.
    const ncap = this.count * 4 > cap ? cap * 2 : cap;
    this.s = new Int32Array(ncap * 3);
    this.mask = ncap - 1;
    this.filled = 0;
    this.count = 0;
    // Start past an empty slot: no run of slots wraps around the scan, so each key's entries are
    // re-added in their order.
    let e = 0;
    while (s[e * 3] !== EMPTY) e++;
    for (let k = 1; k <= cap; k++) {
      const i = (e + k) & (cap - 1);
      const r = s[i * 3]!;
      if (r > 0) this.add(s[i * 3 + 1]!, s[i * 3 + 2]!, r - 1);
    }
  }
}

/** int32 → non-negative int32, by open addressing (key and value + 1 side by side, 0 = empty); no deletion. */
export class IntIds {
  private s: Int32Array;
  private mask: number;
  private count = 0;

  constructor(cap = 1024) {
    this.s = new Int32Array(cap * 2);
    this.mask = cap - 1;
  }

  /** The value of k, -1 when none. */
  get(k: number): number {
    const s = this.s;
    const mask = this.mask;
    let i = hash(k, 0) & mask;
    for (;;) {
      const v = s[i * 2 + 1]!;
      if (v === 0) return -1;
      if (s[i * 2] === k) return v - 1;
      i = (i + 1) & mask;
    }
  }

  /** Sets k, which must not be there yet. */
  set(k: number, v: number): void {
    const s = this.s;
    const mask = this.mask;
    let i = hash(k, 0) & mask;
    while (s[i * 2 + 1] !== 0) i = (i + 1) & mask;
    s[i * 2] = k;
    s[i * 2 + 1] = v + 1;
    if (++this.count * 10 > (mask + 1) * 6) {
      const cap = (mask + 1) * 2;
      this.s = new Int32Array(cap * 2);
      this.mask = cap - 1;
      this.count = 0;
      for (let j = 0; j <= mask; j++)
        if (s[j * 2 + 1] !== 0) this.set(s[j * 2]!, s[j * 2 + 1]! - 1);
    }
  }
}

/** A growable list of int32s. */
export class Int32List {
  private a = new Int32Array(1024);
  length = 0;

  push(v: number): void {
    if (this.length === this.a.length) {
      const a = new Int32Array(this.a.length * 2);
      a.set(this.a);
      this.a = a;
    }
    this.a[this.length++] = v;
  }

  /** The value at i, undefined outside the list. */
  at(i: number): number | undefined {
    return i >= 0 && i < this.length ? this.a[i] : undefined;
  }
}
