// The DaemonSet manifest as YAML documents, its options checked.
import { stringify } from 'yaml';
import { daemonSetManifests } from '../../cluster/daemonset.js';
import { UsageError } from '../../errors.js';

export interface ManifestFlags {
  readonly image: string;
  readonly namespace: string;
  readonly hostDir: string;
  readonly segment: string;
  readonly keepDays: string;
  readonly pullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
}

/** `---`-separated YAML of the Namespace and the DaemonSet (options checked, one-line errors). */
export function daemonSetYaml(f: ManifestFlags): string {
  // RFC 1123 label: what the API server accepts as a namespace name.
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(f.namespace))
    throw new UsageError(`--namespace ${f.namespace}: not a valid namespace name`);
  if (!f.hostDir.startsWith('/') || /[\s'"$`\\]/.test(f.hostDir))
    throw new UsageError(`--host-dir ${f.hostDir}: give an absolute path without spaces or quotes`);
  // The segment goes through the shell as "$KDIAG_SEGMENT" (quoted), but keep it a duration.
  if (!/^\d+(ms|s|m|h|d)$/.test(f.segment))
    throw new UsageError(`--segment ${f.segment}: not a duration like 30m or 1h`);
  const keepDays = Number(f.keepDays);
  if (!Number.isInteger(keepDays) || keepDays < 0 || keepDays > 3650)
    throw new UsageError(`--keep-days ${f.keepDays}: not a whole number of days`);
  if (f.image === '' || /\s/.test(f.image))
    throw new UsageError(`--image ${JSON.stringify(f.image)}: not an image reference`);
  const docs = daemonSetManifests({
    image: f.image,
    namespace: f.namespace,
    hostDir: f.hostDir,
    segment: f.segment,
    keepDays,
    ...(f.pullPolicy === undefined ? {} : { pullPolicy: f.pullPolicy }),
  });
  return docs
    .map((d) => stringify(d, { lineWidth: 0, aliasDuplicateObjects: false }))
    .join('---\n');
}
