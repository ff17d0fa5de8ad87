// Reads JWS public keys from text: PEM blocks for one participant, a JSON map
// {fspId: PEM | [PEM | {pem, retire_after}]} as `fspiop-guard verify --keys` reads it, or
// a key-set document {format: "fspiop-guard-keyset/1", participants} as keysync serves it.
// Returns entries {participant, pem, retireAfter (unix seconds or null), source}.

/** Largest key text read at once, in characters (a key-set document of many participants). */
export const MAX_KEY_TEXT = 8 * 1024 * 1024;
/** Participant ids as FSPIOP-Source carries them: printable, without spaces. */
const PARTICIPANT = /^[\x21-\x7e\u00a0-\u00ff]{1,128}$/;

export class KeyTextError extends Error {
  constructor(message) {
    super(message);
    this.name = 'KeyTextError';
  }
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/** Returns the PEM blocks in `text`; a key damaged onto one line is still one block. */
export function pemBlocks(text) {
  return text.match(PEM_BLOCK) ?? [];
}

/** Checks a participant id and returns it trimmed. */
export function checkParticipant(value, where) {
  const participant = String(value ?? '').trim();
  if (!PARTICIPANT.test(participant)) {
    throw new KeyTextError(`${where}: the participant id ${JSON.stringify(participant.slice(0, 40))} is not a valid FSPIOP-Source value (1 to 128 printable characters, no spaces).`);
  }
  return participant;
}

function parseTime(value, where) {
  if (value === undefined || value === null) return null;
  const milliseconds = typeof value === 'string' && /^\d{4}-\d\d-\d\dT/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(milliseconds)) throw new KeyTextError(`${where}: retire_after ${JSON.stringify(String(value).slice(0, 40))} is not an RFC 3339 time.`);
  return Math.floor(milliseconds / 1000);
}

/** Reads keys from `text`; `participant` names the owner of bare PEM or JWK text. */
export function readKeyText(text, { participant, source }) {
  if (typeof text !== 'string') throw new KeyTextError(`${source}: keys must be text.`);
  if (text.length > MAX_KEY_TEXT) {
    throw new KeyTextError(`${source}: the key text is ${(text.length / 1048576).toFixed(1)} MiB, over the 8 MiB limit; paste keys, not other files.`);
  }
  const trimmed = text.trim();
  if (trimmed === '') throw new KeyTextError(`${source}: the key text is empty.`);
  if (trimmed.startsWith('{')) return readKeyJson(trimmed, { participant, source });

  const blocks = pemBlocks(trimmed);
  if (blocks.length === 0) {
    throw new KeyTextError(`${source}: no PEM block (-----BEGIN PUBLIC KEY----- … -----END PUBLIC KEY-----) and no JSON key map was found.`);
  }
  const owner = checkParticipant(participant, source);
  // A PEM ends with a line break; without it the package reports a repaired key.
  return blocks.map((pem) => ({ participant: owner, pem: `${pem}\n`, retireAfter: null, source }));
}

function readKeyJson(text, { participant, source }) {
  let value;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new KeyTextError(`${source}: the text starts with "{" but is not valid JSON: ${error.message}.`);
  }
  if (typeof value.kty === 'string') {
    return [{ participant: checkParticipant(participant, source), pem: text, retireAfter: null, source }];
  }
  let map = value;
  if (value.format !== undefined || value.participants !== undefined) {
    if (value.format !== 'fspiop-guard-keyset/1') {
      throw new KeyTextError(`${source}: the key-set format is ${JSON.stringify(value.format)}; only fspiop-guard-keyset/1 is read.`);
    }
    map = value.participants;
    if (map === null || typeof map !== 'object' || Array.isArray(map)) throw new KeyTextError(`${source}: "participants" must be an object.`);
  }
  const entries = [];
  for (const [name, keys] of Object.entries(map)) {
    const owner = checkParticipant(name, source);
    for (const [index, key] of (Array.isArray(keys) ? keys : [keys]).entries()) {
      const where = `${source}: ${owner}[${index}]`;
      if (typeof key === 'string') {
        entries.push({ participant: owner, pem: key, retireAfter: null, source });
      } else if (key !== null && typeof key === 'object' && typeof key.pem === 'string') {
        entries.push({ participant: owner, pem: key.pem, retireAfter: parseTime(key.retire_after, where), source });
      } else {
        throw new KeyTextError(`${where}: a key must be a PEM string or {"pem": "...", "retire_after"?: "..."}.`);
      }
    }
  }
  if (entries.length === 0) throw new KeyTextError(`${source}: the JSON has no keys.`);
  return entries;
}

/** Returns the participant id of a key file name such as `payerfsp.pem`, or null. */
export function participantFromFileName(name) {
  const match = /^(.+)\.(pem|crt|cer|key|pub)$/i.exec(name);
  return match === null ? null : match[1];
}
