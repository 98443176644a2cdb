import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  netnsScope,
  parseNsLink,
  parsePodCgroup,
  parsePodCgroupLine,
  parsePodLogDir,
  parseSocketLink,
  podNetns,
  readOwners,
  type OwnersTable,
} from '../../src/host/owners.js';
import { ownersSource, ownersToLines } from '../../src/sources/owners.js';

const CID = '3f1b5c9e2a7d4f6081b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718';
const UID = '0f5b7c2e-4d3a-4b1c-9e8f-7a6b5c4d3e2f';
const UID_ = UID.replace(/-/g, '_');
const STATIC_UID = '6b4c9e2f0a1d4e5f8a7b6c5d4e3f2a1b';

describe('parsePodCgroupLine', () => {
  it.each([
    [
      'v1 cgroupfs containerd, burstable',
      `12:pids:/kubepods/burstable/pod${UID}/${CID}`,
      { podUid: UID, qos: 'burstable', driver: 'cgroupfs', containerId: CID },
    ],
    [
      'v1 cgroupfs, guaranteed (no qos level)',
      `4:memory:/kubepods/pod${UID}/${CID}`,
      { podUid: UID, qos: 'guaranteed', driver: 'cgroupfs', containerId: CID },
    ],
    [
      'v2 cgroupfs, besteffort',
      `0::/kubepods/besteffort/pod${UID}/${CID}`,
      { podUid: UID, qos: 'besteffort', driver: 'cgroupfs', containerId: CID },
    ],
    [
      'v1 systemd docker',
      `11:memory:/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID_}.slice/docker-${CID}.scope`,
      { podUid: UID, qos: 'burstable', driver: 'systemd', containerId: CID, runtime: 'docker' },
    ],
    [
      'v2 systemd containerd',
      `0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${UID_}.slice/cri-containerd-${CID}.scope`,
      {
        podUid: UID,
        qos: 'besteffort',
        driver: 'systemd',
        containerId: CID,
        runtime: 'containerd',
      },
    ],
    [
      'v2 systemd cri-o, guaranteed',
      `0::/kubepods.slice/kubepods-pod${UID_}.slice/crio-${CID}.scope`,
      { podUid: UID, qos: 'guaranteed', driver: 'systemd', containerId: CID, runtime: 'cri-o' },
    ],
    [
      'v2 systemd cri-o conmon',
      `0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID_}.slice/crio-conmon-${CID}.scope`,
      {
        podUid: UID,
        qos: 'burstable',
        driver: 'systemd',
        containerId: CID,
        runtime: 'cri-o',
        conmon: true,
      },
    ],
    [
      'kind (kubelet cgroup root, nested)',
      `0::/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod${UID_}.slice/cri-containerd-${CID}.scope`,
      {
        podUid: UID,
        qos: 'besteffort',
        driver: 'systemd',
        containerId: CID,
        runtime: 'containerd',
      },
    ],
    [
      'pod-level cgroup (no container)',
      `0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID_}.slice`,
      { podUid: UID, qos: 'burstable', driver: 'systemd' },
    ],
    [
      'static pod (32-hex config hash)',
      `0::/kubepods/burstable/pod${STATIC_UID}/${CID}`,
      { podUid: STATIC_UID, qos: 'burstable', driver: 'cgroupfs', containerId: CID },
    ],
  ])('%s', (_name, line, expected) => {
    expect(parsePodCgroupLine(line)).toEqual(expected);
  });

  it.each([
    ['host service', '0::/system.slice/containerd.service'],
    ['user session', '0::/user.slice/user-0.slice/session-1.scope'],
    ['cgroup namespace root', '0::/'],
    ['v1 named hierarchy', '1:name=systemd:/'],
    ['not a uid', `0::/kubepods/burstable/podnot-a-uid/${CID}`],
    ['mixed separators', `0::/kubepods/burstable/pod0f5b7c2e-4d3a_4b1c-9e8f-7a6b5c4d3e2f/${CID}`],
    ['pod segment not under a qos level', `0::/kubepods/other/pod${UID}/${CID}`],
    ['empty', ''],
  ])('no pod: %s', (_name, line) => {
    expect(parsePodCgroupLine(line)).toBeUndefined();
  });
});

describe('parsePodCgroup (whole file)', () => {
  it('reads the pod from a cgroup v1 file whose first lines say nothing', () => {
    const v1 = [
      '12:hugetlb:/',
      '11:memory:/kubepods/burstable/pod' + UID + '/' + CID,
      '1:name=systemd:/kubepods/burstable/pod' + UID + '/' + CID,
      '',
    ].join('\n');
    expect(parsePodCgroup(v1)?.podUid).toBe(UID);
  });
  it('returns undefined for a host process', () => {
    expect(parsePodCgroup('0::/system.slice/kubelet.service\n')).toBeUndefined();
  });
});

describe('parsePodLogDir', () => {
  it.each([
    [
      `kube-system_coredns-5d78c9869d-7xk2p_${UID}`,
      { namespace: 'kube-system', name: 'coredns-5d78c9869d-7xk2p', uid: UID },
    ],
    [
      `kube-system_kube-apiserver-control-plane_${STATIC_UID}`,
      { namespace: 'kube-system', name: 'kube-apiserver-control-plane', uid: STATIC_UID },
    ],
    [`default_web.v2-0_${UID}`, { namespace: 'default', name: 'web.v2-0', uid: UID }],
  ])('%s', (dir, expected) => {
    expect(parsePodLogDir(dir)).toEqual(expected);
  });
  it.each([
    'foo_bar',
    `Default_web_${UID}`,
    `default_web_not-a-uid`,
    `a_b_c_${UID}`,
    `default_web_${UID_}`,
    '',
  ])('rejects %j', (dir) => {
    expect(parsePodLogDir(dir)).toBeUndefined();
  });
});

describe('link parsing', () => {
  it('reads netns and socket inodes', () => {
    expect(parseNsLink('net:[4026531840]')).toBe(4026531840);
    expect(parseNsLink('mnt:[4026531840]')).toBeUndefined();
    expect(parseNsLink('net:[]')).toBeUndefined();
    expect(parseSocketLink('socket:[21444]')).toBe(21444);
    expect(parseSocketLink('pipe:[21444]')).toBeUndefined();
    expect(parseSocketLink('/dev/null')).toBeUndefined();
  });
});

describe('readOwners on a fake /proc tree', () => {
  let root: string;
  let table: OwnersTable;
  let namedIno: number;
  const HOST = 4026531840;
  const POD_NS = 4026532500;
  const UID2 = '11111111-2222-3333-4444-555555555555';

  function proc(
    pid: number,
    p: { net: number; comm: string; cmdline: string; cgroup: string; fds?: Record<string, string> },
  ): void {
    const d = join(root, 'proc', String(pid));
    mkdirSync(join(d, 'ns'), { recursive: true });
    mkdirSync(join(d, 'fd'));
    symlinkSync(`net:[${p.net}]`, join(d, 'ns', 'net'));
    writeFileSync(join(d, 'comm'), `${p.comm}\n`);
    writeFileSync(join(d, 'cmdline'), p.cmdline);
    writeFileSync(join(d, 'cgroup'), p.cgroup);
    for (const [fd, target] of Object.entries(p.fds ?? {})) symlinkSync(target, join(d, 'fd', fd));
  }

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'kdiag-owners-'));
    mkdirSync(join(root, 'run-netns'));
    writeFileSync(join(root, 'run-netns', 'kdiag-x'), '');
    namedIno = statSync(join(root, 'run-netns', 'kdiag-x')).ino;
    mkdirSync(join(root, 'pods', `default_web-0_${UID}`), { recursive: true });
    proc(1, { net: HOST, comm: 'systemd', cmdline: '/sbin/init\0', cgroup: '0::/init.scope\n' });
    proc(2, { net: HOST, comm: 'kthreadd', cmdline: '', cgroup: '0::/\n' });
    proc(100, {
      net: POD_NS,
      comm: 'pause',
      cmdline: '/pause\0',
      cgroup: `0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${UID_}.slice/cri-containerd-${CID}.scope\n`,
      fds: { '0': '/dev/null' },
    });
    proc(101, {
      net: POD_NS,
      comm: 'nginx',
      cmdline: 'nginx\0',
      cgroup: `0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${UID_}.slice/cri-containerd-${'a'.repeat(64)}.scope\n`,
      fds: { '3': 'socket:[888]', '4': 'pipe:[5]', '5': 'socket:[777]' },
    });
    proc(200, {
      net: HOST,
      comm: 'node-exporter',
      cmdline: 'node_exporter\0',
      cgroup: `0::/kubepods/burstable/pod${UID2}/${CID}\n`,
      fds: { '7': 'socket:[999]' },
    });
    proc(300, { net: namedIno, comm: 'nc', cmdline: 'nc\0-l\0', cgroup: '0::/user.slice\n' });
    table = await readOwners({
      paths: {
        proc: join(root, 'proc'),
        runNetns: join(root, 'run-netns'),
        podLogs: join(root, 'pods'),
      },
    });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('maps processes to netns, pods and sockets, skipping kernel threads', () => {
    expect(table.pids.map((p) => p.pid)).toEqual([1, 100, 101, 200, 300]);
    const nginx = table.pids.find((p) => p.pid === 101)!;
    expect(nginx).toMatchObject({
      comm: 'nginx',
      netns: POD_NS,
      podUid: UID,
      containerId: 'a'.repeat(64),
      runtime: 'containerd',
      sockets: [777, 888],
    });
  });

  it('names pods from the kubelet log folders and marks hostNetwork pods', () => {
    expect(table.pods).toEqual([
      {
        type: 'pod',
        uid: UID,
        namespace: 'default',
        name: 'web-0',
        qos: 'besteffort',
        netns: [POD_NS],
        hostNetwork: false,
      },
      { type: 'pod', uid: UID2, qos: 'burstable', netns: [HOST], hostNetwork: true },
    ]);
  });

  it('lists named and process netns with a pid to enter by', () => {
    const host = table.netns.find((n) => n.ino === HOST)!;
    expect(host).toMatchObject({ host: true, pids: [1, 200], pods: [UID2] });
    const pod = table.netns.find((n) => n.ino === POD_NS)!;
    expect(pod).toMatchObject({
      host: false,
      names: [],
      pids: [100, 101],
      pods: [UID],
      enterPid: 100,
    });
    const named = table.netns.find((n) => n.ino === namedIno)!;
    expect(named).toMatchObject({ names: ['kdiag-x'], pids: [300] });
    expect(podNetns(table).map((n) => n.ino)).toEqual([POD_NS]);
  });

  it('gives each netns a scope usable in a source id and a bundle file name', () => {
    const scope = (ino: number): string =>
      netnsScope(
        table.netns.find((n) => n.ino === ino)!,
        table.pods,
      );
    expect(scope(POD_NS)).toBe('pod_default_web-0');
    expect(scope(namedIno)).toBe('kdiag-x');
    expect(
      netnsScope({ type: 'netns', ino: 42, names: [], host: false, pids: [], pods: [] }, []),
    ).toBe('netns_42');
    expect(
      netnsScope(
        { type: 'netns', ino: 42, names: [], host: false, pids: [], pods: [UID2] },
        table.pods,
      ),
    ).toBe(`pod_${UID2}`);
  });

  it('serialises one JSON line per netns, pod and pid, and frames them as kdiag:owners records', async () => {
    const lines = ownersToLines(table);
    expect(lines).toHaveLength(table.netns.length + table.pods.length + table.pids.length);
    expect(lines.map((l) => (JSON.parse(l) as { type: string }).type)).toContain('pod');
    const src = ownersSource({
      clock: () => 5,
      read: {
        paths: {
          proc: join(root, 'proc'),
          runNetns: join(root, 'run-netns'),
          podLogs: join(root, 'pods'),
        },
      },
    });
    const recs = [];
    for await (const r of src.records(new AbortController().signal)) recs.push(r);
    expect(recs[0]).toEqual({ t: 5, src: 'kdiag:owners', line: 'kdiag owners', k: 'begin' });
    expect(recs.at(-1)).toEqual({ t: 5, src: 'kdiag:owners', line: 'exit 0', k: 'end' });
    expect(recs.slice(1, -1).map((r) => r.line)).toEqual(lines);
    expect(src.table()?.pods).toHaveLength(2);
  });
});
