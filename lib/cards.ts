import { randomInt } from 'node:crypto';
import type { CardSeries } from './org';

// Card numbers of a series: prefix, digit count and check digit (SPEC section 3, Cards).

/** The Luhn check digit that makes `payload` + digit pass the Luhn check. */
export function luhnCheckDigit(payload: string): number {
  let sum = 0;
  // Walking from the right, every second digit of the payload (starting with its last) doubles.
  for (let i = payload.length - 1, double = true; i >= 0; i--, double = !double) {
    let digit = payload.charCodeAt(i) - 48;
    if (double) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return (10 - (sum % 10)) % 10;
}

export function passesLuhn(digits: string): boolean {
  return /^\d{2,}$/.test(digits) && luhnCheckDigit(digits.slice(0, -1)) === Number(digits.at(-1));
}

/** Why a given number does not fit the series, or undefined when it fits. */
export function cardNumberMisfit(series: CardSeries, cardNumber: string): string | undefined {
  if (!cardNumber.startsWith(series.prefix)) return `must start with ${series.prefix}`;
  const digits = cardNumber.slice(series.prefix.length);
  if (!/^\d+$/.test(digits)) return 'must be digits after the prefix';
  if (digits.length < series.minDigits || digits.length > series.maxDigits) {
    return series.minDigits === series.maxDigits
      ? `must have ${series.minDigits} digits after the prefix`
      : `must have ${series.minDigits} to ${series.maxDigits} digits after the prefix`;
  }
  if (series.checkDigit === 'luhn' && !passesLuhn(digits)) return 'has a wrong check digit';
  return undefined;
}

/** A new random number of a generating series; uniqueness is enforced by the store. */
export function generateCardNumber(series: CardSeries, random: (max: number) => number = randomInt): string {
  const length = series.maxDigits;
  const payloadLength = series.checkDigit === 'luhn' ? length - 1 : length;
  let payload = '';
  for (let i = 0; i < payloadLength; i++) payload += String(random(10));
  return series.checkDigit === 'luhn' ? `${series.prefix}${payload}${luhnCheckDigit(payload)}` : `${series.prefix}${payload}`;
}
