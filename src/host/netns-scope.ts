// Reads the veth links of a node's namespace and its neighbours with iproute2, for the probes'
// in-kernel netns filter of `trace --netns` (which namespaces: parse/netns-veth.ts).
import { stat } from 'node:fs/promises';
import {
  netnsScope,
  parseNsidList,
  parseVethLinks,
  type HostNetnsView,
  type NamedNetnsView,
  type NetnsLinks,
  type NetnsScope,
} from '../parse/netns-veth.js';
import { run } from './exec.js';
import { inPidNetns, namedNetnsInode } from './netns.js';

/**
 * At most this many namespaces in the probes' filter: each is one comparison at each of the
 * probes' 8 filter sites, run for every traced event. Past it kdiag does not filter, and says so.
 */
export const NETNS_FILTER_CAP = 64;

/** Reads a namespace's veths and nsid names; `prefix` runs `ip` in it. A string says what failed. */
async function readLinks(argv: (args: string[]) => string[]): Promise<NetnsLinks | string> {
  const ip = async (args: string[]): Promise<string> => {
    const r = await run(argv(args), { reject: false, timeoutMs: 5000 });
    if (r.exitCode !== 0)
      throw new Error(r.stderr.trim().split('\n')[0]?.slice(0, 160) || `exit ${r.exitCode}`);
    return r.stdout;
  };
  try {
    const [links, ids] = await Promise.all([
      ip(['-j', '-d', 'link', 'show', 'type', 'veth']),
      ip(['-j', 'netns', 'list-id']),
    ]);
    const veths = parseVethLinks(links);
    if (typeof veths === 'string') return veths;
    const nsids = parseNsidList(ids);
    if (typeof nsids === 'string') return nsids;
    return { veths, nsids };
  } catch (err) {
    return (err as Error).message;
  }
}

async function inodeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).ino;
  } catch {
    return undefined;
  }
}

/** The host's namespaces kdiag can see (PID 1's and its own), with their veths where readable. */
async function hostViews(proc: string): Promise<HostNetnsView[]> {
  const self = await inodeOf(`${proc}/self/ns/net`);
  const init = await inodeOf(`${proc}/1/ns/net`);
  const out: HostNetnsView[] = [];
  if (self !== undefined) {
    const links = await readLinks((a) => ['ip', ...a]);
    out.push({ inode: self, ...(typeof links === 'string' ? {} : { links }) });
  }
  if (init !== undefined && init !== self) {
    const links = await readLinks((a) => inPidNetns(1, ['ip', ...a]));
    out.push({ inode: init, ...(typeof links === 'string' ? {} : { links }) });
  }
  return out;
}

/** The named namespaces `trace --netns start` traces: start and every one wired to it over veths. */
export async function readNetnsScope(
  start: string,
  opts: { readonly cap?: number; readonly proc?: string } = {},
): Promise<NetnsScope> {
  const cap = opts.cap ?? NETNS_FILTER_CAP;
  const hosts = await hostViews(opts.proc ?? '/proc');
  const views = new Map<string, NamedNetnsView>();
  // Each round reads the names the last one reached: at most cap + 1 namespaces are ever read.
  for (let round = 0; round <= cap + 1; round++) {
    const scope = netnsScope(start, views, hosts, cap);
    if (scope.toRead.length === 0) return scope;
    await Promise.all(
      scope.toRead.map(async (name) => {
        const had = views.get(name);
        const inode = had?.inode ?? (await namedNetnsInode(name));
        if (inode === undefined) {
          views.set(name, { error: `no /run/netns/${name}` });
          return;
        }
        const links = await readLinks((a) => ['ip', '-n', name, ...a]);
        views.set(name, typeof links === 'string' ? { inode, error: links } : { inode, links });
      }),
    );
  }
  return netnsScope(start, views, hosts, cap);
}
