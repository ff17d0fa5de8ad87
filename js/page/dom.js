// Small DOM helpers. Every text goes in through text nodes, never as HTML, because the
// page shows pasted input.

/**
 * Creates an element: `h('p', {class: 'note'}, 'text', child)`. Attributes starting with
 * "on" become listeners, and null and false children are skipped.
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces the children of `element`. */
export function show(element, ...children) {
  element.replaceChildren();
  append(element, children);
}

/**
 * Returns `actual` with the part that differs from `expected` in a <mark>: the text
 * between their common prefix and common suffix.
 */
export function markDifference(actual, expected) {
  if (actual === null || actual === undefined) return h('em', {}, '(absent)');
  if (expected === null || expected === undefined) return h('mark', {}, actual);
  let prefix = 0;
  while (prefix < actual.length && prefix < expected.length && actual[prefix] === expected[prefix]) prefix += 1;
  let suffix = 0;
  while (suffix < actual.length - prefix && suffix < expected.length - prefix
    && actual[actual.length - 1 - suffix] === expected[expected.length - 1 - suffix]) suffix += 1;
  const middle = actual.slice(prefix, actual.length - suffix);
  return h('span', {}, actual.slice(0, prefix), middle === '' ? h('mark', { class: 'gap', title: 'text missing here' }, '∧') : h('mark', {}, middle), actual.slice(actual.length - suffix));
}

/** Formats unix seconds as RFC 3339 UTC without fractions. */
export function isoTime(seconds) {
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}

/** Returns an error box for a failed check or unreadable input. */
export function errorBox(title, message) {
  return h('div', { class: 'verdict error', role: 'alert' }, h('p', { class: 'verdict-title' }, title), h('p', {}, message));
}
