import { parseProfile, ProfileError } from '../../kernel-model/profile.js';

/**
 * A --profile value from the command line, validated (ProfileError: usage error, exit 2).
 * `patches:` with nothing after it is refused: it reads like a list cut short, not like
 * "no patches" (say `baseline` or `patches:none` for that).
 */
export function cliProfile(raw: string): string {
  if (/^\s*patches:\s*$/.test(raw)) throw new ProfileError(`empty patch list in '--profile ${raw}' (give patches:<list> such as patches:1-10, or baseline / patches:none for no patches)`);
  parseProfile(raw);
  return raw;
}
