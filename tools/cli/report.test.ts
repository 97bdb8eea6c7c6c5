import { describe, expect, it } from 'vitest';
import '../scenarios/index.js';
import { getScenario } from '../scenarios/registry.js';
import { JSON_FAULTS, SUMMARY_FAULTS, summaryLines, toJson } from './report.js';

describe('run reports with many faults', () => {
  it('the human summary lists the first 50 faults and the last, --json the first 1,000 and the last, with faultCount the total', () => {
    const r = getScenario('pl330-vfio-test')!.run({ profile: 'rfc-v4', board: 'vexpress-vfio', seed: 1 });
    expect(toJson(r)['faultCount']).toBe(0);
    const many = { ...r, faults: Array.from({ length: 1200 }, (_, i) => ({ t: i, source: 'smmu', kind: 'context-fault', detail: `fault ${i}` })) };
    const lines = summaryLines(many);
    const listed = lines.filter((l) => l.startsWith('  fault: '));
    expect(listed).toHaveLength(SUMMARY_FAULTS + 1);
    expect(listed[SUMMARY_FAULTS]).toMatch(/fault 1199$/);
    expect(lines).toContain(`  ... ${1200 - SUMMARY_FAULTS - 1} more faults (--json has the first ${JSON_FAULTS} and the last)`);
    const j = toJson(many);
    expect(j['faultCount']).toBe(1200);
    expect((j['faults'] as unknown[]).length).toBe(JSON_FAULTS + 1);
    expect((j['faults'] as { detail: string }[])[999]!.detail).toBe('fault 999');
    expect((j['faults'] as { detail: string }[])[1000]!.detail).toBe('fault 1199');
  });
});
