// A `cilium sysdump` archive read as a bundle: cilium-cli's sysdump (sysdump/constants.go) writes
// the ConfigMap as `cilium-configmap-<ts>.yaml` and, per agent pod, the bugtool archive
// `cilium-bugtool-<pod>-<ts>.tar.gz`, inside which bugtool (bugtool/cmd, writeCmdToFile: the
// command with spaces as dashes, `.md`) keeps `cmd/cilium-dbg-bpf-ct-list-global.md`
// (`cilium-bpf-ct-list-global.md` before the binary was renamed). They become the bundle files
// `cilium-config.yaml` and `cilium-ct.txt`; nothing is written to disk.
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { InputError } from '../errors.js';
import {
  ARCHIVE_LIMITS,
  archiveKindOf,
  type ArchiveKind,
  type ArchiveLimits,
} from './archive-reader.js';
import { ArchiveFormatError, tarEntries, type ArchiveEntry } from './tar-entries.js';
import { zipEntries } from './zip-entries.js';

const CONFIGMAP = /(^|\/)cilium-configmap-\d{8}-\d{6}\.yaml$/;
const BUGTOOL = /(^|\/)cilium-bugtool-(.+?)-\d{8}-\d{6}\.tar(\.gz)?$/;
const CT_LIST = /(^|\/)(cilium-dbg|cilium)-bpf-ct-list-global\.md$/;

/** A name of a cilium sysdump's files, so the caller knows to look inside. */
export function isCiliumSysdumpName(name: string): boolean {
  return CONFIGMAP.test(name) || BUGTOOL.test(name);
}

export interface SysdumpFile {
  /** Where in the archive it came from (`cilium-bugtool-cilium-x7k2p-….tar.gz:…/cmd/…md`). */
  readonly from: string;
  readonly text: string;
}

/** The bundle files a sysdump holds, and what could not be read. */
export interface CiliumSysdump {
  readonly files: ReadonlyMap<string, SysdumpFile>;
  readonly notes: readonly string[];
}

function entriesOf(bytes: Buffer, kind: ArchiveKind, limits: ArchiveLimits): ArchiveEntry[] {
  if (kind === 'zip') return zipEntries(bytes, limits.maxEntries, limits.maxFileBytes);
  const tar =
    kind === 'tar.gz' ? gunzipSync(bytes, { maxOutputLength: limits.maxTotalBytes }) : bytes;
  return tarEntries(tar, limits.maxEntries);
}

/**
 * The Cilium files of a sysdump in `bytes`. Several agents' CT lists (one bugtool per node) are
 * joined into one `cilium-ct.txt`, each kept whole; the first ConfigMap is the config.
 */
export function ciliumSysdumpFiles(
  bytes: Buffer,
  kind: ArchiveKind,
  limits: ArchiveLimits,
): CiliumSysdump {
  const notes: string[] = [];
  const files = new Map<string, SysdumpFile>();
  const decoder = new TextDecoder('utf-8');
  const ct: SysdumpFile[] = [];
  let total = 0;
  const take = (e: ArchiveEntry): Buffer => {
    if (e.size > limits.maxFileBytes)
      throw new ArchiveFormatError(
        `${e.name} is ${e.size} bytes, more than the ${limits.maxFileBytes} read`,
      );
    total += e.size;
    if (total > limits.maxTotalBytes)
      throw new ArchiveFormatError(`expands beyond ${limits.maxTotalBytes} bytes`);
    return e.data();
  };
  for (const e of entriesOf(bytes, kind, limits)) {
    if (e.type !== 'file') continue;
    if (CONFIGMAP.test(e.name) && !files.has('cilium-config.yaml')) {
      files.set('cilium-config.yaml', { from: e.name, text: decoder.decode(take(e)) });
      continue;
    }
    const bt = BUGTOOL.exec(e.name);
    if (!bt) continue;
    let inner: ArchiveEntry[];
    try {
      inner = entriesOf(take(e), bt[3] ? 'tar.gz' : 'tar', limits);
    } catch (err) {
      notes.push(`${e.name}: not read (${(err as Error).message})`);
      continue;
    }
    const hit = inner.find((x) => x.type === 'file' && CT_LIST.test(x.name));
    if (!hit) {
      notes.push(`${e.name}: no bpf ct list in the bugtool archive`);
      continue;
    }
    ct.push({ from: `${e.name}:${hit.name}`, text: decoder.decode(take(hit)) });
  }
  if (ct.length > 0)
    files.set('cilium-ct.txt', {
      from: ct.map((c) => c.from).join(', '),
      text: ct.map((c) => (c.text.endsWith('\n') ? c.text : `${c.text}\n`)).join(''),
    });
  if (ct.length > 1)
    notes.push(`cilium-ct.txt joins the CT lists of ${ct.length} agents (one per node)`);
  return { files, notes };
}

/** Reads the Cilium files of a sysdump archive on disk; a damaged one is an InputError naming it. */
export async function readCiliumSysdump(path: string): Promise<CiliumSysdump> {
  const kind = archiveKindOf(path);
  if (kind === undefined) return { files: new Map(), notes: [] };
  try {
    return ciliumSysdumpFiles(await readFile(path), kind, ARCHIVE_LIMITS);
  } catch (e) {
    if (e instanceof ArchiveFormatError || e instanceof RangeError)
      throw new InputError(path, undefined, `cilium sysdump: ${e.message}`);
    throw e;
  }
}
