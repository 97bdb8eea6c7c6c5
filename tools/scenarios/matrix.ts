/**
 * The patch-level matrix: for each profile (every patch prefix 0..10, the series without
 * patch 02, rfc-v4 and mainline), which VFIO ioctls the pl330-vfio-test program got to
 * and what they returned, and where the scenario stopped, compared with the expected
 * matrix (docs/PROFILES.md: what the RFC v4 series of February 2014 does at each patch).
 */
import type { StepName } from '../../guest-tests/pl330-vfio-test/main.js';
import { OUTCOME_TEXT, type Outcome } from './expected.js';
import { runPl330 } from './pl330.js';

export const MATRIX_PROFILES = [
  'baseline',
  'patches:1',
  'patches:1-2',
  'patches:1-3',
  'patches:1-4',
  'patches:1-5',
  'patches:1-6',
  'patches:1-7',
  'patches:1-8',
  'patches:1-9',
  'patches:1-10',
  'patches:1,3-10',
  'rfc-v4',
  'mainline',
] as const;

/** the ioctls (and syscalls) the program issues, by the step that issues them */
export const MATRIX_COLUMNS: Array<{ step: StepName; label: string }> = [
  { step: 'api-version', label: 'GET_API_VERSION' },
  { step: 'check-extension', label: 'CHECK_EXTENSION(TYPE1)' },
  { step: 'open-group', label: 'open(/dev/vfio/N)' },
  { step: 'group-viable', label: 'GROUP_GET_STATUS' },
  { step: 'set-container', label: 'GROUP_SET_CONTAINER' },
  { step: 'set-iommu', label: 'SET_IOMMU' },
  { step: 'iommu-info', label: 'IOMMU_GET_INFO' },
  { step: 'map-dma', label: 'IOMMU_MAP_DMA' },
  { step: 'device-fd', label: 'GROUP_GET_DEVICE_FD' },
  { step: 'device-info', label: 'DEVICE_GET_INFO' },
  { step: 'region-info', label: 'DEVICE_GET_REGION_INFO' },
  { step: 'mmap-region', label: 'mmap(region)' },
  { step: 'irq-info', label: 'DEVICE_GET_IRQ_INFO' },
  { step: 'set-irqs', label: 'DEVICE_SET_IRQS' },
  { step: 'interrupt', label: 'interrupt' },
  { step: 'teardown', label: 'SET_IRQS(teardown)' },
];

export interface MatrixRow {
  profile: string;
  /** per column: 'ok', 'fail' or '-' (not reached) */
  ioctls: Record<string, 'ok' | 'fail' | '-'>;
  outcome: Outcome;
  expected: Outcome;
  stopsAt: string;
  matches: boolean;
  virtualTimeNs: number;
}

export function computeMatrix(seed = 1, accel?: boolean, bootargs?: string): MatrixRow[] {
  return MATRIX_PROFILES.map((profile) => {
    const r = runPl330({ profile, board: 'vexpress-vfio', seed, accel, bootargs });
    const ioctls: MatrixRow['ioctls'] = {};
    for (const c of MATRIX_COLUMNS) {
      const s = r.steps.find((x) => x.step === c.step);
      ioctls[c.label] = s === undefined ? '-' : s.ok ? 'ok' : 'fail';
    }
    const outcome = r.outcome as Outcome;
    return {
      profile: r.profile,
      ioctls,
      outcome,
      expected: r.expected as Outcome,
      stopsAt: OUTCOME_TEXT[outcome],
      matches: r.passed,
      virtualTimeNs: r.virtualTimeNs,
    };
  });
}

export function formatMatrix(rows: readonly MatrixRow[]): string {
  const short = (l: string): string => l.replace('DEVICE_', '').replace('GROUP_', 'G_').replace('IOMMU_', 'I_').replace('(/dev/vfio/N)', '(grp)');
  const cols = MATRIX_COLUMNS.map((c) => c.label);
  const head = ['profile'.padEnd(15), ...cols.map((c) => short(c)), 'stops at', 'expected?'];
  const lines = [head.join(' | ')];
  for (const r of rows) {
    const cells = cols.map((c) => {
      const v = r.ioctls[c]!;
      return (v === 'ok' ? 'ok' : v === 'fail' ? 'FAIL' : '-').padEnd(short(c).length);
    });
    lines.push([r.profile.padEnd(15), ...cells, r.stopsAt, r.matches ? 'yes' : `NO (expected: ${OUTCOME_TEXT[r.expected]})`].join(' | '));
  }
  return lines.join('\n');
}
