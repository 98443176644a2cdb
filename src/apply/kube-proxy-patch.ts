// A kube-proxy suggestion's KubeProxyConfiguration patch, written to a file for the user to apply
// with kubectl. kdiag never edits the cluster itself.
import { join } from 'node:path';
import { KdiagError, UsageError } from '../errors.js';
import type { Suggestion } from '../model/diagnosis.js';
import { readRegularFile, writeFileAtomic } from '../host/atomic-file.js';

export interface KubeProxyPatch {
  readonly fileName: string;
  readonly content: string;
  /** kubectl commands to print (from the suggestion, else the kubeadm-layout defaults). */
  readonly kubectl: readonly string[];
}

const looksLikeConfig = (text: string): boolean =>
  /KubeProxyConfiguration/.test(text) || /^[ \t]*[A-Za-z][A-Za-z0-9]*:[ \t]*(\S.*)?$/m.test(text);

/** Picks the patch body and kubectl lines out of a kube-proxy suggestion, or undefined if it has no patch. */
export function kubeProxyPatchOf(s: Suggestion): KubeProxyPatch | undefined {
  if (s.scope !== 'kube-proxy') return undefined;
  const isKubectl = (t: string) => /^\s*kubectl\s/.test(t);
  const body =
    s.commands.find(
      (c) =>
        !isKubectl(c.text) &&
        /KubeProxyConfiguration|config|patch|yaml/i.test(c.label) &&
        looksLikeConfig(c.text),
    ) ?? s.commands.find((c) => !isKubectl(c.text) && looksLikeConfig(c.text));
  if (body === undefined) return undefined;
  const kubectl = s.commands.filter((c) => isKubectl(c.text)).map((c) => c.text.trim());
  const fileName = `kdiag-${s.id.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 80)}.yaml`;
  return {
    fileName,
    content: `# KubeProxyConfiguration change suggested by kdiag (${s.id}).\n# ${s.title}\n${body.text.trimEnd()}\n`,
    kubectl: kubectl.length
      ? kubectl
      : [
          `kubectl -n kube-system edit configmap kube-proxy   # merge ${fileName} into config.conf`,
          'kubectl -n kube-system rollout restart daemonset kube-proxy',
        ],
  };
}

/** Writes the patch into `dir` (atomically); an existing different file is never overwritten. */
export async function writeKubeProxyPatch(
  s: Suggestion,
  dir: string,
): Promise<{ path: string; patch: KubeProxyPatch }> {
  const patch = kubeProxyPatchOf(s);
  if (patch === undefined)
    throw new UsageError(`suggestion ${s.id} carries no KubeProxyConfiguration patch to write`);
  const path = join(dir, patch.fileName);
  const existing = await readRegularFile(path);
  if (existing !== null && existing !== patch.content) {
    throw new KdiagError(
      'KDIAG_REFUSED',
      `${path} exists and differs: kdiag doesn't overwrite it`,
      { hint: 'move it aside and re-run' },
    );
  }
  if (existing === null) await writeFileAtomic(path, patch.content, 0o644);
  return { path, patch };
}
