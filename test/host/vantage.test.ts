// The warning when kdiag does not see the node: another network namespace, or missing capabilities.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { readVantageWarning, vantageWarning } from '../../src/host/vantage.js';

const run = promisify(execFile);
const HOST_PID = 'pid:[4026531836]';
const ALL = '000001ffffffffff';

describe('vantageWarning', () => {
  it('is silent on the host with every capability', () => {
    expect(
      vantageWarning({ pidNs: HOST_PID, selfNet: 'net:[1]', initNet: 'net:[1]', capEff: ALL }),
    ).toBeUndefined();
  });

  it("names another network namespace when pid 1 is the host's init", () => {
    expect(
      vantageWarning({ pidNs: HOST_PID, selfNet: 'net:[2]', initNet: 'net:[1]', capEff: ALL }),
    ).toBe(
      "warning: kdiag runs not in the host's network namespace: tables read are this namespace's, not the node's",
    );
  });

  it("says it can't tell inside a container's PID namespace, and names missing capabilities", () => {
    // Docker's default set: no CAP_NET_ADMIN, CAP_SYS_ADMIN or CAP_SYS_PTRACE.
    expect(
      vantageWarning({
        pidNs: 'pid:[4026532999]',
        selfNet: 'net:[2]',
        initNet: 'net:[2]',
        capEff: '00000000a80425fb',
      }),
    ).toBe(
      "warning: kdiag runs not in the host's PID namespace: can't tell whether this is the node's network namespace; without CAP_NET_ADMIN, CAP_SYS_ADMIN, CAP_SYS_PTRACE: some reads fail or come back partial",
    );
  });

  it("says it can't tell when pid 1's network namespace cannot be read, instead of staying silent", () => {
    expect(vantageWarning({ pidNs: HOST_PID, selfNet: 'net:[1]', capEff: ALL })).toBe(
      "warning: kdiag can't read /proc/1/ns/net (not root, hidepid, or a restricted container): can't tell whether this is the node's network namespace",
    );
    expect(vantageWarning({ capEff: ALL })).toMatch(
      /^warning: kdiag can't read its own namespace links \(\/proc\/self\/ns\): can't tell/,
    );
    expect(vantageWarning({ pidNs: HOST_PID, selfNet: 'net:[1]', capEff: '0' })).toBe(
      "warning: kdiag can't read /proc/1/ns/net (not root, hidepid, or a restricted container): can't tell whether this is the node's network namespace; runs without CAP_NET_ADMIN, CAP_SYS_ADMIN, CAP_SYS_PTRACE: some reads fail or come back partial",
    );
    expect(
      vantageWarning({ pidNs: HOST_PID, selfNet: 'net:[1]', initNet: 'net:[1]', capEff: '0' }),
    ).toBe(
      'warning: kdiag runs without CAP_NET_ADMIN, CAP_SYS_ADMIN, CAP_SYS_PTRACE: some reads fail or come back partial',
    );
  });

  it('reads a /proc where pid 1 is hidden (hidepid) and says it cannot tell', async () => {
    const proc = mkdtempSync(join(tmpdir(), 'kdiag-vantage-'));
    try {
      mkdirSync(join(proc, 'self', 'ns'), { recursive: true });
      writeFileSync(join(proc, 'self', 'status'), `Name:\tnode\nCapEff:\t${ALL}\n`);
      // Namespace links are symlinks to text like pid:[N]: readlink gives the text back.
      symlinkSync(HOST_PID, join(proc, 'self', 'ns', 'pid'));
      symlinkSync('net:[4026531833]', join(proc, 'self', 'ns', 'net'));
      expect(await readVantageWarning(proc)).toMatch(/can't read \/proc\/1\/ns\/net/);
      mkdirSync(join(proc, '1', 'ns'), { recursive: true });
      symlinkSync('net:[4026531833]', join(proc, '1', 'ns', 'net'));
      expect(await readVantageWarning(proc)).toBeUndefined();
    } finally {
      rmSync(proc, { recursive: true, force: true });
    }
  });

  // Some sandboxes hide pid 1's namespace links even from root: nothing to compare with there.
  const pid1Visible = (() => {
    try {
      return readlinkSync('/proc/1/ns/net') !== '';
    } catch {
      return false;
    }
  })();
  it.skipIf(process.getuid?.() !== 0 || !pid1Visible)(
    'sees a real other netns (unshare --net)',
    async () => {
      const mod = new URL('../../dist/src/host/vantage.js', import.meta.url).pathname;
      const { stdout } = await run('unshare', [
        '--net',
        process.execPath,
        '-e',
        `import(${JSON.stringify(mod)}).then((m) => m.readVantageWarning()).then((w) => console.log(w ?? 'none'))`,
      ]);
      expect(stdout.trim()).toContain("not in the host's network namespace");
    },
  );
});
