/**
 * RFC 2047 encoded words in a header value (`=?charset?B|Q?text?=`), decoded so the same
 * subject compares equal however it was encoded. Pure; unknown charsets and malformed words
 * are left as written (the text is data, never trusted).
 */

const WORD = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g;

function decodeQ(text: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '_') bytes.push(0x20);
    else if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(c.charCodeAt(0) & 0xff);
  }
  return Buffer.from(bytes);
}

function decodeWord(charset: string, encoding: string, text: string): string | null {
  const label = charset.split('*')[0]!.toLowerCase();
  let decoder;
  try {
    decoder = new TextDecoder(label);
  } catch {
    return null;
  }
  if (encoding.toUpperCase() === 'B' && !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return null;
  const bytes = encoding.toUpperCase() === 'B' ? Buffer.from(text, 'base64') : decodeQ(text);
  return decoder.decode(bytes);
}

/** The value with its encoded words decoded; whitespace between two encoded words is dropped. */
export function decodeEncodedWords(value: string): string {
  if (!value.includes('=?')) return value;
  let out = '';
  let last = 0;
  let previousWasWord = false;
  for (const m of value.matchAll(WORD)) {
    const between = value.slice(last, m.index);
    const decoded = decodeWord(m[1]!, m[2]!, m[3]!);
    out += previousWasWord && decoded !== null && /^\s*$/.test(between) ? '' : between;
    out += decoded ?? m[0];
    previousWasWord = decoded !== null;
    last = m.index + m[0].length;
  }
  return out + value.slice(last);
}
