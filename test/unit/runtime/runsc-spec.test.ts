import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addRunscSpec, NETWORK_ANNOTATION, startWrapperScript } from '../../../src/runtime/runsc';
import type { RuntimeSpec } from '../../../src/runtime/types';

const withNetns = (netns?: { path?: string }): RuntimeSpec => ({
  annotations: { other: 'kept' },
  linux: { namespaces: [{ type: 'mount' }, ...(netns ? [{ type: 'network', ...netns }] : [])] },
});

describe('runsc spec additions', () => {
  it("keeps runsc's own network stack for a namespace that is the container's alone", () => {
    const spec = withNetns({ path: '/run/berth/netns/c1' });
    addRunscSpec(spec, { sharedNetns: false });
    assert.deepEqual(spec.annotations, { other: 'kept' });
  });

  it('uses runsc host mode for the host network and for another container\'s namespace', () => {
    const host = withNetns();
    addRunscSpec(host, { sharedNetns: false });
    assert.deepEqual(host.annotations, { other: 'kept', [NETWORK_ANNOTATION]: 'host' });
    const shared = withNetns({ path: '/proc/42/ns/net' });
    addRunscSpec(shared, { sharedNetns: true });
    assert.equal(shared.annotations?.[NETWORK_ANNOTATION], 'host');
  });

  it('gives --network none a loopback of its own (runsc none mode)', () => {
    const spec: RuntimeSpec = { linux: { namespaces: [{ type: 'network' }] } };
    addRunscSpec(spec, { sharedNetns: false });
    assert.deepEqual(spec.annotations, { [NETWORK_ANNOTATION]: 'none' });
  });

  it('writes a start wrapper that hides /proc/sys/net in a private mount namespace and execs runsc', () => {
    const text = startWrapperScript("/opt/it's/runsc", { unshare: '/usr/bin/unshare', sh: '/bin/sh', mount: '/bin/mount' });
    assert.match(text, /^#!\/bin\/sh\n/);
    assert.match(text, /exec '\/usr\/bin\/unshare' --mount --propagation private '\/bin\/sh' -c /);
    assert.match(text, /-t tmpfs -o ro,size=4k,mode=0555 berth-hidden \/proc\/sys\/net && exec "\$0" "\$@"/);
    assert.match(text, /'\/opt\/it'\\''s\/runsc' "\$@"\n$/);
  });
});
