import { readFileSync, writeFileSync } from 'node:fs';
import { runCli } from './main.js';

const io = {
  out: (s: string) => process.stdout.write(s),
  err: (s: string) => process.stderr.write(s),
  writeFile: (p: string, d: string) => writeFileSync(p, d),
  readFile: (p: string) => readFileSync(p, 'utf8'),
  isTTY: Boolean(process.stdout.isTTY),
};
// a synchronous throw must land in the handler below too (not as an uncaught exception)
Promise.resolve().then(() => runCli(process.argv.slice(2), io)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`vfio-arm-emu: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 70;
  },
);
