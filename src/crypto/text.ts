/**
 * UTF-8 is only lossless for well-formed strings: `Buffer.from('\uD800')` silently becomes U+FFFD,
 * so a lone surrogate would alter a sealed value and make two different strings (`'\uD800'` and
 * `'\uFFFD'`) encode, and therefore authenticate or index, alike.
 */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * True when `value` contains an unpaired UTF-16 surrogate.
 *
 * @internal Shared by the envelope and blind-index modules.
 */
export function hasLoneSurrogate(value: string): boolean {
  return LONE_SURROGATE.test(value);
}
