// The size limits of ngrok's pod identity variables (seed document), in UTF-8 bytes.
export const MAX_ID_BYTES = 36;
export const MAX_NAME_BYTES = 255;
export const MAX_NAMESPACE_BYTES = 63;
/** Annotation keys and values together. */
export const MAX_ANNOTATION_BYTES = 1024;

export const DEFAULT_ANNOTATION_PREFIXES: readonly string[] = ['k8s.ngrok.com/'];

export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * IPs considered per pod. Kubernetes allows two (one per family); a forged pod listing
 * thousands must not cost quadratic time or claim thousands of addresses.
 */
export const MAX_POD_IPS = 16;

/** Lone UTF-16 surrogates (which UTF-8 cannot carry) become U+FFFD, so byte counts are exact. */
export function wellFormed(text: string): string {
  return LONE_SURROGATE.test(text) ? text.replace(LONE_SURROGATES, '\uFFFD') : text;
}
// With the `u` flag a surrogate class matches only surrogates that are not part of a pair.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
const LONE_SURROGATES = /[\uD800-\uDFFF]/gu;
