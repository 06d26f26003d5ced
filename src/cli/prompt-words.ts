/**
 * A prompt line as words: split on whitespace, with "double quotes" (and the escapes
 * \" \\ \n \t \u{...} that quoteName writes) and 'single quotes' keeping spaces inside
 * one word, so a name shown as "alice/beach day" can be typed back as shown.
 */
import { sispError } from '../protocol/errors.js';

const ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '"': '"',
  '\\': '\\',
  '/': '/',
};

/** Reads an escape after a backslash at `at`; returns the text and where it ends. */
function escapeAt(line: string, at: number): [string, number] {
  const next = line[at] ?? '';
  const simple = ESCAPES[next];
  if (simple !== undefined) return [simple, at + 1];
  const braced = /^u\{([0-9a-fA-F]{1,6})\}/.exec(line.slice(at));
  if (braced?.[1] !== undefined)
    return [String.fromCodePoint(parseInt(braced[1], 16)), at + braced[0].length];
  const plain = /^u([0-9a-fA-F]{4})/.exec(line.slice(at));
  if (plain?.[1] !== undefined) return [String.fromCharCode(parseInt(plain[1], 16)), at + 5];
  return [`\\${next}`, at + 1];
}

export function splitWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let at = 0;
  while (at < line.length) {
    const char = line[at] ?? '';
    if (/\s/.test(char)) {
      if (word !== undefined) words.push(word);
      word = undefined;
      at++;
    } else if (char === '"' || char === "'") {
      const end = readQuoted(line, at);
      word = (word ?? '') + end.text;
      at = end.at;
    } else {
      word = (word ?? '') + char;
      at++;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

function readQuoted(line: string, start: number): { text: string; at: number } {
  const quote = line[start];
  let text = '';
  let at = start + 1;
  while (at < line.length) {
    const char = line[at] ?? '';
    if (char === quote) return { text, at: at + 1 };
    if (char === '\\' && quote === '"') {
      const [escaped, after] = escapeAt(line, at + 1);
      text += escaped;
      at = after;
      continue;
    }
    text += char;
    at++;
  }
  throw sispError('E_BAD_REQUEST', `a quote is not closed: ${quote ?? ''}`);
}
