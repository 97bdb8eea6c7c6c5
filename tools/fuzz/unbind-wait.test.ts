/**
 * Unbinding a VFIO device whose fd is open: Linux's remover sleeps (3.14 vfio_del_group_dev,
 * mainline vfio_unregister_group_dev) and the device stays bound to its VFIO driver until the
 * last fd is closed (kernel-model/driver/core.ts deviceReleaseDriver, RemoveWait). Before, the
 * model unbound at once while the device waited in its group, so a host driver could bind a
 * device user space still held: guided rfc-v4 campaigns reported that as `ownership`.
 */
import { describe, expect, it } from 'vitest';
import { SECOND_GROUP, SETUP_PREFIX } from './arb.js';
import { DEVICE, DEVICE2, Harness } from './harness.js';
import type { Call } from './program.js';

const PD = '/sys/bus/platform';
const echo = (path: string, value: string): Call => ({ op: 'echo', p: 0, path, value });
const close = (i: number): Call => ({ op: 'close', p: 0, fd: { k: 'device', i } });

function setUp(profile: string): { h: Harness; driverOf: (name: string) => string | null; last: () => string } {
  const h = new Harness({ profile, transcript: true });
  for (const c of [...SETUP_PREFIX, ...SECOND_GROUP]) h.exec(c);
  const driverOf = (name: string): string | null => h.sys.kernel.driverCore.findDeviceOnAnyBus(name)!.driver?.name ?? null;
  return { h, driverOf, last: () => h.transcript.at(-1)!.ret };
}

describe('unbinding a VFIO device that is open waits for its last fd', () => {
  for (const profile of ['rfc-v4', 'mainline']) {
    it(`${profile}: test-dma stays bound to vfio-platform while its fd is open; its host driver cannot take it; the unbind completes at the close`, () => {
      const { h, driverOf, last } = setUp(profile);
      expect(driverOf(DEVICE2)).toBe('vfio-platform');
      h.exec(echo(`${PD}/drivers/vfio-platform/unbind`, DEVICE2));
      expect(last()).not.toMatch(/^-E/);
      // the remover waits: still bound, so bind_store refuses a second driver
      expect(driverOf(DEVICE2)).toBe('vfio-platform');
      h.exec(echo(`${PD}/drivers/test-dma/bind`, DEVICE2));
      expect(last()).toMatch(/^-E(NODEV|BUSY)/);
      expect(driverOf(DEVICE2)).toBe('vfio-platform');
      // a second unbind while the first waits does nothing more
      h.exec(echo(`${PD}/drivers/vfio-platform/unbind`, DEVICE2));
      expect(driverOf(DEVICE2)).toBe('vfio-platform');
      // the last fd of the device closed: the wait ends, the device leaves its group and its driver
      h.exec(close(1));
      expect(driverOf(DEVICE2)).toBeNull();
      expect(h.sys.kernel.sysfs.list(`bus/platform/drivers/vfio-platform`)).not.toContain(DEVICE2);
      // the other device was never touched
      expect(driverOf(DEVICE)).toBe(profile === 'rfc-v4' ? 'vfio-platform' : 'vfio-amba');
    });
  }

  it('rfc-v4: the sequence guided campaigns reported as `ownership` (unbind, then the host driver binds, with the device open) is clean', () => {
    const { h, driverOf } = setUp('rfc-v4');
    for (const c of [echo(`${PD}/drivers/vfio-platform/unbind`, DEVICE), echo(`${PD}/drivers/dma-pl330/bind`, DEVICE), { op: 'run', ns: 100_000 } as Call]) h.exec(c);
    expect(driverOf(DEVICE)).toBe('vfio-platform');
    expect(h.seen.map((f) => f.sig)).not.toContain('ownership');
  });

  it('rfc-v4: vfio_bind (patch 04, under device_lock) waits for the unbind too: the device goes back to vfio-platform after the close, never to a host driver', () => {
    const { h, driverOf, last } = setUp('rfc-v4');
    h.exec(echo(`${PD}/drivers/vfio-platform/unbind`, DEVICE));
    h.exec(echo(`${PD}/drivers/vfio-platform/vfio_bind`, DEVICE));
    expect(last()).not.toMatch(/^-E/);
    // the campaign's sequence: before, vfio_bind's 2014 failure path cleared dev->driver and drivers_probe bound dma-pl330
    h.exec(echo(`${PD}/drivers_probe`, DEVICE));
    expect(driverOf(DEVICE)).toBe('vfio-platform');
    expect(h.seen.map((f) => f.sig)).not.toContain('ownership');
    h.exec(close(0));
    // the unbind completed, then the waiting vfio_bind probed the unbound device: bound to VFIO again, a device of group 0 again
    expect(driverOf(DEVICE)).toBe('vfio-platform');
    expect(h.sys.vfio.groupState(0)?.devices ?? []).toContain(DEVICE);
  });

  it('a device not open unbinds at once, as before', () => {
    const { h, driverOf } = setUp('rfc-v4');
    h.exec(close(1));
    h.exec(echo(`${PD}/drivers/vfio-platform/unbind`, DEVICE2));
    expect(driverOf(DEVICE2)).toBeNull();
  });
});
