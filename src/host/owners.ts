// Who owns a flow, without the API server: network namespaces (named ones under /run/netns and those
// of processes, by /proc/PID/ns/net inode) → processes (/proc/PID/comm, socket inodes from
// /proc/PID/fd) → pod UID (from /proc/PID/cgroup) → namespace/name (the kubelet's log folders
// /var/log/pods/<namespace>_<name>_<uid>/). sources/owners.ts records it as `kdiag:owners` JSON lines.
import { readdir, readFile, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { netnsLabel } from '../model/netns-label.js';
import { listPids } from './procfs.js';

// ---- pure parsing -------------------------------------------------------------------------------

export type PodQos = 'guaranteed' | 'burstable' | 'besteffort';
export type ContainerRuntime = 'containerd' | 'cri-o' | 'docker';

/** What a cgroup path says about the pod a process belongs to. */
export interface PodCgroup {
  /** The pod UID as the API server shows it (dashes; static pods: 32 hex digits). */
  readonly podUid: string;
  readonly qos: PodQos;
  readonly driver: 'cgroupfs' | 'systemd';
  readonly containerId?: string;
  readonly runtime?: ContainerRuntime;
  /** cri-o's conmon monitor process, not the container itself. */
  readonly conmon?: boolean;
}

// A UID with dashes (cgroupfs) or underscores (systemd escapes `-` in slice names), or a static
// (mirror) pod's 32-hex config hash.
const UID_RE =
  /^(?:[0-9a-f]{8}([-_])[0-9a-f]{4}\1[0-9a-f]{4}\1[0-9a-f]{4}\1[0-9a-f]{12}|[0-9a-f]{32})$/;
const CONTAINER_ID_RE = /^[0-9a-f]{64}$/;

function normaliseUid(raw: string): string | undefined {
  const lower = raw.toLowerCase();
  return UID_RE.test(lower) ? lower.replace(/_/g, '-') : undefined;
}

function containerOf(
  segment: string | undefined,
): Pick<PodCgroup, 'containerId' | 'runtime' | 'conmon'> {
  if (segment === undefined) return {};
  if (CONTAINER_ID_RE.test(segment)) return { containerId: segment };
  const m = /^(cri-containerd|crio-conmon|crio|docker)-([0-9a-f]{64})\.scope$/.exec(segment);
  if (!m) return {};
  const runtime: ContainerRuntime =
    m[1] === 'cri-containerd' ? 'containerd' : m[1] === 'docker' ? 'docker' : 'cri-o';
  return { containerId: m[2]!, runtime, ...(m[1] === 'crio-conmon' ? { conmon: true } : {}) };
}

/**
 * Reads the pod of one /proc/PID/cgroup line (`hierarchy:controllers:path`, cgroup v1 or v2 `0::`),
 * for the cgroupfs driver (`/kubepods/burstable/pod<uid>/<cid>`) and the systemd driver
 * (`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid_with_underscores>.slice/
 * cri-containerd-<cid>.scope`), also nested under a kubelet cgroup root (kind: `/kubelet.slice/
 * kubelet-kubepods.slice/…`). Returns undefined for a process outside any pod.
 */
export function parsePodCgroupLine(line: string): PodCgroup | undefined {
  const first = line.indexOf(':');
  const second = first < 0 ? -1 : line.indexOf(':', first + 1);
  const path = second < 0 ? line : line.slice(second + 1);
  if (path.length > 4096 || !path.includes('kubepods')) return undefined;
  const segments = path.split('/').filter((s) => s !== '');
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    // systemd: kubepods[-qos]-pod<uid>.slice (possibly prefixed, e.g. kubelet-kubepods-…)
    const sd = /(?:^|-)kubepods(?:-(burstable|besteffort))?-pod([0-9a-f_]+)\.slice$/.exec(seg);
    if (sd) {
      const podUid = normaliseUid(sd[2]!);
      if (podUid === undefined) continue;
      return {
        podUid,
        qos: (sd[1] as PodQos | undefined) ?? 'guaranteed',
        driver: 'systemd',
        ...containerOf(segments[i + 1]),
      };
    }
    // cgroupfs: …/kubepods[/qos]/pod<uid>
    if (seg.startsWith('pod') && i > 0) {
      const podUid = normaliseUid(seg.slice(3));
      if (podUid === undefined) continue;
      const parent = segments[i - 1]!;
      const qos: PodQos | undefined =
        parent === 'burstable' || parent === 'besteffort'
          ? parent
          : parent === 'kubepods'
            ? 'guaranteed'
            : undefined;
      if (qos === undefined) continue;
      if (qos !== 'guaranteed' && segments[i - 2] !== 'kubepods') continue;
      return { podUid, qos, driver: 'cgroupfs', ...containerOf(segments[i + 1]) };
    }
  }
  return undefined;
}

/** Reads the pod from a whole /proc/PID/cgroup file (any line that names one; v2's `0::` first). */
export function parsePodCgroup(text: string): PodCgroup | undefined {
  const lines = text.split('\n').filter((l) => l !== '');
  const ordered = [
    ...lines.filter((l) => l.startsWith('0::')),
    ...lines.filter((l) => !l.startsWith('0::')),
  ];
  for (const line of ordered) {
    const pod = parsePodCgroupLine(line);
    if (pod !== undefined) return pod;
  }
  return undefined;
}

/** A pod as the kubelet names its log folder. */
export interface PodLogDir {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

/**
 * Parses a kubelet pod log folder name, `<namespace>_<name>_<uid>` (`kube-system_coredns-5d78c9869d-
 * abcde_0f5b…`); namespace and pod names are DNS labels/subdomains, so they cannot hold `_`.
 */
export function parsePodLogDir(dirName: string): PodLogDir | undefined {
  const parts = dirName.split('_');
  if (parts.length !== 3) return undefined;
  const [namespace, name, rawUid] = parts as [string, string, string];
  const dns = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
  if (!dns.test(namespace) || !dns.test(name)) return undefined;
  const uid = normaliseUid(rawUid);
  if (uid === undefined || rawUid.includes('_')) return undefined;
  return { namespace, name, uid };
}

/** `net:[4026531840]` (readlink of /proc/PID/ns/net) → 4026531840. */
export function parseNsLink(link: string): number | undefined {
  const m = /^net:\[(\d{1,20})\]$/.exec(link);
  const n = m ? Number(m[1]) : NaN;
  return Number.isSafeInteger(n) ? n : undefined;
}

/** `socket:[12345]` (readlink of /proc/PID/fd/N) → 12345. */
export function parseSocketLink(link: string): number | undefined {
  const m = /^socket:\[(\d{1,20})\]$/.exec(link);
  const n = m ? Number(m[1]) : NaN;
  return Number.isSafeInteger(n) ? n : undefined;
}

// ---- the table ----------------------------------------------------------------------------------

export interface NetnsOwner {
  readonly type: 'netns';
  readonly ino: number;
  /** Names under /run/netns that are this netns. */
  readonly names: readonly string[];
  /** The netns of PID 1 (or of kdiag itself when PID 1's is unreadable). */
  readonly host: boolean;
  readonly pids: readonly number[];
  /** Pod UIDs with a process in it (hostNetwork pods show up on the host netns). */
  readonly pods: readonly string[];
  /** A pid to enter it by (`nsenter --net=/proc/PID/ns/net`), when one lives in it. */
  readonly enterPid?: number;
}

export interface PidOwner {
  readonly type: 'pid';
  readonly pid: number;
  readonly comm: string;
  readonly netns: number;
  readonly podUid?: string;
  readonly containerId?: string;
  readonly runtime?: ContainerRuntime;
  /** Socket inodes (`ino:` in `ss -e`) this process holds open. */
  readonly sockets: readonly number[];
}

export interface PodOwner {
  readonly type: 'pod';
  readonly uid: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly qos?: PodQos;
  readonly netns: readonly number[];
  /** True when its processes live in the host netns (hostNetwork: true). */
  readonly hostNetwork: boolean;
}

export interface OwnersTable {
  readonly netns: readonly NetnsOwner[];
  readonly pids: readonly PidOwner[];
  readonly pods: readonly PodOwner[];
}

export interface OwnerPaths {
  readonly proc: string;
  readonly runNetns: string;
  readonly podLogs: string;
}

export const DEFAULT_OWNER_PATHS: OwnerPaths = {
  proc: '/proc',
  runNetns: '/run/netns',
  podLogs: '/var/log/pods',
};

export interface ReadOwnersOptions {
  readonly paths?: Partial<OwnerPaths>;
  /** Walk /proc/PID/fd for socket inodes (default true; the costly part on a busy node). */
  readonly sockets?: boolean;
  /** At most this many socket inodes per process. */
  readonly maxSocketsPerPid?: number;
}

async function tryText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

async function tryLink(path: string): Promise<string | undefined> {
  try {
    return await readlink(path);
  } catch {
    return undefined;
  }
}

async function tryDir(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch {
    return [];
  }
}

async function socketsOf(procPid: string, max: number): Promise<number[]> {
  const inodes: number[] = [];
  for (const fd of await tryDir(join(procPid, 'fd'))) {
    const link = await tryLink(join(procPid, 'fd', fd));
    const ino = link === undefined ? undefined : parseSocketLink(link);
    if (ino !== undefined) inodes.push(ino);
    if (inodes.length >= max) break;
  }
  return inodes.sort((a, b) => a - b);
}

/** Builds the owners table from /proc, /run/netns and /var/log/pods (or the given roots). */
export async function readOwners(opts: ReadOwnersOptions = {}): Promise<OwnersTable> {
  const paths = { ...DEFAULT_OWNER_PATHS, ...opts.paths };
  const maxSockets = opts.maxSocketsPerPid ?? 10_000;
  // PID 1's netns is the host's; where its link is unreadable (a sandboxed PID 1), kdiag's own.
  const hostLink =
    (await tryLink(join(paths.proc, '1', 'ns', 'net'))) ??
    (await tryLink(join(paths.proc, 'self', 'ns', 'net')));
  const hostIno = hostLink === undefined ? undefined : parseNsLink(hostLink);

  const named = new Map<number, string[]>();
  for (const name of (await tryDir(paths.runNetns)).sort()) {
    try {
      // A bind mount of nsfs: its inode is the netns inode.
      const ino = (await stat(join(paths.runNetns, name))).ino;
      named.set(ino, [...(named.get(ino) ?? []), name]);
    } catch {
      // stale entry
    }
  }

  const pids: PidOwner[] = [];
  const qosOf = new Map<string, PodQos>();
  const pidDirs = await listPids(paths.proc);
  for (const pid of pidDirs) {
    const dir = join(paths.proc, String(pid));
    const link = await tryLink(join(dir, 'ns', 'net'));
    const netns = link === undefined ? undefined : parseNsLink(link);
    if (netns === undefined) continue; // gone, or a zombie
    const cmdline = await tryText(join(dir, 'cmdline'));
    if (cmdline === '') continue; // kernel thread (or zombie): no sockets, no pod
    const comm = ((await tryText(join(dir, 'comm'))) ?? '').replace(/\n$/, '');
    const cgroup = await tryText(join(dir, 'cgroup'));
    const pod = cgroup === undefined ? undefined : parsePodCgroup(cgroup);
    if (pod !== undefined) qosOf.set(pod.podUid, pod.qos);
    const sockets = opts.sockets === false ? [] : await socketsOf(dir, maxSockets);
    pids.push({
      type: 'pid',
      pid,
      comm,
      netns,
      ...(pod === undefined ? {} : { podUid: pod.podUid }),
      ...(pod?.containerId === undefined ? {} : { containerId: pod.containerId }),
      ...(pod?.runtime === undefined ? {} : { runtime: pod.runtime }),
      sockets,
    });
  }

  const logDirs = new Map<string, PodLogDir>();
  for (const d of await tryDir(paths.podLogs)) {
    const p = parsePodLogDir(d);
    if (p !== undefined) logDirs.set(p.uid, p);
  }

  const inos = new Set<number>([...named.keys(), ...pids.map((p) => p.netns)]);
  const netns: NetnsOwner[] = [...inos]
    .sort((a, b) => a - b)
    .map((ino) => {
      const members = pids.filter((p) => p.netns === ino);
      // The sandbox (pause) process is usually the lowest pid of a pod netns.
      const enter = members[0]?.pid;
      return {
        type: 'netns' as const,
        ino,
        names: named.get(ino) ?? [],
        host: ino === hostIno,
        pids: members.map((p) => p.pid),
        pods: [
          ...new Set(members.flatMap((p) => (p.podUid === undefined ? [] : [p.podUid]))),
        ].sort(),
        ...(enter === undefined ? {} : { enterPid: enter }),
      };
    });

  const podUids = new Set<string>(pids.flatMap((p) => (p.podUid === undefined ? [] : [p.podUid])));
  const pods: PodOwner[] = [...podUids].sort().map((uid) => {
    const nets = [...new Set(pids.filter((p) => p.podUid === uid).map((p) => p.netns))].sort(
      (a, b) => a - b,
    );
    const log = logDirs.get(uid);
    const qos = qosOf.get(uid);
    return {
      type: 'pod' as const,
      uid,
      ...(log === undefined ? {} : { namespace: log.namespace, name: log.name }),
      ...(qos === undefined ? {} : { qos }),
      netns: nets,
      hostNetwork: hostIno !== undefined && nets.includes(hostIno),
    };
  });

  return { netns, pids, pods };
}

/** The scope to put after `@` in a source id (and a bundle file name, `ss@SCOPE.txt`) for a netns: model/netns-label.ts (pure). */
export function netnsScope(ns: NetnsOwner, pods: readonly PodOwner[]): string {
  const pod = ns.pods[0] === undefined ? undefined : pods.find((p) => p.uid === ns.pods[0]);
  return netnsLabel({ ino: ns.ino, names: ns.names, pod });
}

/** The pod network namespaces (not the host's) with a process to enter them by. */
export function podNetns(table: OwnersTable): NetnsOwner[] {
  return table.netns.filter((n) => !n.host && n.pods.length > 0 && n.enterPid !== undefined);
}
