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
