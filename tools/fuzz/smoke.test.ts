import { it } from 'vitest';
import { runCampaign, runProgram } from './engine.js';
import { SETUP_PREFIX } from './arb.js';
it('smoke', () => {
  for (const profile of ['rfc-v4', 'mainline']) {
    const t = performance.now();
    const r0 = runProgram(profile, SETUP_PREFIX, { transcript: true });
    console.log(profile, 'prefix', performance.now() - t, r0.finding, r0.harness.transcript);
    const r = runCampaign({ profile, seed: 42, runs: 100 });
    console.log(profile, r.runs, r.execs, r.elapsedMs, JSON.stringify(r.findings.map((f) => [f.sig, f.message.slice(0, 300), f.transcript]), null, 1));
    console.log(JSON.stringify(r.coverage));
  }
});
