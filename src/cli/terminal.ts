/**
 * Text from elsewhere (a server's error message, a name another user chose) never
 * reaches the terminal as control: C0 and C1 controls, DEL and the bidirectional
 * marks and overrides that can reorder what is shown become visible escapes.
 */

/** Tab and newline pass (safeLine escapes them too); every other control does not. */
export function isUnsafe(code: number): boolean {
  if (code === 0x09 || code === 0x0a) return false;
  return (
    code < 0x20 ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x200e ||
    code === 0x200f ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  );
}

function escape(text: string, unsafe: (code: number) => boolean): string {
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    out += unsafe(code) ? `\\u{${code.toString(16)}}` : char;
  }
  return out;
}

export function safeText(text: string): string {
  return escape(text, isUnsafe);
}

/** One line: newlines, tabs and carriage returns shown as escapes too. */
export function safeLine(text: string): string {
  const named: Record<string, string> = { '\n': '\\n', '\t': '\\t', '\r': '\\r' };
  let out = '';
  for (const char of safeText(text)) out += named[char] ?? char;
  return out;
}
