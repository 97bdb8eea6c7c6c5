/**
 * IOMMU-group scenarios (docs/SCENARIOS.md): what keeps a host driver off a group user space
 * holds (bind-while-owned), and what two masters with one stream id do to isolation
 * (shared-stream-id). Expected outcomes follow the profile's capabilities
 * (groupOwnershipGuard, groupingRule).
 */
import { groupOwner, rebindHost, type BindWhileOwnedShared } from '../../guest-tests/negative/bind-while-owned.js';
import { newSharedSidState, SHARED_TDMA as SHARED_TDMA_NAME, sharedSidAdmin, sharedSidUser } from '../../guest-tests/negative/shared-stream-id.js';
import { parseProfile, type Profile } from '../../kernel-model/profile.js';
import type { Outcome } from './expected.js';
import { PL330_DEVICE } from './pl330.js';
import { registerScenario, type Scenario, type ScenarioOptions, type ScenarioResult } from './registry.js';
import { adminBind, bindMethodFor, bootSystem, finishResult, runThreads, splitLines } from './runner.js';

/** GFSR.SMCF (IHI 0062, sGFSR bit 2) */
const GFSR_SMCF = 1 << 2;

/**
 * 2014: the group notifier's BUG; mainline: the unbind of the group's last VFIO device revokes
 * the group (`vfioGroupRevoke`, vfio_device_remove_group: detached from the container, DMA
 * ownership released), so the host driver's bind goes through; a kernel that kept the group
 * owned would refuse the bind with -EBUSY (iommu_device_use_default_domain)
 */
export function expectedBindWhileOwned(p: Profile): Outcome {
  if (p.caps.groupOwnershipGuard === 'bug-on') return 'bug:group-notifier';
  return p.caps.vfioGroupRevoke ? 'bound:group-revoked' : 'refused:bind-busy';
}

export function expectedSharedStreamId(p: Profile): Outcome {
  return p.caps.groupingRule === 'per-device' ? 'hole:shared-stream-id' : 'isolated:one-group';
}

export function runBindWhileOwned(o: ScenarioOptions): ScenarioResult {
  const profile = parseProfile(o.profile);
  const sys = bootSystem(o);
  const admin = adminBind(sys, PL330_DEVICE);
  const shared: BindWhileOwnedShared = { ownerReady: false, adminDone: false, bindResult: null, statusAfter: null };
  const owner = sys.spawn('owner', (s) => groupOwner(s, admin.result?.groupPath ?? '/dev/vfio/0', shared), { stdio: true });
  const hasOverride = profile.caps.driverOverride;
  const root = sys.spawn('admin', (s) => rebindHost(s, PL330_DEVICE, 'dma-pl330', hasOverride, shared, admin.result?.bus ?? 'platform'), { stdio: true });
  const run = runThreads(sys, [owner.thread, root.thread]);
  const output = [...admin.output, ...splitLines(owner.proc.stdout), ...splitLines(root.proc.stdout)];
  if (root.thread.exit?.trap) output.push(`[admin killed: ${root.thread.exit.trap.message}]`);
  if (run.reason === 'stopped' && run.detail) output.push(`[machine stopped: ${run.detail}]`);
  const bug = sys.kernel.log.grep(/^kernel BUG at drivers\/vfio\/vfio\.c/).length > 0;
  let outcome: Outcome;
  if (bug && run.reason === 'stopped') outcome = 'bug:group-notifier';
  else if (shared.bindResult === -16) outcome = 'refused:bind-busy';
  else if (shared.bindResult === 0 && shared.statusAfter === -19 && run.reason === 'predicate') outcome = 'bound:group-revoked';
  else if (run.reason !== 'predicate') outcome = 'timeout';
  else outcome = 'fail:exit-status';
  return finishResult(
    sys,
    { scenario: 'bind-while-owned', profile: profile.name, board: sys.machine.file, seed: o.seed, expected: expectedBindWhileOwned(profile), outcome, output, exitStatus: root.thread.exit?.status ?? null },
    run,
  );
}

export function runSharedStreamId(o: ScenarioOptions): ScenarioResult {
  const profile = parseProfile(o.profile);
  // its output quotes the SMMU walks of the trace: always kept
  const sys = bootSystem({ ...o, trace: { enabled: true, keep: true } }, 'vexpress-vfio-shared-group');
  const st = newSharedSidState();
  const admin = sys.spawn('admin', (s) => sharedSidAdmin(s, bindMethodFor(profile), st), { stdio: true });
  const user = sys.spawn('user', (s) => sharedSidUser(s, st), { stdio: true });
  const run = runThreads(sys, [admin.thread, user.thread]);
  // the two transcripts: the administrator's, then the user's
  const output = [...splitLines(admin.proc.stdout), ...splitLines(user.proc.stdout)];
  const smmu = sys.kernel.drivers.armSmmu.first;
  const smcf = (smmu?.globalFaults ?? []).some((f) => (f.gfsr & GFSR_SMCF) !== 0);
  const groups = sys.kernel.iommu.groups().map((g) => `${g.id}: ${g.devices.map((d) => d.name).join(' ')}`);
  output.push(`[iommu groups: ${groups.join('; ')}]`);
  // the hole in the trace: the SMMU walks for the host's own DMA (stream id 1 of the
  // host-owned master) in the user's context bank
  const ev = sys.machine.tracer.events;
  const start = ev.findIndex((e) => e.src === SHARED_TDMA_NAME && e.kind === 'dma-start');
  if (start >= 0) {
    for (const e of ev.slice(start)) {
      if (e.src === SHARED_TDMA_NAME && (e.kind === 'dma-done' || e.kind === 'dma-error')) break;
      if (e.kind === 'smmu-walk') output.push(`[trace: host DMA of ${SHARED_TDMA_NAME}: smmu-walk sid ${String(e.f['sid'])} va 0x${Number(e.f['va']).toString(16)} cb ${String(e.f['cb'])} pa 0x${Number(e.f['pa']).toString(16)}]`);
    }
  }
  output.push(`[host selftest: ${st.hostResult ?? '-'}; stream match conflict (sGFSR.SMCF): ${smcf ? 'yes' : 'no'}]`);
  let outcome: Outcome;
  const userErr = st.copyStatus !== null && (st.copyStatus & 4) !== 0;
  if (st.viable1 && st.landed && st.hostResult === 'mismatch' && smcf && userErr) outcome = 'hole:shared-stream-id';
  else if (!st.viable1 && st.hostResult === 'ok' && st.copyOk && !smcf) outcome = 'isolated:one-group';
  else if (run.reason !== 'predicate') outcome = 'timeout';
  else outcome = 'fail:exit-status';
  return finishResult(
    sys,
    { scenario: 'shared-stream-id', profile: profile.name, board: sys.machine.file, seed: o.seed, expected: expectedSharedStreamId(profile), outcome, output, exitStatus: user.thread.exit?.status ?? null },
    run,
  );
}

const bindWhileOwned: Scenario = {
  name: 'bind-while-owned',
  description: 'a group is in use by user space and its device is bound to a host driver: 2014 kernel BUG in the vfio group notifier (the machine stops); mainline revokes the group with its last VFIO device, so the host driver binds and the owner\'s GET_STATUS is -ENODEV',
  profiles: ['rfc-v4', 'mainline'],
  accepts: ['board'],
  run: (o) => runBindWhileOwned(o),
};

const sharedStreamId: Scenario = {
  name: 'shared-stream-id',
  description: 'two masters with one stream id: 2014 gives them two groups, so the host-owned master\'s DMA goes through the user\'s IOVA space and attaching both raises the SMMU stream match conflict; mainline groups them',
  profiles: ['rfc-v4', 'mainline'],
  accepts: [],
  run: (o) => runSharedStreamId(o),
};

for (const s of [bindWhileOwned, sharedStreamId]) registerScenario(s);
