// JSON text rewriting that keeps the parsed value, used to mimic what happens to a body in
// transit (re-indented by a proxy, re-encoded by a non-JS client, ...).
//
// The text is parsed into a syntax tree that keeps every token as written (string escapes,
// number spelling, member order, duplicate members), the tree is rewritten, and then printed
// back. Each mutation returns whether it changed anything, so a case only records what it did.
//
// Invariant, checked by `assertSameReserialisation`: the output re-serialised with sorted keys
// equals the input re-serialised the same way. Only property order may change (reordered or
// moved duplicate members), and only on purpose.

const NUMBER_TOKEN = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const WHITESPACE = /[ \t\r\n]*/y;

/**
 * Parses JSON text into a tree of
 * `{kind: 'object', members: [{key: rawStringToken, value}]}`, `{kind: 'array', items}`
 * or `{kind: 'string' | 'number' | 'literal', raw}`.
 * Throws a SyntaxError on anything that is not a single JSON value.
 */
export function parseJsonText(text) {
  const parser = { text, position: 0 };
  const value = parseValue(parser);
  skipWhitespace(parser);
  if (parser.position !== text.length) {
    throw new SyntaxError(`unexpected text at offset ${parser.position}`);
  }
  return value;
}

function skipWhitespace(parser) {
  WHITESPACE.lastIndex = parser.position;
  WHITESPACE.exec(parser.text);
  parser.position = WHITESPACE.lastIndex;
}

function parseValue(parser) {
  skipWhitespace(parser);
  const { text } = parser;
  const start = parser.position;
  const first = text[start];

  if (first === '{') {
    return parseObject(parser);
  }
  if (first === '[') {
    return parseArray(parser);
  }
  if (first === '"') {
    return { kind: 'string', raw: parseStringToken(parser) };
  }
  for (const literal of ['true', 'false', 'null']) {
    if (text.startsWith(literal, start)) {
      parser.position += literal.length;
      return { kind: 'literal', raw: literal };
    }
  }
  NUMBER_TOKEN.lastIndex = start;
  const match = NUMBER_TOKEN.exec(text);
  if (match) {
    parser.position = NUMBER_TOKEN.lastIndex;
    return { kind: 'number', raw: match[0] };
  }
  throw new SyntaxError(`unexpected character ${JSON.stringify(first)} at offset ${start}`);
}

function expectCharacter(parser, character) {
  skipWhitespace(parser);
  if (parser.text[parser.position] !== character) {
    throw new SyntaxError(`expected ${JSON.stringify(character)} at offset ${parser.position}`);
  }
  parser.position += 1;
}

function parseObject(parser) {
  expectCharacter(parser, '{');
  const members = [];
  skipWhitespace(parser);
  if (parser.text[parser.position] === '}') {
    parser.position += 1;
    return { kind: 'object', members };
  }
  for (;;) {
    skipWhitespace(parser);
    const key = parseStringToken(parser);
    expectCharacter(parser, ':');
    members.push({ key, value: parseValue(parser) });
    skipWhitespace(parser);
    const next = parser.text[parser.position];
    parser.position += 1;
    if (next === '}') {
      return { kind: 'object', members };
    }
    if (next !== ',') {
      throw new SyntaxError(`expected "," or "}" at offset ${parser.position - 1}`);
    }
  }
}

function parseArray(parser) {
  expectCharacter(parser, '[');
  const items = [];
  skipWhitespace(parser);
  if (parser.text[parser.position] === ']') {
    parser.position += 1;
    return { kind: 'array', items };
  }
  for (;;) {
    items.push(parseValue(parser));
    skipWhitespace(parser);
    const next = parser.text[parser.position];
    parser.position += 1;
    if (next === ']') {
      return { kind: 'array', items };
    }
    if (next !== ',') {
      throw new SyntaxError(`expected "," or "]" at offset ${parser.position - 1}`);
    }
  }
}

/** Returns the raw string token (quotes and escapes as written) starting at the position. */
function parseStringToken(parser) {
  const { text } = parser;
  const start = parser.position;
  if (text[start] !== '"') {
    throw new SyntaxError(`expected a string at offset ${start}`);
  }
  let position = start + 1;
  while (position < text.length) {
    const character = text[position];
    if (character === '\\') {
      position += 2;
    } else if (character === '"') {
      parser.position = position + 1;
      return text.slice(start, position + 1);
    } else {
      position += 1;
    }
  }
  throw new SyntaxError(`unterminated string starting at offset ${start}`);
}

/**
 * Prints a tree back to JSON text. With `layout` null the output is compact. Otherwise
 * `{indent, newline, afterColon}` give the whitespace to insert.
 */
export function printJsonText(node, layout = null) {
  const parts = [];
  printNode(node, layout, 0, parts);
  return parts.join('');
}

function printNode(node, layout, depth, parts) {
  if (node.kind === 'object' || node.kind === 'array') {
    const [open, close] = node.kind === 'object' ? ['{', '}'] : ['[', ']'];
    const children = node.kind === 'object' ? node.members : node.items;
    if (children.length === 0) {
      parts.push(open, close);
      return;
    }
    const innerBreak = layout ? layout.newline + layout.indent.repeat(depth + 1) : '';
    const outerBreak = layout ? layout.newline + layout.indent.repeat(depth) : '';
    parts.push(open);
    children.forEach((child, index) => {
      parts.push(index === 0 ? innerBreak : `,${innerBreak}`);
      if (node.kind === 'object') {
        parts.push(child.key, ':', layout ? layout.afterColon : '');
        printNode(child.value, layout, depth + 1, parts);
      } else {
        printNode(child, layout, depth + 1, parts);
      }
    });
    parts.push(outerBreak, close);
    return;
  }
  parts.push(node.raw);
}

/** Calls `visit(node)` for every node, parents before children. */
function walk(node, visit) {
  visit(node);
  if (node.kind === 'object') {
    for (const member of node.members) {
      walk(member.value, visit);
    }
  } else if (node.kind === 'array') {
    for (const item of node.items) {
      walk(item, visit);
    }
  }
}

/** Layouts a proxy or a pretty-printing client might produce. */
export const PRETTY_LAYOUTS = [
  { name: 'two-space', indent: '  ', newline: '\n', afterColon: ' ' },
  { name: 'tab-crlf', indent: '\t', newline: '\r\n', afterColon: '' },
  { name: 'four-space', indent: '    ', newline: '\n', afterColon: ' ' },
  { name: 'single-line-spaced', indent: '', newline: ' ', afterColon: ' ' },
];

/** Shuffles the members of some objects. Changes JS property order of non-index keys. */
export function reorderMembers(tree, rng) {
  let changed = false;
  walk(tree, (node) => {
    if (node.kind !== 'object' || node.members.length < 2 || !rng.chance(0.5)) {
      return;
    }
    const before = node.members.map((member) => member.key).join('\u0000');
    rng.shuffle(node.members);
    changed ||= node.members.map((member) => member.key).join('\u0000') !== before;
  });
  return changed;
}

const STALE_VALUES = ['"stale"', '0', 'null', 'true', '{"old":1}', '[1,2]', '""', '-1.5'];

/**
 * Inserts, before some members, an earlier member with the same key and a different value
 * (the key possibly spelt with other escapes). JSON.parse keeps the last value but the
 * position of the first occurrence, so a copy inserted right before the original keeps
 * property order and a copy moved to the front of the object does not.
 * Returns `{inPlace, moved}` counts.
 */
export function duplicateMembers(tree, rng) {
  const counts = { inPlace: 0, moved: 0 };
  walk(tree, (node) => {
    if (node.kind !== 'object' || node.members.length === 0 || !rng.chance(0.3)) {
      return;
    }
    const index = rng.int(0, node.members.length - 1);
    const original = node.members[index];
    const key = rng.chance(0.3) ? escapeJsonString(JSON.parse(original.key), rng, 0.5) : original.key;
    const stale = { key, value: parseJsonText(rng.pick(STALE_VALUES)) };
    const moveToFront = index > 0 && rng.chance(0.4);
    node.members.splice(moveToFront ? 0 : index, 0, stale);
    if (moveToFront) {
      counts.moved += 1;
    } else {
      counts.inPlace += 1;
    }
  });
  return counts;
}

/**
 * Writes every non-ASCII UTF-16 unit of every string and key as \uXXXX (surrogate pairs as
 * two escapes), sometimes escapes "/" as "\/" and some plain ASCII letters too.
 */
export function escapeNonAscii(tree, rng) {
  let changed = false;
  const rewrite = (raw) => {
    const escaped = escapeJsonString(JSON.parse(raw), rng, 0.03);
    changed ||= escaped !== raw;
    return escaped;
  };
  walk(tree, (node) => {
    if (node.kind === 'string') {
      node.raw = rewrite(node.raw);
    } else if (node.kind === 'object') {
      for (const member of node.members) {
        member.key = rewrite(member.key);
      }
    }
  });
  return changed;
}

/**
 * Encodes a string as a JSON string token that escapes everything outside printable ASCII.
 * `asciiEscapeRate` is the share of other ASCII characters that get a needless \u00XX escape.
 */
function escapeJsonString(value, rng, asciiEscapeRate) {
  const upperHex = rng.chance(0.5);
  const hex = (unit) => {
    const digits = unit.toString(16).padStart(4, '0');
    return `\\u${upperHex ? digits.toUpperCase() : digits}`;
  };
  let out = '"';
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    if (unit === 0x22) {
      out += '\\"';
    } else if (unit === 0x5c) {
      out += '\\\\';
    } else if (unit === 0x2f && rng.chance(0.5)) {
      out += '\\/';
    } else if (unit < 0x20 || unit > 0x7e || rng.chance(asciiEscapeRate)) {
      out += hex(unit);
    } else {
      out += value[i];
    }
  }
  return `${out}"`;
}

/** Rewrites some numbers in another spelling of the same double (`100` as `1.00E+2`, ...). */
export function rewriteNumbers(tree, rng) {
  let changed = false;
  walk(tree, (node) => {
    if (node.kind !== 'number' || !rng.chance(0.6)) {
      return;
    }
    const forms = nonCanonicalNumberForms(node.raw);
    if (forms.length > 0) {
      node.raw = rng.pick(forms);
      changed = true;
    }
  });
  return changed;
}

/**
 * Returns other JSON spellings of a number that JSON.parse turns into a double that
 * JSON.stringify prints exactly as it prints the original (so `-0` counts as `0`).
 */
export function nonCanonicalNumberForms(raw) {
  const target = JSON.stringify(JSON.parse(raw));
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(raw);
  if (!match) {
    return [];
  }
  const [, sign, integerPart, fractionPart = '', exponentText = '0'] = match;
  const allDigits = integerPart + fractionPart;
  const digits = allDigits.replace(/^0+/, '').replace(/0+$/, '');
  const candidates = [];

  if (digits === '') {
    candidates.push('-0', '0.0', '0e0', '0E+5', '-0.000');
  } else {
    // value = 0.<digits> x 10^pointExponent
    const leadingZeros = allDigits.length - allDigits.replace(/^0+/, '').length;
    const pointExponent = Number(exponentText) + integerPart.length - leadingZeros;
    const scientificExponent = pointExponent - 1;
    const mantissaTail = digits.slice(1);
    candidates.push(`${sign}${digits[0]}.${mantissaTail || '0'}e${scientificExponent}`);
    candidates.push(`${sign}${digits[0]}.${mantissaTail}00E${scientificExponent < 0 ? '' : '+'}${scientificExponent}`);
    candidates.push(`${sign}${digits}e${pointExponent - digits.length}`);
    candidates.push(`${sign}0.${digits}e${pointExponent}`);
    if (pointExponent > -25 && pointExponent < 40) {
      candidates.push(sign + plainDecimal(digits, pointExponent));
    }
    // A 1 far past the 17th significant digit normally rounds away. The filter below drops the
    // candidate in the rare case where it does not.
    candidates.push(`${sign}0.${digits}${'0'.repeat(Math.max(0, 20 - digits.length))}1e${pointExponent}`);
    const value = Math.abs(Number(raw));
    if (Number.isInteger(value) && value >= 2 ** 53 && value < 1e21) {
      const exact = BigInt(value);
      candidates.push(`${sign}${exact + 1n}`, `${sign}${exact - 1n}`);
    }
  }

  const forms = candidates.filter(
    (candidate) => candidate !== raw && JSON_NUMBER.test(candidate) && JSON.stringify(JSON.parse(candidate)) === target,
  );
  return [...new Set(forms)];
}

function plainDecimal(digits, pointExponent) {
  if (pointExponent <= 0) {
    return `0.${'0'.repeat(-pointExponent)}${digits}`;
  }
  if (pointExponent >= digits.length) {
    return `${digits}${'0'.repeat(pointExponent - digits.length)}.0`;
  }
  return `${digits.slice(0, pointExponent)}.${digits.slice(pointExponent)}0`;
}

const OVERFLOWING_NUMBERS = ['1e400', '-1E+999', '2e308'];

/**
 * Replaces some `null` literals with a number too large for a double. JSON.parse gives
 * +/-Infinity, which JSON.stringify (and both SDK stringifiers) print as `null` again, so the
 * SDK validators still accept. The parsed value differs, but its re-serialisation does not.
 */
export function overflowNulls(tree, rng) {
  let changed = false;
  walk(tree, (node) => {
    if (node.kind === 'literal' && node.raw === 'null' && rng.chance(0.5)) {
      node.raw = rng.pick(OVERFLOWING_NUMBERS);
      changed = true;
    }
  });
  return changed;
}

/**
 * Changes one leaf value (or adds a member) so that the parsed value really differs.
 * Used for tampered cases that every verifier must reject.
 */
export function tamperValue(tree, rng) {
  const leaves = [];
  walk(tree, (node) => {
    if (node.kind === 'string' || node.kind === 'number' || node.kind === 'literal') {
      leaves.push(node);
    }
  });
  if (leaves.length === 0 || tree.kind !== 'object') {
    if (tree.kind === 'object') {
      tree.members.push({ key: '"tampered"', value: { kind: 'literal', raw: 'true' } });
    }
    return;
  }
  const leaf = rng.pick(leaves);
  if (leaf.kind === 'string') {
    leaf.raw = `${leaf.raw.slice(0, -1)}X"`;
  } else if (leaf.kind === 'number') {
    const value = JSON.parse(leaf.raw);
    const doubles = Number.isFinite(value) && Math.abs(value) < 2 ** 52 && value !== 0;
    if (doubles) {
      leaf.raw = String(value * 2);
    } else {
      leaf.raw = value === 7 ? '8' : '7';
    }
  } else {
    leaf.raw = { true: 'false', false: 'true', null: '0' }[leaf.raw];
  }
}

/**
 * Serialises a parsed JSON value like JSON.stringify but with object keys sorted by UTF-16
 * code units, the form @mojaloop/sdk-standard-components 19.19.x signs and validates.
 */
export function sortedJson(value) {
  if (Array.isArray(value)) {
    return `[${value.map((item) => sortedJson(item)).join(',')}]`;
  }
  if (value !== null && typeof value === 'object') {
    const members = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${sortedJson(value[key])}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Throws when `after` does not re-serialise like `before` (guards the mutations above). */
export function assertSameReserialisation(before, after, context) {
  if (sortedJson(JSON.parse(before)) !== sortedJson(JSON.parse(after))) {
    throw new Error(`wire mutation changed the body value (${context})`);
  }
}
