/**
 * The argument arrays of the harness's syscalls (HarnessExec.dispatch -> syscalls.invoke):
 * one array per arity, refilled for each call instead of an array literal per call (a few
 * dozen bytes of garbage per syscall, and the addresses above 2^30 boxed in it; these arrays
 * hold doubles unboxed once one was stored). `invoke` reads its arguments during the call
 * and keeps nothing, so an array is free again when the call returns. Each arity has its own
 * array and every element is written: the `a.length` the kernel's dispatch reads (open's
 * optional mode) is the call's own, and no element of an earlier call is left behind.
 *
 * Host scratch outside every harness: the fuzzer's snapshot neither records nor restores it.
 */
const A1: number[] = [0];
const A2: number[] = [0, 0];
const A3: number[] = [0, 0, 0];
const A6: number[] = [0, 0, 0, 0, 0, 0];

export function args1(a: number): readonly number[] {
  A1[0] = a;
  return A1;
}

export function args2(a: number, b: number): readonly number[] {
  A2[0] = a;
  A2[1] = b;
  return A2;
}

export function args3(a: number, b: number, c: number): readonly number[] {
  A3[0] = a;
  A3[1] = b;
  A3[2] = c;
  return A3;
}

export function args6(a: number, b: number, c: number, d: number, e: number, f: number): readonly number[] {
  A6[0] = a;
  A6[1] = b;
  A6[2] = c;
  A6[3] = d;
  A6[4] = e;
  A6[5] = f;
  return A6;
}
