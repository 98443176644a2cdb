// Address ids: each distinct address seen gets a small int (the FlowTable's rows hold ids, not
// strings). IPv4 addresses are keyed by their int32 in an open-addressing hash (no string kept);
// others by their text.
import { ipv4Value } from './endpoint.js';
import { IntIds, Int32List } from './flow-store.js';

/** A string that shares no storage with a longer one (see AddressIds.id). */
function flatCopy(s: string): string {
  // Below 13 characters V8 copies on slice anyway; above, a concatenation is flattened into a new
  // string of its own, and the slice of it points only at that.
  return s.length < 13 ? s : ` ${s}`.slice(1);
}

/** The id cache slot of an address: its length and last characters, where addresses differ most. */
function idSlot(addr: string): number {
  const n = addr.length;
  return n < 4
    ? 0
    : (n * 7 + addr.charCodeAt(n - 1) * 31 + addr.charCodeAt(n - 2) * 5 + addr.charCodeAt(n - 4)) &
        255;
}

function ipv4Text(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** Interns addresses as ids; ids are never reused, so they are stable for the table's life. */
export class AddressIds {
  /** Address ids: IPv4 addresses by their int32 (no string kept), others by their text. */
  private readonly v4Ids = new IntIds();
  private readonly addrIds = new Map<string, number>();
  /** Each id's IPv4 address as an int32, or 0 for the ids in addrTexts. */
  private readonly addrs = new Int32List();
  private readonly addrTexts = new Map<number, string>();

  /** The address of an id, '?' for an id never given. */
  addr(id: number): string {
    const a = this.addrs.at(id);
    if (a === undefined) return '?';
    return (this.addrTexts.size > 0 ? this.addrTexts.get(id) : undefined) ?? ipv4Text(a);
  }

  /** id(addr), from its int32 when the parser had it (the same id: IPv4 ids are keyed by the int32). */
  addrId(addr: string, v4: number | undefined): number {
    return v4 === undefined ? this.id(addr) : this.v4Id(v4);
  }

  /** The id of an IPv4 address given as its int32; made if new. */
  private v4Id(v: number): number {
    let i = this.v4Ids.get(v);
    if (i < 0) {
      i = this.addrs.length;
      this.addrs.push(v);
      this.v4Ids.set(v, i);
    }
    return i;
  }

  /** idOf(addr), from its int32 when the parser had it. */
  addrIdOf(addr: string, v4: number | undefined): number | undefined {
    if (v4 === undefined) return this.idOf(addr);
    const i = this.v4Ids.get(v4);
    return i < 0 ? undefined : i;
  }

  /** The id of an address already seen. */
  idOf(addr: string): number | undefined {
    const slot = idSlot(addr);
    if (this.idCacheKey[slot] === addr) return this.idCacheId[slot]!;
    const v = ipv4Value(addr);
    if (v !== v) return this.addrIds.get(addr);
    const i = this.v4Ids.get(v);
    if (i < 0) return undefined;
    this.idCacheKey[slot] = flatCopy(addr);
    this.idCacheId[slot] = i;
    return i;
  }

  /**
   * Recently repeated addresses and their ids, by a hash of their last characters: services, pods
   * and nodes come back in row after row, and comparing strings is cheaper than parsing them.
   */
  // Filled with a string no address is.
  private readonly idCacheKey: string[] = new Array<string>(256).fill('\u0000');
  private readonly idCacheId = new Int32Array(256);

  /** The id of an address; made if new. */
  id(addr: string): number {
    const slot = idSlot(addr);
    if (this.idCacheKey[slot] === addr) return this.idCacheId[slot]!;
    const v = ipv4Value(addr);
    if (v === v) {
      const i = this.v4Ids.get(v);
      if (i < 0) return this.v4Id(v);
      // Seen twice: likely to come again. A copy of its own, as a cached slice would pin its line.
      this.idCacheKey[slot] = flatCopy(addr);
      this.idCacheId[slot] = i;
      return i;
    }
    let i = this.addrIds.get(addr);
    if (i === undefined) {
      i = this.addrs.length;
      // Parsers slice addresses out of the line; V8 keeps a slice of 13+ characters as a view into its
      // parent (the line, or a whole snapshot's text), so a kept slice pins it. Keep a copy of our own.
      const own = flatCopy(addr);
      this.addrs.push(0);
      this.addrTexts.set(i, own);
      this.addrIds.set(own, i);
    }
    return i;
  }
}
