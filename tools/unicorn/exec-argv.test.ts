import { describe, expect, it } from 'vitest';
import { guestBinary, shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { runElf } from './run.js';

/**
 * execve with an empty argv or a NULL envp, and AT_EXECFN (guest-tests/c/exec-argv.c;
 * kernel-model/exec/exec-args.ts emptyArgv, lifecycle.ts sysExecve, emulator/cpu/unicorn/elf.ts
 * buildInitialStack): 3.14 runs the program with argc 0, v6.12 with one "" and a warning in the
 * kernel log (capability `execEmptyArgv`); a NULL envp is an empty environment, AT_EXECFN the
 * name given to execve, and the strings lie argv, envp, name upwards, in both eras.
 */
const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0);

describe.skipIf(shouldSkipUnicornTests())('execve of an empty argv, a NULL envp; AT_EXECFN (exec-argv.c)', () => {
  for (const [profile, empty] of [['rfc-v4', "argc 0 argv []"], ['mainline', "argc 1 argv ['']"]] as const) {
    it(`${profile}: ${empty} for an empty argv`, () => {
      const r = runElf({ elf: guestBinary('exec-argv'), bind: null, profile });
      expect(lines(r.stdout), profile).toEqual([
        "first: argv[0] 'exec-argv' execfn '/bin/exec-argv'",
        'argv NULL, envp NULL:',
        `  ${empty} envc 0 execfn '/proc/self/exe' order good`,
        'argv {NULL}, envp {NULL}:',
        `  ${empty} envc 0 execfn '/proc/self/exe' order good`,
        'argv {x, report}, envp NULL:',
        "  argc 2 argv ['x' 'report'] envc 0 execfn '/proc/self/exe' order good",
        'argv {y, report}, envp {A=1, B=22}:',
        "  argc 2 argv ['y' 'report'] envc 2 execfn '/proc/self/exe' order good",
        'script, argv NULL, envp NULL:',
        "  argc 3 argv ['/proc/self/exe' 'report' '/tmp/argv.sh'] envc 0 execfn '/tmp/argv.sh' order good",
      ]);
      // v6.12's pr_warn_once (the caller's comm, the name given): the first empty argv of the boot only
      const warned = r.kernelLog.filter((l) => l.includes('with NULL argv'));
      expect(warned, profile).toEqual(profile === 'mainline' ? [expect.stringContaining("process 'exec-argv' launched '/proc/self/exe' with NULL argv: empty string added")] : []);
      expect(r.exitStatus, profile).toBe(0);
      expect(r.unknownSyscalls, profile).toEqual({});
    });
  }
});
