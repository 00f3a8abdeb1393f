import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { containerName, createOptions, criLogPath, resourcesOf } from '../../../src/cri/container-config';
import { clampOomScoreAdj, oomScoreFloor } from '../../../src/cri/oom-score';
import { checkMountPropagation } from '../../../src/cri/mount-propagation';
import { CONFIG_LABEL, KIND_LABEL, SANDBOX_ID_LABEL } from '../../../src/cri/cri-labels';
import type { ContainerConfig__Output } from '../../../src/cri/generated/runtime/v1/ContainerConfig';
import type { PodSandboxConfig__Output } from '../../../src/cri/generated/runtime/v1/PodSandboxConfig';

const POD = { metadata: { name: 'web', namespace: 'prod', uid: 'u1', attempt: 0 }, log_directory: '/var/log/pods/prod_web_u1', linux: { cgroup_parent: '/kubepods/pod-u1' } } as unknown as PodSandboxConfig__Output;
const SANDBOX = { id: 'sb1', config: POD, runtimeHandler: '' };
const profiles: Record<string, string> = { '/profiles/strict.json': '{"defaultAction":"SCMP_ACT_ERRNO"}' };
const deps = {
  readProfile: (p: string) => {
    if (!(p in profiles)) throw new Error('ENOENT: no such file');
    return profiles[p];
  },
};

function config(extra: object = {}): ContainerConfig__Output {
  return { metadata: { name: 'app', attempt: 2 }, image: { image: 'busybox:latest' }, log_path: 'app/2.log', labels: { a: 'b' }, annotations: { n: 'v' }, ...extra } as unknown as ContainerConfig__Output;
}

const sc = (security_context: object) => ({ linux: { security_context } });

describe('CRI container config → engine create options', () => {
  it('names the container as containerd does and puts its log at kubelet\'s path', () => {
    const o = createOptions(config(), SANDBOX, deps);
    assert.equal(o.name, 'k8s_app_web_prod_u1_2');
    assert.equal(containerName({ name: 'x', attempt: 0 }, POD), 'k8s_x_web_prod_u1_0');
    assert.equal(o.monitorLogPath, '/var/log/pods/prod_web_u1/app/2.log');
    assert.equal(criLogPath({ ...POD, log_directory: '' }, config()), undefined);
    assert.equal(criLogPath(POD, config({ log_path: '' })), undefined);
  });

  it('joins the pod: net and ipc of the infra container, pid per the namespace options', () => {
    const own = createOptions(config(), SANDBOX, deps).hostConfig!;
    assert.deepEqual([own.NetworkMode, own.IpcMode, own.PidMode], ['container:sb1', 'container:sb1', '']);
    assert.equal(own.CgroupParent, '/kubepods/pod-u1');
    const pid = (p: string, target_id = '') => createOptions(config(sc({ namespace_options: { pid: p, target_id } })), SANDBOX, deps).hostConfig!.PidMode;
    assert.equal(pid('POD'), 'container:sb1');
    assert.equal(pid('NODE'), 'host');
    assert.equal(pid('CONTAINER'), '');
    assert.equal(pid('TARGET', 'c9'), 'container:c9');
    assert.equal(createOptions(config(), { ...SANDBOX, runtimeHandler: 'runc' }, deps).hostConfig!.Runtime, 'runc');
  });

  it('keeps the CRI data on labels', () => {
    const labels = createOptions(config(), SANDBOX, deps).config.Labels!;
    assert.equal(labels.a, 'b');
    assert.equal(labels[KIND_LABEL], 'container');
    assert.equal(labels[SANDBOX_ID_LABEL], 'sb1');
    assert.equal(JSON.parse(labels[CONFIG_LABEL]).log_path, 'app/2.log');
  });

  it('reads command as the entrypoint and args as the cmd, as kubelet means them', () => {
    const both = createOptions(config({ command: ['/bin/sh'], args: ['-c', 'echo'] }), SANDBOX, deps).config;
    assert.deepEqual([both.Entrypoint, both.Cmd], [['/bin/sh'], ['-c', 'echo']]);
    const argsOnly = createOptions(config({ command: [], args: ['x'] }), SANDBOX, deps).config;
    assert.equal(argsOnly.Entrypoint, undefined); // the image's entrypoint stays
    assert.deepEqual(argsOnly.Cmd, ['x']);
    const none = createOptions(config(), SANDBOX, deps).config;
    assert.equal(none.Entrypoint, undefined);
    assert.equal(none.Cmd, undefined);
  });

  it('carries env, working dir, stdin and tty', () => {
    const c = createOptions(config({ envs: [{ key: 'A', value: 'x=y' }], working_dir: '/w', stdin: true, stdin_once: true, tty: true }), SANDBOX, deps).config;
    assert.deepEqual(c.Env, ['A=x=y']);
    assert.equal(c.WorkingDir, '/w');
    assert.deepEqual([c.OpenStdin, c.StdinOnce, c.Tty], [true, true, true]);
  });

  it('turns mounts into binds with their propagation, and devices into the engine\'s', () => {
    const hc = createOptions(
      config({
        mounts: [
          { host_path: '/h/a', container_path: '/a', readonly: true, propagation: 'PROPAGATION_HOST_TO_CONTAINER' },
          { host_path: '/h/b', container_path: '/b', readonly: false, propagation: 'PROPAGATION_BIDIRECTIONAL' },
          { host_path: '/h/c', container_path: '/c', readonly: false, propagation: 'PROPAGATION_PRIVATE' },
        ],
        devices: [{ host_path: '/dev/fuse', container_path: '/dev/fuse', permissions: 'rw' }],
      }),
      SANDBOX,
      deps,
    ).hostConfig!;
    assert.deepEqual(hc.Binds, ['/h/a:/a:ro,rslave', '/h/b:/b:rw,rshared', '/h/c:/c:rw,rprivate']);
    assert.deepEqual(hc.Devices, [{ PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rw' }]);
  });

  it('maps Linux resources (int64 strings; zero is unset)', () => {
    const zero = { cpu_period: '0', cpu_quota: '0', cpu_shares: '0', memory_limit_in_bytes: '0', memory_swap_limit_in_bytes: '0', oom_score_adj: '0', cpuset_cpus: '', cpuset_mems: '', hugepage_limits: [], unified: {} };
    const r = resourcesOf({ cpu_period: '100000', cpu_quota: '50000', cpu_shares: '512', memory_limit_in_bytes: '67108864', memory_swap_limit_in_bytes: '134217728', oom_score_adj: '-998', cpuset_cpus: '0-1', cpuset_mems: '0', hugepage_limits: [{ page_size: '2MB', limit: '4194304' }], unified: {} });
    assert.deepEqual(r, { CpuPeriod: 100000, CpuQuota: 50000, CpuShares: 512, Memory: 67108864, MemorySwap: 134217728, OomScoreAdj: -998, CpusetCpus: '0-1', CpusetMems: '0', HugepageLimits: [{ PageSize: '2MB', Limit: 4194304 }] });
    // Below the daemon's own score without CAP_SYS_RESOURCE: raised to it.
    assert.equal(resourcesOf({ ...zero, oom_score_adj: '-997' }, -500).OomScoreAdj, -500);
    assert.equal(resourcesOf({ ...zero, oom_score_adj: '100' }, -500).OomScoreAdj, 100);
    assert.deepEqual(resourcesOf({ cpu_period: '0', cpu_quota: '0', cpu_shares: '0', memory_limit_in_bytes: '0', memory_swap_limit_in_bytes: '0', oom_score_adj: '0', cpuset_cpus: '', cpuset_mems: '', hugepage_limits: [], unified: {} }), {});
  });

  it('maps the user, groups, capabilities and flags of the security context', () => {
    const o = createOptions(
      config(sc({ run_as_user: { value: '1000' }, run_as_group: { value: '2000' }, supplemental_groups: ['3000'], privileged: false, readonly_rootfs: true, no_new_privs: true, capabilities: { add_capabilities: ['NET_ADMIN'], drop_capabilities: ['ALL'] } })),
      SANDBOX,
      deps,
    );
    assert.equal(o.config.User, '1000:2000');
    const hc = o.hostConfig!;
    assert.deepEqual(hc.GroupAdd, ['3000']);
    assert.deepEqual(hc.CapAdd, ['CAP_NET_ADMIN']);
    assert.deepEqual(hc.CapDrop, ['ALL']);
    assert.equal(hc.ReadonlyRootfs, true);
    assert.ok((hc.SecurityOpt as string[]).includes('no-new-privileges'));
    assert.equal(createOptions(config(sc({ run_as_username: 'nobody' })), SANDBOX, deps).config.User, 'nobody');
    assert.throws(() => createOptions(config(sc({ run_as_group: { value: '5' } })), SANDBOX, deps), /specified without user/);
    assert.equal(createOptions(config(sc({ privileged: true })), SANDBOX, deps).hostConfig!.Privileged, true);
  });

  it('passes masked and read-only paths as given: none when empty, as containerd', () => {
    const hc = createOptions(config(sc({ masked_paths: ['/proc/kcore'], readonly_paths: [] })), SANDBOX, deps).hostConfig!;
    assert.deepEqual(hc.MaskedPaths, ['/proc/kcore']);
    assert.deepEqual(hc.ReadonlyPaths, []);
    assert.deepEqual(createOptions(config(), SANDBOX, deps).hostConfig!.MaskedPaths, []);
  });

  it('maps seccomp profiles of v1 and the path strings of v1alpha2', () => {
    const seccomp = (security_context: object) => (createOptions(config(sc(security_context)), SANDBOX, deps).hostConfig!.SecurityOpt as string[]).find((o) => o.startsWith('seccomp='));
    assert.equal(seccomp({}), 'seccomp=unconfined');
    assert.equal(seccomp({ seccomp: { profile_type: 'RuntimeDefault' } }), 'seccomp=builtin');
    assert.equal(seccomp({ seccomp: { profile_type: 'Unconfined' } }), 'seccomp=unconfined');
    assert.equal(seccomp({ seccomp: { profile_type: 'Localhost', localhost_ref: '/profiles/strict.json' } }), `seccomp=${profiles['/profiles/strict.json']}`);
    assert.equal(seccomp({ seccomp_profile_path: 'runtime/default' }), 'seccomp=builtin');
    assert.equal(seccomp({ seccomp_profile_path: 'docker/default' }), 'seccomp=builtin');
    assert.equal(seccomp({ seccomp_profile_path: 'unconfined' }), 'seccomp=unconfined');
    assert.equal(seccomp({ seccomp_profile_path: 'localhost//profiles/strict.json' }), `seccomp=${profiles['/profiles/strict.json']}`);
    assert.throws(() => seccomp({ seccomp: { profile_type: 'Localhost', localhost_ref: '/profiles/missing.json' } }), /failed to load seccomp profile/);
    assert.throws(() => seccomp({ seccomp_profile_path: 'bogus' }), /unsupported seccomp profile/);
  });

  it('refuses a config without a name or an image', () => {
    assert.throws(() => createOptions(config({ metadata: null }), SANDBOX, deps), /metadata/);
    assert.throws(() => createOptions(config({ image: { image: '' } }), SANDBOX, deps), /image/);
  });

  it('finds the oom_score_adj floor: none with CAP_SYS_RESOURCE, else the daemon\'s own score', () => {
    const files = (capEff: string, own: string) => (p: string) => (p.endsWith('status') ? `Name:\tnode\nCapEff:\t${capEff}\n` : `${own}\n`);
    assert.equal(oomScoreFloor(files('000001ffffffffff', '-500')), undefined);
    assert.equal(oomScoreFloor(files('00000000a80425fb', '-500')), -500);
    assert.equal(oomScoreFloor(files('00000000a80425fb', '0')), 0);
    assert.equal(clampOomScoreAdj(-997, undefined), -997);
  });

  it('refuses propagation a source mount cannot give, with containerd\'s words', async () => {
    const lookup = async (path: string) => ({ mountPoint: '/', shared: path.startsWith('/shared'), slave: path.startsWith('/slave') });
    const m = (host_path: string, propagation: string) => ({ host_path, container_path: '/x', readonly: false, selinux_relabel: false, propagation }) as never;
    await checkMountPropagation([m('/shared/a', 'PROPAGATION_BIDIRECTIONAL'), m('/slave/a', 'PROPAGATION_HOST_TO_CONTAINER'), m('/private/a', 'PROPAGATION_PRIVATE')], lookup);
    await assert.rejects(checkMountPropagation([m('/slave/a', 'PROPAGATION_BIDIRECTIONAL')], lookup), /path "\/slave\/a" is mounted on "\/" but it is not a shared mount/);
    await assert.rejects(checkMountPropagation([m('/private/a', 'PROPAGATION_HOST_TO_CONTAINER')], lookup), /is not a shared or slave mount/);
  });
});
