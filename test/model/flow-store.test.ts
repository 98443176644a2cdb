import { describe, expect, it } from 'vitest';
import { EndpointRows, IntIds } from '../../src/model/flow-store.js';
import { FlowTable } from '../../src/model/flow-table.js';
import { T0, ct, ctSnapshot, obs, tableOf } from '../helpers/builders.js';

function rowsOf(ix: EndpointRows, a: number, p: number): number[] {
  const out: number[] = [];
  for (let r = ix.first(a, p); r >= 0; r = ix.next()) out.push(r);
  return out;
}

describe('EndpointRows', () => {
  it('keeps the entries of a key in the order they were added, through deletes and rebuilds', () => {
    const ix = new EndpointRows(16);
    ix.add(7, 80, 1);
    ix.add(7, 80, 2);
    ix.add(7, 80, 3);
    expect(ix.add(7, 80, 2)).toBe(false);
    ix.delete(7, 80, 2);
    ix.add(7, 80, 2);
    // Enough other keys to rebuild the table several times, with deletions.
    for (let i = 0; i < 5000; i++) ix.add(i, i & 0xffff, 100 + i);
    for (let i = 0; i < 5000; i += 2) ix.delete(i, i & 0xffff, 100 + i);
    expect(rowsOf(ix, 7, 80)).toEqual([1, 3, 2]);
    expect(rowsOf(ix, 9, 9)).toEqual([109]);
    expect(rowsOf(ix, 8, 8)).toEqual([]);
    expect(ix.count).toBe(3 + 2500);
  });

  it('maps int32 keys, negative ones too', () => {
    const ids = new IntIds(4);
    for (let i = 0; i < 3000; i++) ids.set((i * 2654435761) | 0, i);
    expect(ids.get(-1062731520)).toBe(-1);
    ids.set(-1062731520, 5000);
    expect(ids.get(-1062731520)).toBe(5000);
    expect(ids.get((1234 * 2654435761) | 0)).toBe(1234);
  });
});

describe('FlowTable rows', () => {
  it('lists flows in first-seen order, flows of one client endpoint together', () => {
    const t = tableOf(
      ctSnapshot(T0, [
        ct('10.0.0.1:1000>10.96.0.1:80', '10.0.0.9:8080>10.0.0.1:1000'),
        ct('10.0.0.2:1000>10.96.0.1:80', '10.0.0.9:8080>10.0.0.2:1000'),
        // Same client endpoint as the first, to another service: listed with it.
        ct('10.0.0.1:1000>10.96.0.2:53', '10.0.0.8:53>10.0.0.1:1000'),
      ]),
    );
    expect([...t.flows()].map((f) => t.flowId(f))).toEqual([
      'tcp 10.0.0.1:1000>10.96.0.1:80',
      'tcp 10.0.0.1:1000>10.96.0.2:53',
      'tcp 10.0.0.2:1000>10.96.0.1:80',
    ]);
  });

  it('keeps a dropped flow readable after its row is reused', () => {
    const t = new FlowTable();
    for (const o of ctSnapshot(T0, [
      ct('10.0.0.1:1000>10.96.0.1:80', '10.0.0.9:8080>10.0.0.1:1000'),
    ]))
      t.apply(o);
    const gone = [...t.flows()][0]!;
    // The next snapshot no longer has it, and brings another flow into the freed row.
    for (const o of ctSnapshot(T0 + 1000, [
      ct('10.0.0.3:2000>10.96.0.2:443', '10.0.0.7:8443>10.0.0.3:2000'),
    ]))
      t.apply(o);
    expect(t.size).toBe(1);
    expect([...t.flows()].map((f) => t.flowId(f))).toEqual(['tcp 10.0.0.3:2000>10.96.0.2:443']);
    expect(t.flowId(gone)).toBe('tcp 10.0.0.1:1000>10.96.0.1:80');
    expect(t.backend(gone)).toEqual({ addr: '10.0.0.9', port: 8080 });
    expect(gone.ctT).toBe(T0);
    expect(
      t.lookup('tcp', { addr: '10.0.0.9', port: 8080 }, { addr: '10.0.0.1', port: 1000 }),
    ).toBeUndefined();
  });

  it('finds a re-NATed flow by its previous backend until it is removed', () => {
    const orig = '10.0.0.1:1000>10.96.0.1:80';
    const t = new FlowTable();
    const ev = (type: 'NEW' | 'UPDATE' | 'DESTROY', reply: string, dt: number) =>
      obs.event(T0 + dt, { type, entry: ct(orig, reply) });
    for (const o of [
      ev('NEW', '10.0.0.9:8080>10.0.0.1:1000', 0),
      ev('UPDATE', '10.0.0.8:8080>192.168.0.1:3000', 10),
    ])
      t.apply(o);
    const f = t.lookup(
      'tcp',
      { addr: '10.0.0.1', port: 1000 },
      { addr: '10.96.0.1', port: 80 },
    )?.flow;
    expect(f).toBeDefined();
    expect(
      t.lookup('tcp', { addr: '10.0.0.9', port: 8080 }, { addr: '10.0.0.1', port: 1000 }),
    ).toEqual({ flow: f, dir: 'reply' });
    expect(
      t.lookup('tcp', { addr: '10.0.0.8', port: 8080 }, { addr: '192.168.0.1', port: 3000 }),
    ).toEqual({ flow: f, dir: 'reply' });
  });

  it('holds many flows and IPv6 ones', () => {
    const entries = [];
    for (let i = 0; i < 3000; i++)
      entries.push(
        ct(
          `10.1.${i >> 8}.${i & 255}:${1024 + i}>10.96.0.1:80`,
          `10.244.0.${i % 7}:8080>10.1.${i >> 8}.${i & 255}:${1024 + i}`,
        ),
      );
    const t = tableOf(ctSnapshot(T0, entries));
    expect(t.size).toBe(3000);
    // 10.1.1.2 is flow 258, whose backend is 10.244.0.(258 % 7) = 10.244.0.6.
    expect(
      t.lookup('tcp', { addr: '10.244.0.5', port: 8080 }, { addr: '10.1.1.2', port: 1024 + 258 }),
    ).toBeUndefined();
    const f = t.lookup(
      'tcp',
      { addr: '10.244.0.6', port: 8080 },
      { addr: '10.1.1.2', port: 1024 + 258 },
    )?.flow;
    expect(f && t.flowId(f)).toBe('tcp 10.1.1.2:1282>10.96.0.1:80');
    const e6 = ct('10.0.0.1:1000>10.0.0.2:80', undefined, { family: 'ipv6' });
    const v6 = tableOf(
      ctSnapshot(T0, [
        {
          ...e6,
          orig: { ...e6.orig, src: 'fd00::1', dst: 'fd00::2' },
          reply: { ...e6.reply, src: 'fd00::2', dst: 'fd00::1' },
        },
      ]),
    );
    const g = [...v6.flows()][0]!;
    expect([v6.client(g), v6.target(g)]).toEqual([
      { addr: 'fd00::1', port: 1000 },
      { addr: 'fd00::2', port: 80 },
    ]);
    expect(
      v6.lookup('tcp', { addr: 'fd00::2', port: 80 }, { addr: 'fd00::1', port: 1000 }),
    ).toEqual({ flow: g, dir: 'orig-rev' });
  });
});
