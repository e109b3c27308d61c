import { randomInt } from 'node:crypto';
import { Secret } from '../../core/secret.js';

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const DIGITS = '0123456789';
const ALPHABET = LOWER + UPPER + DIGITS;

/**
 * A strong mailbox password that needs no URI or JSON escaping: [A-Za-z0-9] only, with every
 * class present so cPanel's strength meter never refuses it. ~142 bits at 24 characters.
 */
export function generatePassword(length = 24): Secret {
  if (length < 12) throw new Error('password length below 12');
  for (;;) {
    let value = '';
    for (let i = 0; i < length; i += 1) value += ALPHABET[randomInt(ALPHABET.length)];
    if (/[a-z]/.test(value) && /[A-Z]/.test(value) && /[0-9]/.test(value)) return new Secret(value);
  }
}
