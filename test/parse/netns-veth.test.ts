// The namespaces `trace --netns NODE` filters its probes to, from real iproute2 JSON (fixtures/netns-veth).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  describeNetnsScope,
  netnsScope,
  parseNsidList,
  parseVethLinks,
  type HostNetnsView,
  type NamedNetnsView,
  type NetnsLinks,
} from '../../src/parse/netns-veth.js';

const DIR = new URL('./fixtures/netns-veth/', import.meta.url);
const INODE: Record<string, number> = {
  'h25x-a': 4026532173,
  'h25x-b': 4026532238,
  'h25x-c': 4026532303,
  'h25x-d': 4026532368,
};
const HOST_INODE = 4026531833;

function links(name: string): NetnsLinks {
  const veths = parseVethLinks(readFileSync(new URL(`${name}.link.json`, DIR), 'utf8'));
  const nsids = parseNsidList(readFileSync(new URL(`${name}.list-id.json`, DIR), 'utf8'));
  if (typeof veths === 'string' || typeof nsids === 'string') throw new Error(`${veths} ${nsids}`);
  return { veths, nsids };
}

/** Every fixture namespace read, as the host module would after its rounds. */
function allViews(): Map<string, NamedNetnsView> {
  return new Map(Object.keys(INODE).map((n) => [n, { inode: INODE[n]!, links: links(n) }]));
}
const host: HostNetnsView = { inode: HOST_INODE, links: links('host') };

/** Runs the search as the host module does: read what it asks for, call again. */
function search(start: string, hosts: readonly HostNetnsView[], cap = 64) {
  const all = allViews();
  const views = new Map<string, NamedNetnsView>();
  for (let round = 0; round < 10; round++) {
    const s = netnsScope(start, views, hosts, cap);
    if (s.toRead.length === 0) return { scope: s, rounds: round };
    for (const n of s.toRead) views.set(n, all.get(n) ?? { error: `no /run/netns/${n}` });
  }
  throw new Error('no fixed point');
}

describe('iproute2 JSON', () => {
  it('reads veth ends: peer index and nsid across namespaces, none within one', () => {
    expect(links('h25x-b').veths).toEqual([
      { ifindex: 2, linkIndex: 53, linkNetnsid: 1 },
      { ifindex: 3, linkIndex: 2, linkNetnsid: 0 },
      { ifindex: 5, linkIndex: 54, linkNetnsid: 2 },
    ]);
    const same = parseVethLinks(
      '[{"ifindex":56,"link":"h25same2","ifname":"h25same1","linkinfo":{"info_kind":"veth"}}]',
    );
    expect(same).toEqual([{ ifindex: 56 }]);
  });

  it('reads nsid names, an nsid without a name, and an empty answer', () => {
    expect([...links('h25x-c').nsids]).toEqual([
      [0, 'h25x-d'],
      [1, undefined],
      [2, 'h25x-b'],
    ]);
    expect(parseNsidList('')).toEqual(new Map());
  });

  it('says what is wrong with output that is not the JSON it expects', () => {
    expect(parseVethLinks('Object "link" is unknown')).toMatch(/not JSON/);
    expect(parseVethLinks('{}')).toMatch(/expected a JSON array/);
    expect(parseNsidList('{"nsid":1}')).toMatch(/expected a JSON array/);
  });
});

describe('the namespaces wired to a node', () => {
  it('follows veths transitively from the start, and not into the host', () => {
    const { scope } = search('h25x-b', [host]);
    expect(scope.traced.map((t) => t.name)).toEqual(['h25x-b', 'h25x-a', 'h25x-c', 'h25x-d']);
    expect(scope.traced[0]).toEqual({ name: 'h25x-b', inode: INODE['h25x-b'] });
    // h25x-b's unnamed peer is the host (its veth pair matches); h25x-c's is a namespace with no name.
    expect(scope.unnamed).toBe(1);
    expect(scope.failed).toEqual([]);
    expect(scope.overCap).toBe(false);
  });

  it('counts the host as unnamed when the host links could not be read', () => {
    expect(search('h25x-b', [{ inode: HOST_INODE }]).scope.unnamed).toBe(2);
  });

  it('reaches the same set from a leaf', () => {
    const { scope } = search('h25x-d', [host]);
    expect(scope.traced.map((t) => t.name)).toEqual(['h25x-d', 'h25x-c', 'h25x-b', 'h25x-a']);
  });

  it('never includes or crosses a named namespace that is the host', () => {
    // As if /run/netns/h25x-b were the host's own namespace (ip netns attach host 1).
    const { scope } = search('h25x-a', [{ inode: INODE['h25x-b']! }]);
    expect(scope.traced.map((t) => t.name)).toEqual(['h25x-a']);
    expect(scope.hostNamed).toEqual(['h25x-b']);
  });

  it('stops past the cap and says so', () => {
    const { scope } = search('h25x-b', [host], 2);
    expect(scope.overCap).toBe(true);
    expect(describeNetnsScope('h25x-b', scope, 2)).toEqual({
      notes: [expect.stringMatching(/not filtered.*more than 2 namespaces/)],
    });
  });

  it('asks for what it has not read, one ring at a time', () => {
    expect(netnsScope('h25x-b', new Map(), [host], 64).toRead).toEqual(['h25x-b']);
    expect(search('h25x-a', [host]).rounds).toBe(4);
  });

  it('does not follow a namespace whose links could not be read', () => {
    const views = allViews();
    views.set('h25x-c', { inode: INODE['h25x-c']!, error: 'Permission denied' });
    const s = netnsScope('h25x-b', views, [host], 64);
    expect(s.traced.map((t) => t.name)).toEqual(['h25x-b', 'h25x-a', 'h25x-c']);
    expect(s.failed).toEqual([{ name: 'h25x-c', error: 'Permission denied' }]);
  });
});

describe('what trace says of the filter', () => {
  it('names every namespace traced with its inode, and what is not traced', () => {
    const { scope } = search('h25x-b', [host]);
    const d = describeNetnsScope('h25x-b', scope, 64);
    expect(d.inodes).toEqual([INODE['h25x-b'], INODE['h25x-a'], INODE['h25x-c'], INODE['h25x-d']]);
    expect(d.notes[0]).toBe(
      `probes filtered in the kernel to 4 network namespaces, h25x-b and those wired to it over veth links: h25x-b (inode 4026532238), h25x-a (inode 4026532173), h25x-c (inode 4026532303), h25x-d (inode 4026532368); other namespaces' events, and those of namespaces created after the start, are not traced`,
    );
    expect(d.notes[1]).toMatch(/^1 veth peer is in namespaces with no name under \/run\/netns/);
  });

  it('does not filter when the start is the host itself', () => {
    const s = netnsScope('h25x-b', allViews(), [{ inode: INODE['h25x-b']! }], 64);
    const d = describeNetnsScope('h25x-b', s, 64);
    expect(d.inodes).toBeUndefined();
    expect(d.notes.join('\n')).toMatch(/not filtered.*host's own namespace/);
  });
});
