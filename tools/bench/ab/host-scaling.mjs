// What the host gives two processes (docs/PERFORMANCE.md "fuzz-jobs: where a job's second core
// goes once warm"): each workload kind runs alone, then two processes of it at once, and prints
// units per second; 2.0x means the two CPUs do not slow each other for that kind of work.
//   node tools/bench/ab/host-scaling.mjs [SECONDS]           # every kind, SECONDS each (default 6)
//   node tools/bench/ab/host-scaling.mjs --one KIND SECONDS  # one process of one kind (used by the above)
// Kinds: alu (an integer recurrence), js (objects, a Map, branches: the emulator's kind of work),
// sha (SHA-256 of 1 MiB), mem (a 64-MB stream: memory traffic, what two cores share).
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const KINDS = ['alu', 'js', 'sha', 'mem'];

function unitOf(kind) {
  switch (kind) {
    case 'alu':
      return () => {
        let x = 1;
        for (let i = 0; i < 1e6; i++) x = (x * 1103515245 + 12345) | 0;
        return x;
      };
    case 'js':
      return () => {
        const m = new Map();
        let s = 0;
        for (let i = 0; i < 20000; i++) {
          const o = { a: i, b: i & 7, c: [i, i + 1], d: 'k' + (i & 255) };
          m.set(o.d, o);
          const p = m.get('k' + ((i * 7) & 255));
          if (p && p.b & 1) s += p.c[1];
          else s ^= o.a;
        }
        return s;
      };
    case 'sha': {
      const buf = Buffer.alloc(1 << 20, 7);
      return () => createHash('sha256').update(buf).digest()[0];
    }
    case 'mem': {
      const big = new Float64Array(1 << 23);
      return () => {
        let s = 0;
        for (let i = 0; i < big.length; i += 8) s += big[i]++;
        return s;
      };
    }
    default:
      return null;
  }
}

function one(kind, secs) {
  const unit = unitOf(kind);
  for (let i = 0; i < 3; i++) unit();
  const t0 = performance.now();
  const end = t0 + secs * 1000;
  let n = 0;
  while (performance.now() < end) {
    unit();
    n++;
  }
  return n / ((performance.now() - t0) / 1000);
}

function child(kind, secs) {
  return new Promise((res, rej) => {
    const c = spawn(process.execPath, [fileURLToPath(import.meta.url), '--one', kind, String(secs)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.on('error', rej);
    c.on('close', (code) => (code === 0 ? res(Number(out)) : rej(new Error(`${kind}: exit ${code}`))));
  });
}

const args = process.argv.slice(2);
if (args[0] === '--one') {
  if (unitOf(args[1]) === null || !(+args[2] > 0)) {
    console.error(`usage: host-scaling.mjs --one ${KINDS.join('|')} SECONDS`);
    process.exit(2);
  }
  process.stdout.write(one(args[1], +args[2]).toFixed(2));
} else {
  const secs = args[0] === undefined ? 6 : +args[0];
  if (!(secs > 0) || args.length > 1) {
    console.error('usage: node tools/bench/ab/host-scaling.mjs [SECONDS] | --one KIND SECONDS');
    process.exit(2);
  }
  for (const k of KINDS) {
    const alone = await child(k, secs);
    const [a, b] = await Promise.all([child(k, secs), child(k, secs)]);
    console.log(`${k.padEnd(4)} alone ${alone.toFixed(1)}/s  two at once ${a.toFixed(1)} + ${b.toFixed(1)}/s  scaling ${((a + b) / alone).toFixed(2)}x`);
  }
}
