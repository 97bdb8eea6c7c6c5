/**
 * A large generated board source for the parser's linearity test and benchmark: `n` labelled
 * sibling nodes, each with a `reg` and a phandle reference to another node (so labels,
 * node lookups, references and phandle allocation all scale with n).
 */
export function wideTreeSource(n: number): string {
  const parts = ['/dts-v1/;\n/ {\n\t#address-cells = <1>;\n\t#size-cells = <1>;\n'];
  for (let i = 0; i < n; i++) parts.push(`\tn${i}: node@${i.toString(16)} { reg = <0x${i.toString(16)} 0x10>; r = <&n${(i * 7) % n}>; };\n`);
  parts.push('};\n');
  return parts.join('');
}
