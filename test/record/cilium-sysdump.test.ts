// A cilium sysdump read directly: the zip is built here (python3's zipfile and tarfile) from the
// fixtures, laid out as cilium-cli's sysdump names its files (record/cilium-sysdump.ts).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARCHIVE_LIMITS } from '../../src/record/archive-reader.js';
import { ciliumSysdumpFiles, isCiliumSysdumpName } from '../../src/record/cilium-sysdump.js';
import { analyzeInput } from '../../src/services/analyze-input.js';
import { readFileSync } from 'node:fs';

const TOOLS = fileURLToPath(new URL('../../fixtures/tools/cilium/', import.meta.url));
const TS = '20261103-142000';

const PY = String.raw`
import io, sys, tarfile, zipfile
out, ct, cm = sys.argv[1], sys.argv[2], sys.argv[3]
def tgz(files):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w:gz") as t:
        for name, data in files:
            i = tarfile.TarInfo(name); i.size = len(data); i.mtime = 1793715600
            t.addfile(i, io.BytesIO(data))
    return b.getvalue()
ts = "${TS}"
root = "cilium-sysdump-" + ts + "/"
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr(root + "cilium-configmap-" + ts + ".yaml", open(cm, "rb").read())
    z.writestr(root + "k8s-version-" + ts + ".txt", "Client Version: v1.31.2\n")
    z.writestr(root + "cilium-bugtool-cilium-x7k2p-" + ts + ".tar.gz", tgz([
        ("cilium-bugtool-20261103-142001/cmd/cilium-dbg-bpf-ct-list-global.md", open(ct, "rb").read()),
        ("cilium-bugtool-20261103-142001/cmd/cilium-dbg-status---verbose.md", b"KVStore: Disabled\n"),
    ]))
    z.writestr(root + "cilium-bugtool-cilium-q9m4d-" + ts + ".tar.gz", tgz([
        ("cilium-bugtool-20261103-142003/cmd/uname--a.md", b"Linux node\n"),
    ]))
`;

describe('cilium sysdump', () => {
  let dir: string;
  let zip: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kdiag-sysdump-'));
    zip = join(dir, `cilium-sysdump-${TS}.zip`);
    const py = join(dir, 'make.py');
    writeFileSync(py, PY);
    execFileSync('python3', [
      py,
      zip,
      join(TOOLS, 'ct-list-global.txt'),
      join(TOOLS, 'cilium-configmap.yaml'),
    ]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('knows the sysdump file names', () => {
    expect(isCiliumSysdumpName(`cilium-configmap-${TS}.yaml`)).toBe(true);
    expect(isCiliumSysdumpName(`x/cilium-bugtool-cilium-x7k2p-${TS}.tar.gz`)).toBe(true);
    expect(isCiliumSysdumpName('cilium-config.yaml')).toBe(false);
  });

  it('finds the ConfigMap and the CT list inside the bugtool archive', () => {
    const sd = ciliumSysdumpFiles(readFileSync(zip), 'zip', ARCHIVE_LIMITS);
    expect([...sd.files.keys()].sort()).toEqual(['cilium-config.yaml', 'cilium-ct.txt']);
    expect(sd.files.get('cilium-ct.txt')?.text).toBe(
      readFileSync(join(TOOLS, 'ct-list-global.txt'), 'utf8'),
    );
    expect(sd.files.get('cilium-ct.txt')?.from).toContain('cmd/cilium-dbg-bpf-ct-list-global.md');
    expect(sd.notes).toEqual([
      `cilium-sysdump-${TS}/cilium-bugtool-cilium-q9m4d-${TS}.tar.gz: no bpf ct list in the bugtool archive`,
    ]);
  });

  it('reads as a bundle: the entries, the timeouts, and what the listing lacks', async () => {
    const r = await analyzeInput(zip, {});
    expect(r.issues).toEqual([]);
    const read = new Map(r.inputs.map((i) => [i.name, i.read]));
    expect(read.get('cilium-ct.txt')).toBe('9 Cilium CT entries without -d');
    expect(read.get('cilium-config.yaml')).toBe('9 Cilium CT settings');
    expect(r.missing.map((m) => m.input)).toContain('Cilium CT list with -d (remaining seconds)');
    expect(r.notices.some((n) => n.includes('cilium-bugtool-cilium-x7k2p'))).toBe(false);
    expect(r.notices.some((n) => n.includes('q9m4d') && n.includes('no bpf ct list'))).toBe(true);
  });
});
