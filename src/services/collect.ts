// kdiag collect: writes a bundle folder of read-only command outputs (design.md "Bundle folder"),
// one file per source, each written atomically, plus a kdiag-collect.json manifest saying how each
// file was made and which could not be.
import { lstat, readFile, rm, rmdir } from 'node:fs/promises';
import { hostname as osHostname, release as osRelease } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createHmac, randomBytes } from 'node:crypto';
import { redactFiles, type Redactor } from '../record/redact.js';
import { sourceKindByBundleFile } from '../engine/source-kinds.js';
import { EnvironmentError, UsageError } from '../errors.js';
import { stageOutputDir, type StagedDir } from '../host/private-out-dir.js';
import { readVantageWarning } from '../host/vantage.js';
import { wrap } from '../model/text-wrap.js';
import {
  conntrackListSource,
  conntrackStatsSource,
  procNfConntrackSource,
  procStatNfConntrackSource,
} from '../sources/conntrack-source.js';
import { withNetns } from '../host/exec.js';
import { ip6tablesSaveSource, iptablesSaveSource } from '../sources/iptables-source.js';
import { fileSource } from '../sources/snapshot-source.js';
import { ipvsSources, PROC_IP_VS_CONN } from '../sources/ipvsadm-source.js';
import { discoverKubeProxy, type KubeProxyDiscovery } from '../host/kube-proxy.js';
import { kubeProxyArgsSource, kubeProxyConfigSource } from '../sources/kube-proxy-source.js';
import { kubeProxyMetricsSources } from '../sources/kube-proxy-metrics-source.js';
import { netnsProblem } from '../host/netns.js';
import { netnsScope, podNetns, readOwners, type OwnersTable } from '../host/owners.js';
import { ownersToLines } from '../sources/owners.js';
import type { SnapshotSource } from '../sources/snapshot-source.js';
import { podSocketSources, ssSource } from '../sources/ss-source.js';
import {
  listSysctlFiles,
  sysctlInPidNetnsReadArgv,
  sysctlInPidNetnsSource,
  sysctlSource,
} from '../sources/sysctl-source.js';
import { KDIAG_VERSION } from '../version.js';
import {
  ciliumConfigSource,
  ciliumCtArgv,
  ciliumCtSource,
  findCiliumAgent,
} from '../sources/cilium-source.js';
import { writeFileAtomic } from '../host/atomic-file.js';
import { tarBytes } from '../record/tar-writer.js';
import {
  CALICO_CT_ARGV,
  calicoConntrackSource,
  calicoCtRan,
  FELIX_CONFIG_ARGV,
  felixConfigSource,
  findCalicoNodePids,
} from '../sources/calico-source.js';
import { OVS_CT_ARGV, ovsConntrackSource } from '../sources/ovs-source.js';
import { nftRulesetSource } from '../sources/nft-source.js';

// A bundle is made to be read and handed on: its files are world-readable, like the tools' output.
const BUNDLE_FILE_MODE = 0o644;

export interface CollectOptions {
  /** Bundle folder; default `./kdiag-bundle-<host>-<UTC timestamp>`. Must be absent or empty. */
  readonly out?: string;
  /** Run the netfilter and socket commands inside this named netns. */
  readonly netns?: string;
  /** `--kube-proxy-config FILE`. */
  readonly kubeProxyConfig?: string;
  /** One progress line for a person (stderr in the CLI). */
  readonly onProgress?: (line: string) => void;
  readonly now?: () => Date;
  readonly hostname?: string;
  readonly cwd?: string;
  /** Roots for the owners walk (tests use a fake tree). */
  readonly ownerPaths?: {
    readonly proc?: string;
    readonly runNetns?: string;
    readonly podLogs?: string;
  };
  readonly timeoutMs?: number;
  /** Write the bundle as one `<out>.tar.gz` (its files under the folder's name) instead of a folder. */
  readonly tar?: boolean;
  /**
   * Replace addresses and names consistently (record/redact.ts). The files are kept in memory and
   * only their redacted text is written; the mapping is written nowhere.
   */
  readonly redact?: boolean;
  /** Key of the stand-ins (hex): bundles redacted with one key agree on them. Default: random. */
  readonly redactKey?: string;
}

export type CollectFileStatus = 'written' | 'failed' | 'unavailable';

/** How one bundle file was made (or why not). */
export interface CollectFileEntry {
  readonly file: string;
  readonly src: string;
  /** The command the file is the output of (`cat FILE` for a /proc file). */
  readonly argv: readonly string[];
  /** What actually ran, when it differs from argv (`nsenter --net=/run/netns/NAME -- …`, reads of /proc/sys). */
  readonly ran?: readonly string[] | string;
  readonly status: CollectFileStatus;
  readonly exitCode: number | null;
  readonly lines?: number;
  readonly bytes?: number;
  readonly stderrTail?: string;
  /** Why it is not in the bundle. */
  readonly reason?: string;
}

export interface CollectManifest {
  readonly format: 'kdiag-collect';
  readonly formatVersion: 1;
  readonly kdiagVersion: string;
  readonly hostname: string;
  readonly kernel: string;
  /** ISO time the collect started (the snapshots' time in a replay). */
  readonly collectedAt: string;
  readonly finishedAt: string;
  readonly netns?: string;
  /** Why this collect may not see the node (outside its netns, missing capabilities). */
  readonly vantage?: string;
  readonly kubeProxy: {
    readonly origin: KubeProxyDiscovery['origin'];
    readonly pid?: number;
    readonly configPath?: string;
    readonly readPath?: string;
    readonly note?: string;
  };
  readonly files: readonly CollectFileEntry[];
  readonly written: readonly string[];
  readonly missing: readonly { readonly file: string; readonly reason: string }[];
  /** Addresses and names are stand-ins (collect --redact). */
  readonly redacted?: true;
}

export interface CollectResult {
  readonly dir: string;
  readonly manifest: CollectManifest;
  /** Data files written (the manifest not counted). */
  readonly written: number;
  readonly manifestWritten: boolean;
  /** The .tar.gz written instead of the folder (`tar`). */
  readonly archive?: string;
}

/** `20260102T030405Z` (pure). */
export function utcStamp(d: Date): string {
  return d
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}

/** The default bundle folder name, `kdiag-bundle-<host>-<UTC timestamp>` (pure). */
export function defaultBundleName(host: string, d: Date): string {
  const safeHost = host.replace(/[^A-Za-z0-9.-]/g, '_').slice(0, 64) || 'host';
  return `kdiag-bundle-${safeHost}-${utcStamp(d)}`;
}

function countLines(text: string): number {
  if (text === '') return 0;
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

function lines(text: string): string[] {
  const l = text.split('\n');
  if (l[l.length - 1] === '') l.pop();
  return l;
}

/** What a progress line says about a written file (pure; `stdout` is the file's content). */
export function progressLine(
  file: string,
  stdout: string,
  extra: { readonly from?: string } = {},
): string {
  const n = countLines(stdout);
  // `ss@NAME.txt` is the file of kind `ss.txt` for network namespace NAME.
  const at = file.indexOf('@');
  const dot = file.lastIndexOf('.');
  const scoped = at >= 0 && dot > at;
  const kind = sourceKindByBundleFile(scoped ? file.slice(0, at) + file.slice(dot) : file);
  if (kind?.collected === undefined) return `${file} written (${n} lines)`;
  return kind.collected({
    n,
    lines: lines(stdout),
    ...(scoped ? { scope: file.slice(at + 1, dot) } : {}),
    ...(extra.from === undefined ? {} : { from: extra.from }),
  });
}

interface Item {
  readonly file: string;
  readonly source: SnapshotSource;
  readonly ran?: readonly string[] | string;
  readonly from?: string;
}

async function kernelRelease(): Promise<string> {
  try {
    return (await readFile('/proc/sys/kernel/osrelease', 'utf8')).trim();
  } catch {
    return osRelease();
  }
}

/**
 * Collects a bundle folder from this node, running only read-only commands.
 * @example
 *   const r = await collectBundle({ out: '/tmp/b', onProgress: (l) => process.stderr.write(`${l}\n`) });
 *   // r.manifest.missing lists what could not be collected; r.written counts the data files.
 */
export async function collectBundle(opts: CollectOptions = {}): Promise<CollectResult> {
  const now = opts.now ?? (() => new Date());
  const started = now();
  const host = opts.hostname ?? osHostname();
  const progress = opts.onProgress ?? (() => {});
  const netns = opts.netns;
  if (opts.redactKey !== undefined && !opts.redact)
    throw new UsageError('--redact-key needs --redact');
  if (opts.redactKey !== undefined && !/^[0-9a-fA-F]{32,128}$/.test(opts.redactKey))
    throw new UsageError('--redact-key: give 32 to 128 hex digits');
  if (netns !== undefined) {
    const problem = await netnsProblem(netns);
    if (problem !== undefined)
      throw new UsageError(
        `can't use --netns ${netns}: ${problem}`,
        'list them with ip netns list',
      );
  }
  const target = resolve(opts.cwd ?? process.cwd(), opts.out ?? defaultBundleName(host, started));
  if (opts.tar) await refuseExisting(`${target}.tar.gz`);
  // Files as root: everything is written in a private 0700 folder next to the target, renamed
  // into place at the end (host/private-out-dir.ts); a link or another user's folder is refused.
  const staged: StagedDir = await stageOutputDir(target, '--out');
  const dir = staged.path;

  // Outside the node's namespaces or without capabilities the reads look empty, not failed.
  const vantage = await readVantageWarning();
  // Progress lines stay within 80 columns, as the terminal and the tests expect.
  if (vantage !== undefined) for (const l of wrap(vantage, 80, 2, 0)) progress(l);
  const base = { ...(netns === undefined ? {} : { netns }), timeoutMs: opts.timeoutMs ?? 120_000 };
  const inNetns = (argv: readonly string[]): readonly string[] | undefined =>
    netns === undefined ? undefined : withNetns(argv, netns);
  const entries: CollectFileEntry[] = [];
  // What each written file holds, for the archive (packed from memory, never re-read through links).
  const contents = new Map<string, string>();
  const unavailable = new Map<string, string[]>();
  // Redacted, a file is written only at the end, once every name in the bundle is known.
  const put = async (file: string, text: string): Promise<void> => {
    if (!opts.redact) await writeFileAtomic(join(dir, file), text, BUNDLE_FILE_MODE);
    contents.set(file, text);
  };

  // One problem, one line within 80 columns; the file list goes on its own line when it does not fit.
  const emit = (reason: string, tail: string): void => {
    const first = reason.split('\n')[0]!;
    if (first.length + 1 + tail.length <= 80) progress(`${first} ${tail}`);
    else {
      progress(first.length > 80 ? `${first.slice(0, 79)}…` : first);
      progress(`  ${tail}`);
    }
  };

  const record = async (item: Item): Promise<void> => {
    const { file, source } = item;
    await source.snapshot();
    const st = source.status;
    const out = source.lastOutput;
    const ran = item.ran ?? inNetns(source.argv);
    const common = {
      file,
      src: source.id,
      argv: source.argv,
      ...(ran === undefined ? {} : { ran }),
    };
    const stderrTail = out?.stderr ? out.stderr.slice(-2000) : undefined;
    if (st.state === 'ok' && out !== undefined) {
      try {
        await put(file, out.stdout);
        entries.push({
          ...common,
          status: 'written',
          exitCode: 0,
          lines: countLines(out.stdout),
          bytes: Buffer.byteLength(out.stdout),
          ...(stderrTail ? { stderrTail } : {}),
        });
        progress(
          progressLine(file, out.stdout, item.from === undefined ? {} : { from: item.from }),
        );
      } catch (err) {
        const reason = `can't write ${file}: ${(err as Error).message}`;
        entries.push({ ...common, status: 'failed', exitCode: 0, reason });
        progress(reason);
      }
      return;
    }
    const reason = st.message ?? 'failed';
    if (st.state === 'unavailable') {
      entries.push({ ...common, status: 'unavailable', exitCode: null, reason });
      unavailable.set(reason, [...(unavailable.get(reason) ?? []), file]);
    } else {
      entries.push({
        ...common,
        status: 'failed',
        exitCode: st.exitCode ?? null,
        reason,
        ...(stderrTail ? { stderrTail } : {}),
      });
      emit(reason, `(${file} not written)`);
    }
  };

  // Counters first (cheap, and most useful next to the table read right after them).
  await record({ file: 'conntrack-S.txt', source: conntrackStatsSource(base) });
  await record({ file: 'stat_nf_conntrack.txt', source: procStatNfConntrackSource(base) });
  await record({ file: 'conntrack-L.txt', source: conntrackListSource(base) });
  await record({ file: 'nf_conntrack.txt', source: procNfConntrackSource(base) });

  const ipvs = await ipvsSources(base);
  if (ipvs.unavailable === undefined) {
    await record({ file: 'ipvsadm-Ln.txt', source: ipvs.services });
    await record({ file: 'ipvsadm-Lnc.txt', source: ipvs.conns });
    await record({ file: 'ipvsadm-timeout.txt', source: ipvs.timeout });
    await record({ file: 'ipvsadm-stats.txt', source: ipvs.stats });
    await record({
      file: 'ip_vs_conn.txt',
      source: fileSource('procfs:ip_vs_conn', PROC_IP_VS_CONN, base),
    });
  } else {
    for (const [file, source] of [
      ['ipvsadm-Ln.txt', ipvs.services],
      ['ipvsadm-Lnc.txt', ipvs.conns],
      ['ipvsadm-timeout.txt', ipvs.timeout],
    ] as const) {
      entries.push({
        file,
        src: source.id,
        argv: source.argv,
        status: 'unavailable',
        exitCode: null,
        reason: ipvs.unavailable,
      });
    }
    progress('IPVS skipped: /proc/net/ip_vs missing (IPVS not loaded)');
  }

  const sysctl = await sysctlSource(base);
  await record({
    file: 'sysctl.txt',
    source: sysctl,
    ran:
      netns === undefined
        ? 'read from /proc/sys'
        : withNetns(
            ['grep', '-H', '-s', '', ...(await listSysctlFiles()).map((f) => `/proc/sys/${f}`)],
            netns,
          ),
  });
  await record({ file: 'ss.txt', source: ssSource(base) });
  await record({ file: 'iptables-save.txt', source: iptablesSaveSource(base) });
  await record({ file: 'ip6tables-save.txt', source: ip6tablesSaveSource(base) });
  await record({ file: 'nft-ruleset.txt', source: nftRulesetSource(base) });

  const kp = await discoverKubeProxy(
    opts.kubeProxyConfig === undefined ? {} : { userConfig: opts.kubeProxyConfig },
  );
  await record({
    file: 'kube-proxy.yaml',
    source: kubeProxyConfigSource(kp),
    ...(kp.readPath === undefined ? {} : { from: kp.readPath }),
  });
  await record({ file: 'kube-proxy.args', source: kubeProxyArgsSource(kp) });
  const kpm = await kubeProxyMetricsSources(kp);
  if (kpm.note) progress(kpm.note);
  for (const source of kpm.sources)
    await record({
      file:
        source.id === 'kube-proxy:metrics' ? 'kube-proxy-metrics.txt' : 'kube-proxy-proxymode.txt',
      source,
      ...(kpm.url === undefined ? {} : { from: kpm.url }),
    });

  let owners: OwnersTable | undefined;
  try {
    owners = await readOwners(opts.ownerPaths === undefined ? {} : { paths: opts.ownerPaths });
    const text = ownersToLines(owners)
      .map((l) => `${l}\n`)
      .join('');
    await put('owners.ndjson', text);
    entries.push({
      file: 'owners.ndjson',
      src: 'kdiag:owners',
      argv: ['kdiag', 'owners'],
      ran: 'read from /proc, /run/netns, /var/log/pods',
      status: 'written',
      exitCode: 0,
      lines: countLines(text),
      bytes: Buffer.byteLength(text),
    });
    progress(
      `Owners read (${owners.netns.length} netns, ${owners.pods.length} pods, ${owners.pids.length} processes)`,
    );
  } catch (err) {
    const reason = `can't read owners: ${(err as Error).message}`;
    entries.push({
      file: 'owners.ndjson',
      src: 'kdiag:owners',
      argv: ['kdiag', 'owners'],
      status: 'failed',
      exitCode: null,
      reason,
    });
    progress(reason);
  }

  // Pod sockets: each pod's netns entered through one of its processes (not with --netns: the user
  // asked for one namespace).
  if (netns === undefined && owners !== undefined) {
    for (const source of podSocketSources(owners, { timeoutMs: base.timeoutMs })) {
      await record({ file: `ss@${source.id.slice('ss:sockets@'.length)}.txt`, source });
    }
    // A pod's own keepalive sysctls, which its sockets use instead of the node's.
    for (const ns of podNetns(owners)) {
      const source = await sysctlInPidNetnsSource(ns.enterPid!, netnsScope(ns, owners.pods), {
        timeoutMs: base.timeoutMs,
      });
      await record({
        file: `sysctl@${source.id.slice('sysctl:all@'.length)}.txt`,
        source,
        ran: await sysctlInPidNetnsReadArgv(ns.enterPid!),
      });
    }
  }

  // Calico eBPF and OVS data planes (issue 22): only where they run.
  const calicoPid = (await findCalicoNodePids())[0];
  await record({
    file: 'calico-ct.txt',
    source: calicoConntrackSource(calicoPid, { timeoutMs: base.timeoutMs }),
    ran: calicoPid === undefined ? [...CALICO_CT_ARGV] : calicoCtRan(calicoPid),
  });
  if (calicoPid !== undefined) {
    await record({
      file: 'felixconfiguration.yaml',
      source: felixConfigSource({ timeoutMs: base.timeoutMs }),
      // The API server's, not a network namespace's: never run inside --netns.
      ran: [...FELIX_CONFIG_ARGV],
    });
  }
  await record({
    file: 'ovs-conntrack.txt',
    source: await ovsConntrackSource({ timeoutMs: base.timeoutMs }),
    ran: [...OVS_CT_ARGV],
  });
  // Cilium (kube-proxy replacement): its BPF conntrack and CT timeouts, on a node that runs the agent.
  const cilium = await findCiliumAgent();
  if (cilium !== undefined || (await ciliumCtArgv(undefined)) !== undefined) {
    await record({ file: 'cilium-config.yaml', source: ciliumConfigSource(cilium) });
    await record({
      file: 'cilium-ct.txt',
      source: await ciliumCtSource(cilium, { timeoutMs: base.timeoutMs }),
    });
  }

  for (const [reason, files] of unavailable) emit(reason, `(not written: ${files.join(', ')})`);

  const written = entries.filter((e) => e.status === 'written').map((e) => e.file);
  const manifest: CollectManifest = {
    format: 'kdiag-collect',
    formatVersion: 1,
    kdiagVersion: KDIAG_VERSION,
    hostname: host,
    kernel: await kernelRelease(),
    collectedAt: started.toISOString(),
    finishedAt: now().toISOString(),
    ...(netns === undefined ? {} : { netns }),
    ...(vantage === undefined ? {} : { vantage }),
    kubeProxy: {
      origin: kp.origin,
      ...(kp.pid === undefined ? {} : { pid: kp.pid }),
      ...(kp.configPath === undefined ? {} : { configPath: kp.configPath }),
      ...(kp.readPath === undefined ? {} : { readPath: kp.readPath }),
      ...(kp.note === undefined ? {} : { note: kp.note }),
    },
    files: entries,
    written,
    missing: entries
      .filter((e) => e.status !== 'written')
      .map((e) => ({ file: e.file, reason: e.reason ?? e.status })),
  };
  let manifestWritten = true;
  let manifestText = `${JSON.stringify(manifest, null, 2)}\n`;
  let shown: CollectManifest = manifest;
  if (opts.redact) {
    const r = await redactBundle(contents, host, opts.redactKey);
    contents.clear();
    for (const [file, text] of r.files) {
      await writeFileAtomic(join(dir, file), text, BUNDLE_FILE_MODE);
      contents.set(file, text);
    }
    const fn = (f: string): string => r.redactor.fileName(f);
    const named = {
      ...manifest,
      files: manifest.files.map((e) => ({ ...e, file: fn(e.file) })),
      written: manifest.written.map(fn),
      missing: manifest.missing.map((m) => ({ ...m, file: fn(m.file) })),
      redacted: true,
    };
    manifestText = r.redactor.text(`${JSON.stringify(named, null, 2)}\n`);
    // What the caller prints is the redacted manifest too.
    shown = JSON.parse(manifestText) as CollectManifest;
    progress(
      `Redacted ${r.redactor.counts.addresses} addresses and ${r.redactor.counts.names} names (the mapping is not kept)`,
    );
  }
  try {
    await writeFileAtomic(join(dir, 'kdiag-collect.json'), manifestText, BUNDLE_FILE_MODE);
    contents.set('kdiag-collect.json', manifestText);
  } catch (err) {
    manifestWritten = false;
    progress(`can't write kdiag-collect.json: ${(err as Error).message}`);
  }
  if (opts.tar && written.length > 0) {
    const archive = `${target}.tar.gz`;
    await refuseExisting(archive);
    try {
      await writeFileAtomic(
        archive,
        bundleArchiveBytes(basename(target), contents, started),
        BUNDLE_FILE_MODE,
      );
    } catch (err) {
      throw new EnvironmentError(
        'KDIAG_ENVIRONMENT',
        `can't write ${archive}: ${(err as Error).message}; the bundle folder ${dir} is kept`,
        'choose a writable place with --out DIR',
      );
    }
    await staged.discard();
    return { dir: target, manifest: shown, written: written.length, manifestWritten, archive };
  }
  await staged.commit();
  return { dir: target, manifest: shown, written: written.length, manifestWritten };
}

/** The bundle's files redacted with one keyed Redactor (HMAC-SHA256; a random key unless given). */
async function redactBundle(
  files: ReadonlyMap<string, string>,
  host: string,
  keyHex: string | undefined,
): Promise<{ files: Map<string, string>; redactor: Redactor }> {
  const key = keyHex === undefined ? randomBytes(32) : Buffer.from(keyHex, 'hex');
  const hash = (s: string): number => createHmac('sha256', key).update(s).digest().readUInt32BE(0);
  return redactFiles(files, host, hash);
}

/** An archive is never written over something there, a link included (lstat: a dangling link counts). */
async function refuseExisting(archive: string): Promise<void> {
  const there = await lstat(archive).then(
    () => true,
    () => false,
  );
  if (there)
    throw new UsageError(
      `${archive} exists`,
      'give a new name with --out DIR (the archive is DIR.tar.gz)',
    );
}

/** The .tar.gz of a bundle: every file under the folder's own name, so `tar xzf` gives the folder back (pure). */
export function bundleArchiveBytes(
  folderName: string,
  files: ReadonlyMap<string, string>,
  at: Date,
): Buffer {
  const mtime = Math.floor(at.getTime() / 1000);
  const names = [...files.keys()].sort();
  return gzipSync(
    tarBytes(
      names.map((n) => ({
        name: `${folderName}/${n}`,
        data: Buffer.from(files.get(n)!, 'utf8'),
        mode: BUNDLE_FILE_MODE,
        mtime,
      })),
    ),
  );
}

/**
 * Writes `<dir>.tar.gz` atomically (a new file, never through a link) from the files collected,
 * then removes the folder's files, which the archive now holds. On failure the folder stays.
 */
export async function writeBundleArchive(
  dir: string,
  files: ReadonlyMap<string, string>,
  at: Date,
): Promise<string> {
  const archive = `${dir}.tar.gz`;
  await refuseExisting(archive);
  try {
    await writeFileAtomic(archive, bundleArchiveBytes(basename(dir), files, at), BUNDLE_FILE_MODE);
  } catch (err) {
    throw new EnvironmentError(
      'KDIAG_ENVIRONMENT',
      `can't write ${archive}: ${(err as Error).message}; the bundle folder ${dir} is kept`,
      'choose a writable place with --out DIR',
    );
  }
  for (const name of files.keys()) await rm(join(dir, name), { force: true });
  await rmdir(dir).catch(() => undefined);
  return archive;
}
