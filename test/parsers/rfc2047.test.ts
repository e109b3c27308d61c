import { describe, expect, it } from 'vitest';
import { decodeEncodedWords } from '../../src/parsers/rfc2047.js';

describe('RFC 2047 encoded words', () => {
  it('decodes B and Q words so encodings of one subject compare equal', () => {
    expect(decodeEncodedWords('=?UTF-8?B?WW91ciBwYXJjZWw=?=')).toBe('Your parcel');
    expect(decodeEncodedWords('=?utf-8?Q?Your_parcel?=')).toBe('Your parcel');
    expect(decodeEncodedWords('=?iso-8859-1?Q?Caf=E9?= menu')).toBe('Café menu');
    // Whitespace between two encoded words goes; around plain text it stays.
    expect(decodeEncodedWords('=?UTF-8?Q?Your?= =?UTF-8?Q?_parcel?=')).toBe('Your parcel');
  });

  it('leaves unknown charsets, bad base64 and plain text as written', () => {
    expect(decodeEncodedWords('=?x-nonsense?B?QUJD?=')).toBe('=?x-nonsense?B?QUJD?=');
    expect(decodeEncodedWords('=?utf-8?B?***?=')).toBe('=?utf-8?B?***?=');
    expect(decodeEncodedWords('Invoice 4471')).toBe('Invoice 4471');
  });
});
