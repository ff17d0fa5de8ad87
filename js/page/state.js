// The page state in the URL fragment (#s=...), so that a link reproduces the inputs and
// checks. Browsers never send the fragment in an HTTP request. The state is JSON,
// compressed with deflate-raw and written as base64url.

/** Largest fragment written, in characters; a larger state is left out of the link. */
export const MAX_FRAGMENT = 256 * 1024;

function toBase64url(bytes) {
  let binary = '';
  for (let index = 0; index < bytes.length; index += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(index, index + 0x8000));
  }
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64url(text) {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(binary, (character) => character.charCodeAt(0));
}

/** Pipes `bytes` through `stream`; stops and throws once the output passes `limit` bytes. */
async function pipe(bytes, stream, limit = Infinity) {
  const reader = new Blob([bytes]).stream().pipeThrough(stream).getReader();
  const parts = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    length += value.length;
    if (length > limit) {
      await reader.cancel();
      throw new Error('The link contains more data than the page reads.');
    }
    parts.push(value);
  }
  const output = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    output.set(part, offset);
    offset += part.length;
  }
  return output;
}

/** Returns the fragment for `state`, or null when it would be longer than MAX_FRAGMENT. */
export async function encodeState(state) {
  const json = new TextEncoder().encode(JSON.stringify(state));
  if (json.length > MAX_FRAGMENT * 8) return null;
  const fragment = `#s=${toBase64url(await pipe(json, new CompressionStream('deflate-raw')))}`;
  return fragment.length > MAX_FRAGMENT ? null : fragment;
}

/** Returns the state in `hash`, or null when there is none; throws when it is damaged. */
export async function decodeState(hash) {
  const match = /^#s=([A-Za-z0-9_-]+)$/.exec(hash);
  if (match === null) return null;
  if (hash.length > MAX_FRAGMENT) throw new Error('The link is too long to read.');
  const json = await pipe(fromBase64url(match[1]), new DecompressionStream('deflate-raw'), MAX_FRAGMENT * 64);
  const state = JSON.parse(new TextDecoder().decode(json));
  if (state === null || typeof state !== 'object') throw new Error('The link does not contain a page state.');
  return state;
}
