// What the tool prints for people goes to a terminal, which obeys escape
// sequences: a stored id or reason could clear the screen, retitle the
// window or hide what follows. Human output shows such characters as
// visible escapes; --json stays exact (JSON escapes them itself).

// C0 and C1 controls, DEL, and the bidirectional overrides and isolates that
// can make text read in another order than it is stored.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g

/** `text` with every control character written as `\uXXXX`. */
export function visible (text: string): string {
  return text.replace(UNSAFE, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`)
}
