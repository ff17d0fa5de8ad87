// The page's entry: settings (profile, check time), tabs, the state in the URL fragment,
// and the offline cache. The checks themselves run in worker.js.

import { createRequestTab } from './request-tab.js';
import { createCertificatesTab, createCsrTab } from './pki-tabs.js';
import { decodeState, encodeState } from './state.js';
import { isoTime } from './dom.js';

const $ = (id) => document.getElementById(id);
const TABS = ['request', 'certificates', 'csr'];

/** Reads the "Check at" field: {seconds} for a valid time, or {error}. */
function readAt() {
  const text = $('at').value.trim();
  if (text === '' || text.toLowerCase() === 'now') return { seconds: Math.floor(Date.now() / 1000), text: '' };
  if (text.length > 64 || !/^\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d(:\d\d(\.\d+)?)?([Zz]|[+-]\d\d:\d\d)$/.test(text)) {
    return { error: `"Check at" must be an RFC 3339 time with a zone, such as 2026-05-13T14:39:12Z, or empty for now; it is ${JSON.stringify(text.slice(0, 64))}.` };
  }
  const milliseconds = Date.parse(text.replace(' ', 'T'));
  if (Number.isNaN(milliseconds)) return { error: `"Check at" is not a valid date: ${JSON.stringify(text)}.` };
  return { seconds: Math.floor(milliseconds / 1000), text };
}

const settings = {
  profile: () => $('profile').value,
  at: readAt,
  setAt(text) {
    $('at').value = text ?? '';
  },
};

let restoring = false;
let saveTimer;

/** Writes the state into the fragment, a moment after the last change. */
function scheduleSave() {
  if (restoring) return;
  clearTimeout(saveTimer);
  saveTimer = setTimeout(saveState, 300);
}

async function saveState() {
  const state = {
    v: 1,
    tab: currentTab(),
    profile: settings.profile(),
    at: $('at').value.trim(),
    request: requestTab.state(),
    certificates: certificatesTab.state(),
    csr: csrTab.state(),
  };
  let fragment = await encodeState(state);
  let note = '';
  if (fragment === null) {
    const dropped = dropLargeFields(state);
    fragment = await encodeState(state);
    note = `Too large to keep in the link, so left out of it: ${dropped.join(', ')}.`;
  }
  if (fragment === null) {
    note = 'The inputs are too large to keep in a link.';
    fragment = '';
  }
  $('link-status').textContent = note;
  history.replaceState(null, '', `${location.pathname}${location.search}${fragment}`);
}

/** Field texts over this many characters are left out of a link that would be too long. */
const MAX_LINK_FIELD = 64 * 1024;

/** Empties the long text fields of `state` and returns their names. */
function dropLargeFields(state) {
  const names = { request: 'the request', bundle: 'the certificate bundle', anchors: 'the trust anchors', csr: 'the CSR' };
  const dropped = [];
  for (const part of [state.request, state.certificates, state.csr]) {
    for (const [field, value] of Object.entries(part)) {
      if (typeof value === 'string' && value.length > MAX_LINK_FIELD) {
        part[field] = '';
        dropped.push(names[field] ?? field);
      }
    }
  }
  return dropped;
}

function currentTab() {
  return TABS.find((name) => $(`tab-${name}`).getAttribute('aria-selected') === 'true') ?? 'request';
}

function selectTab(name, { focus = false } = {}) {
  for (const tab of TABS) {
    const selected = tab === name;
    const button = $(`tab-${tab}`);
    button.setAttribute('aria-selected', String(selected));
    button.tabIndex = selected ? 0 : -1;
    $(`panel-${tab}`).hidden = !selected;
    if (selected && focus) button.focus();
  }
  scheduleSave();
}

/** Tabs follow the WAI-ARIA tabs pattern: arrow keys, Home and End move between them. */
function setUpTabs() {
  for (const name of TABS) {
    const button = $(`tab-${name}`);
    button.addEventListener('click', () => selectTab(name));
    button.addEventListener('keydown', (event) => {
      const index = TABS.indexOf(name);
      const moves = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: TABS.length - 1 };
      if (!(event.key in moves)) return;
      event.preventDefault();
      selectTab(TABS[(moves[event.key] + TABS.length) % TABS.length], { focus: true });
    });
  }
}

async function copyLink() {
  await saveState();
  try {
    await navigator.clipboard.writeText(location.href);
    $('link-status').textContent = 'Link copied. It holds the inputs in its fragment, which browsers never send to a server.';
  } catch {
    $('link-status').textContent = 'Copy the address bar: it holds the inputs in its fragment, which browsers never send to a server.';
  }
}

/** Re-runs the check of the visible tab after a setting changed, if it has a result. */
function rerun() {
  const tab = currentTab();
  if (tab === 'request' && $('request-text').value.trim() !== '') requestTab.verify();
  if (tab === 'certificates' && $('bundle-text').value.trim() !== '') certificatesTab.check();
  scheduleSave();
}

const requestTab = createRequestTab({ settings, onChange: scheduleSave });
const certificatesTab = createCertificatesTab({ settings, onChange: scheduleSave });
const csrTab = createCsrTab({ settings, onChange: scheduleSave });

async function loadExamples() {
  try {
    const response = await fetch(new URL('./examples.json', import.meta.url));
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const examples = await response.json();
    requestTab.setExamples(examples.requests);
    certificatesTab.setExamples?.(examples.certificates ?? []);
  } catch (error) {
    $('key-status').textContent = `The bundled examples could not be loaded (${error.message}).`;
  }
}

async function restoreState() {
  let state;
  try {
    state = await decodeState(location.hash);
  } catch (error) {
    $('link-status').textContent = `The link's saved inputs could not be read: ${error.message}`;
    return;
  }
  if (state === null) return;
  restoring = true;
  try {
    if (['mojaloop-sdk', 'strict', 'sdk-19.19', 'sdk-19.18'].includes(state.profile)) $('profile').value = state.profile;
    settings.setAt(typeof state.at === 'string' ? state.at : '');
    if (TABS.includes(state.tab)) selectTab(state.tab);
    await requestTab.restore(state.request ?? {});
    await certificatesTab.restore(state.certificates ?? {});
    await csrTab.restore(state.csr ?? {});
  } finally {
    restoring = false;
  }
}

function registerOfflineCache() {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.register(new URL('./sw.js', import.meta.url)).then(() => {
    $('offline-status').textContent = 'Once loaded, this page also works offline.';
  }, () => {});
}

setUpTabs();
$('profile').addEventListener('change', rerun);
$('at').addEventListener('change', rerun);
$('at-now').addEventListener('click', () => {
  settings.setAt(isoTime(Math.floor(Date.now() / 1000)));
  rerun();
});
$('copy-link').addEventListener('click', copyLink);
document.addEventListener('input', scheduleSave);
await loadExamples();
await restoreState();
registerOfflineCache();
document.body.dataset.ready = 'true';
