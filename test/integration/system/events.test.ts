import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import { DOCKER, startBerth, type Berth } from '../harness';
import { waitFor, waitForEvents } from '../wait';

type Event = { Type: string; Action: string; Actor: { ID: string; Attributes: Record<string, string> }; status?: string; id?: string; from?: string; time: number; timeNano: number };

describe('docker events', () => {
  let berth: Berth;
  let since: string;
  let until: string;
  let cid: string;
  before(async () => {
    berth = await startBerth();
    since = String(Math.floor(Date.now() / 1000) - 1);
    cid = berth.ok(['create', '--name', 'ev-one', '--label', 'team=a', 'busybox', 'sh', '-c', 'exit 3']).trim();
    berth.docker(['start', '-a', 'ev-one']);
    berth.ok(['rename', 'ev-one', 'ev-renamed']);
    berth.ok(['rm', 'ev-renamed']);
    berth.ok(['tag', 'busybox', 'evtag:1']);
    berth.ok(['rmi', 'evtag:1']);
    berth.ok(['network', 'create', 'evnet']);
    berth.ok(['network', 'rm', 'evnet']);
    berth.ok(['volume', 'create', 'evvol']);
    berth.ok(['run', '--rm', '-v', 'evvol:/data', 'busybox', 'true']);
    berth.ok(['volume', 'rm', 'evvol']);
    // The last event is in the history before `until` is taken.
    await waitForEvents(berth, since, ['type=volume', 'volume=evvol', 'event=destroy']);
    until = (Date.now() / 1000).toFixed(9);
  });
  after(async () => {
    await berth?.cleanup();
  });

  const replay = (...filters: string[]): Event[] =>
    berth
      .ok(['events', '--since', since, '--until', until, '--format', '{{json .}}', ...filters.flatMap((f) => ['--filter', f])])
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Event);

  it('replays a container life with dockerd\'s actions, attributes and legacy fields', () => {
    const mine = replay(`container=${cid}`);
    assert.deepEqual(mine.map((e) => e.Action), ['create', 'attach', 'start', 'die', 'rename', 'destroy']);
    const die = mine.find((e) => e.Action === 'die')!;
    assert.equal(die.Type, 'container');
    assert.equal(die.Actor.ID, cid);
    assert.equal(die.Actor.Attributes.exitCode, '3');
    assert.equal(die.Actor.Attributes.image, 'busybox');
    assert.equal(die.Actor.Attributes.team, 'a');
    assert.equal(die.status, 'die');
    assert.equal(die.id, cid);
    assert.equal(die.from, 'busybox');
    assert.ok(String(die.timeNano).startsWith(String(die.time)));
    assert.equal(mine.find((e) => e.Action === 'rename')!.Actor.Attributes.oldName, '/ev-one');
  });

  it('filters by type, event, name, label and image', () => {
    const dies = replay('type=container', 'event=die');
    assert.ok(dies.length >= 1 && dies.every((e) => e.Type === 'container' && e.Action === 'die'));
    assert.ok(dies.some((e) => e.Actor.ID === cid));
    assert.deepEqual(replay('container=ev-one', 'event=create').map((e) => e.Actor.ID), [cid]);
    assert.deepEqual(replay('label=team=a', 'event=start').map((e) => e.Actor.ID), [cid]);
    assert.equal(replay('label=team=b').length, 0);
    assert.ok(replay('image=busybox', 'type=container').length >= 5);
    const images = replay('type=image');
    assert.deepEqual(images.filter((e) => e.Actor.Attributes.name === 'evtag:1').map((e) => e.Action), ['tag', 'untag']);
    assert.deepEqual(replay('type=network', 'network=evnet').map((e) => e.Action), ['create', 'destroy']);
    const vol = replay('type=volume', 'volume=evvol');
    assert.deepEqual(vol.map((e) => e.Action), ['create', 'mount', 'unmount', 'destroy']);
    assert.equal(vol[1].Actor.Attributes.destination, '/data');
  });

  it('streams new events as they happen, filtered', async () => {
    const proc = spawn(DOCKER, ['-H', `unix://${berth.socket}`, 'events', '--filter', 'container=ev-live', '--filter', 'container=ev-probe', '--format', '{{.Actor.Attributes.name}} {{.Action}}'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (d) => (out += d));
    try {
      // Subscribed once a probe container's events come through (a live stream replays nothing).
      await waitFor(() => {
        berth.docker(['rm', '-f', 'ev-probe']);
        berth.ok(['create', '--name', 'ev-probe', 'busybox', 'true']);
        return out.includes('ev-probe create');
      }, { what: 'the event stream to deliver', interval: 200 });
      berth.ok(['run', '--rm', '--name', 'ev-live', 'busybox', 'true']);
      await waitFor(() => out.includes('ev-live destroy'), { what: 'the destroy event' });
      const live = out.trim().split('\n').filter((l) => l.startsWith('ev-live '));
      assert.deepEqual(live.map((l) => l.slice('ev-live '.length)), ['create', 'attach', 'start', 'die', 'destroy']);
    } finally {
      proc.kill();
      berth.docker(['rm', '-f', 'ev-probe']);
    }
  });

  it('rejects an unknown filter with dockerd\'s message, and dockerode reads the stream', async () => {
    const bad = berth.docker(['events', '--filter', 'colour=red', '--since', since, '--until', until]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /invalid filter 'colour'/);
    const docker = new Docker({ socketPath: berth.socket });
    const stream = (await docker.getEvents({ since: Number(since), until: Math.ceil(Number(until)), filters: { event: ['destroy'], type: ['container'] } })) as NodeJS.ReadableStream;
    let text = '';
    for await (const chunk of stream) text += chunk.toString();
    assert.ok(text.trim().split('\n').map((l) => JSON.parse(l) as Event).some((e) => e.Actor.ID === cid));
  });
});
