/**
 * Bytes to a JS string, one character per byte (the model's user buffers hold Latin-1 /
 * ASCII text: console writes, sysfs stores). `String.fromCharCode.apply` over the typed
 * array itself: spreading it (`fromCharCode(...b)`) goes through the array iterator, an
 * object per byte batch and several times slower (issue 19). Pieces of 8 KiB keep the
 * argument count small.
 */
export function latin1(b: Uint8Array): string {
  const n = b.length;
  if (n <= LATIN1_PIECE) return String.fromCharCode.apply(null, b as unknown as number[]);
  let s = '';
  for (let i = 0; i < n; i += LATIN1_PIECE) s += String.fromCharCode.apply(null, b.subarray(i, Math.min(n, i + LATIN1_PIECE)) as unknown as number[]);
  return s;
}

const LATIN1_PIECE = 8192;
