// The warning when kdiag does not see the node: another network namespace, or missing capabilities.
import { execFile } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { vantageWarning } from '../../src/host/vantage.js';

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
