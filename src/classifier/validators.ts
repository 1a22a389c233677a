/**
 * Checksums and range rules that turn "looks like a number" into "is one": Luhn for card
 * numbers, ISO 13616 mod-97 for IBANs, the SSA's never-issued ranges for US SSNs, HMRC's unused
 * prefixes for UK NINOs, and Shannon entropy for unlabelled secrets. They keep false positives
 * down on order numbers, timestamps and ids that merely share a shape.
 */

/** Luhn check over a digit string. */
export function passesLuhn(digits: string): boolean {
  let sum = 0
  let double = false
  for (let index = digits.length - 1; index >= 0; index--) {
    let digit = digits.charCodeAt(index) - 48
    if (double) {
      digit *= 2
      if (digit > 9) digit -= 9
    }
    sum += digit
    double = !double
  }
  return sum % 10 === 0
}

/** Issuer prefixes of the major card networks (Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay). */
const CARD_PREFIX = /^(?:4|5[1-5]|2[2-7]|3[47]|3[0689]|6)/

/** A 13–19 digit card number with a known issuer prefix and a valid Luhn digit. */
export function isCardNumber(digits: string): boolean {
  return digits.length >= 13 && digits.length <= 19 && CARD_PREFIX.test(digits) && passesLuhn(digits)
}

/** ISO 13616: move the first four characters to the end, letters to numbers, mod 97 must be 1. */
export function isIban(compact: string): boolean {
  if (compact.length < 15 || compact.length > 34) return false
  const rearranged = compact.slice(4) + compact.slice(0, 4)
  let remainder = 0
  for (const char of rearranged) {
    const code = char.charCodeAt(0)
    const value = code >= 65 ? code - 55 : code - 48
    remainder = value >= 10 ? (remainder * 100 + value) % 97 : (remainder * 10 + value) % 97
  }
  return remainder === 1
}

/** US SSN: area 000, 666 and 900–999, group 00 and serial 0000 are never issued; two famous samples. */
export function isValidSsn(area: string, group: string, serial: string): boolean {
  const areaNumber = Number(area)
  if (areaNumber === 0 || areaNumber === 666 || areaNumber >= 900) return false
  if (group === '00' || serial === '0000') return false
  const whole = area + group + serial
  return whole !== '078051120' && whole !== '219099999'
}

/** UK NINO prefixes HMRC never allocates. */
const NINO_BAD_PREFIX = new Set(['BG', 'GB', 'NK', 'KN', 'TN', 'NT', 'ZZ'])

export const isValidNinoPrefix = (prefix: string): boolean => !NINO_BAD_PREFIX.has(prefix.toUpperCase())

/** Shannon entropy in bits per character. */
export function shannonEntropy(text: string): number {
  const counts = new Map<string, number>()
  for (const char of text) counts.set(char, (counts.get(char) ?? 0) + 1)
  let entropy = 0
  for (const count of counts.values()) {
    const share = count / text.length
    entropy -= share * Math.log2(share)
  }
  return entropy
}
