// The Request tab: a pasted request and the keys to check it with, verified in the Worker
// by the package's explain(), and the result as verdict, cause, checks, protected fields,
// payload forms and keys.

import { run } from './engine.js';
import { errorBox, h, isoTime, markDifference, show } from './dom.js';
import { participantFromFileName } from './keys-text.js';

/** Largest key file read from a folder, in bytes; a PEM key or certificate is a few KiB. */
const MAX_KEY_FILE = 1024 * 1024;
/** Most files read from one dropped folder. */
const MAX_KEY_FILES = 2000;
/** Largest /v1/keys document read, in bytes (the Envoy filter's default key_source.max_bytes). */
const MAX_KEYSET_BYTES = 8 * 1024 * 1024;
const KEYSYNC_TIMEOUT_MS = 10000;
/** Largest request file read when dropped, in bytes: a 16 MiB body and its headers. */
const MAX_REQUEST_FILE = 17 * 1024 * 1024;

const FORM_TEXT = {
  raw: 'the body exactly as received',
  'sorted-json': 'the body re-serialised with its keys sorted (what the SDK 19.19 signer signs)',
  'insertion-json': 'the body re-serialised with its keys in received order (what the SDK 19.18 signer signs)',
};

const FSPIOP_ERRORS = {
  3101: 'Malformed syntax', 3102: 'Missing mandatory element', 3104: 'Too large payload',
  3105: 'Invalid signature', 3106: 'Modified request',
};

export function createRequestTab({ settings, onChange }) {
  const $ = (id) => document.getElementById(id);
  const requestText = $('request-text');
  const result = $('request-result');
  const keyStatus = $('key-status');
  let keys = [];
  let examples = [];

  function setKeyStatus(message, kind = 'info') {
    keyStatus.className = `status ${kind}`;
    keyStatus.textContent = message;
  }

  function renderKeys() {
    const list = $('key-list');
    if (keys.length === 0) {
      show(list, h('p', { class: 'help' }, 'No keys yet. Add the sender\'s public key to verify its signature.'));
      return;
    }
    show(list, h('table', { class: 'keys' },
      h('caption', {}, `${keys.length} key${keys.length === 1 ? '' : 's'} loaded`),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Participant'), h('th', { scope: 'col' }, 'Fingerprint (kid)'),
        h('th', { scope: 'col' }, 'Key'), h('th', { scope: 'col' }, 'Source'), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Remove')))),
      h('tbody', {}, keys.map((key, index) => h('tr', { class: key.error ? 'differs' : null },
        h('td', {}, key.participant),
        h('td', { class: 'mono' }, key.kid ?? '—'),
        h('td', {}, key.error ? `unusable: ${key.error}` : describeKeyType(key),
          key.retireAfter !== null ? ` · retired after ${isoTime(key.retireAfter)}` : '',
          key.wasPrivate ? ' · a private key was pasted; only its public key is kept' : '',
          key.repairs?.length ? ` · repaired: ${key.repairs.join('; ')}` : ''),
        h('td', {}, key.source),
        h('td', {}, h('button', { type: 'button', class: 'small', 'aria-label': `Remove key ${key.kid ?? index + 1} of ${key.participant}`, onclick: () => removeKey(index) }, 'Remove')))))));
  }

  function describeKeyType(key) {
    if (key.type === 'RSA') return `RSA ${key.bits} bits`;
    if (key.type === 'EC') return `EC ${key.curve}`;
    return key.type ?? '';
  }

  /** Verifies again after the keys changed, when there is a request to verify. */
  function keysChanged() {
    renderKeys();
    if (requestText.value.trim() !== '') verify();
    else onChange();
  }

  function removeKey(index) {
    keys.splice(index, 1);
    keysChanged();
  }

  /** Adds key entries, replacing an entry with the same participant and kid. */
  function addKeys(entries) {
    for (const entry of entries) {
      const existing = keys.findIndex((key) => key.participant === entry.participant && key.kid !== null && key.kid === entry.kid);
      if (existing === -1) keys.push(entry);
      else keys[existing] = entry;
    }
    keysChanged();
  }

  async function readKeys(text, participant, source) {
    return run('readKeys', { text, participant, source });
  }

  async function addPastedKeys() {
    const text = $('key-text').value;
    setKeyStatus('Reading the key…');
    try {
      const entries = await readKeys(text, $('key-participant').value, 'pasted');
      addKeys(entries);
      $('key-text').value = '';
      setKeyStatus(`Added ${entries.length} key${entries.length === 1 ? '' : 's'}.`, 'ok');
    } catch (error) {
      setKeyStatus(error.message, 'error');
    }
  }

  async function addKeyFiles(files) {
    const keyFiles = files.filter((file) => /\.(pem|crt|cer|pub|json)$/i.test(file.name));
    if (keyFiles.length === 0) {
      setKeyStatus('No .pem or .json files were found; name each key file <fspId>.pem.', 'error');
      return;
    }
    if (keyFiles.length > MAX_KEY_FILES) {
      setKeyStatus(`The folder has ${keyFiles.length} key files; at most ${MAX_KEY_FILES} are read.`, 'error');
      return;
    }
    const added = [];
    const problems = [];
    for (const file of keyFiles) {
      if (file.size > MAX_KEY_FILE && !/\.json$/i.test(file.name)) {
        problems.push(`${file.name}: ${file.size} bytes is too large for a key file`);
        continue;
      }
      if (file.size > MAX_KEYSET_BYTES) {
        problems.push(`${file.name}: ${file.size} bytes is over the 8 MiB limit`);
        continue;
      }
      try {
        const participant = participantFromFileName(file.name);
        added.push(...await readKeys(await file.text(), participant, file.name));
      } catch (error) {
        problems.push(error.message);
      }
    }
    addKeys(added);
    const summary = `Added ${added.length} key${added.length === 1 ? '' : 's'} from ${keyFiles.length} file${keyFiles.length === 1 ? '' : 's'}.`;
    setKeyStatus(problems.length === 0 ? summary : `${summary} Not read: ${problems.join(' · ')}`, problems.length === 0 ? 'ok' : 'error');
  }

  /** Collects the files of dropped items, walking dropped folders. */
  async function droppedFiles(dataTransfer) {
    const entries = [...dataTransfer.items].map((item) => item.webkitGetAsEntry?.()).filter(Boolean);
    if (entries.length === 0) return [...dataTransfer.files];
    const files = [];
    const walk = async (entry) => {
      if (files.length > MAX_KEY_FILES) return;
      if (entry.isFile) {
        files.push(await new Promise((resolve, reject) => entry.file(resolve, reject)));
        return;
      }
      const reader = entry.createReader();
      for (;;) {
        const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
        if (batch.length === 0) break;
        for (const child of batch) await walk(child);
      }
    };
    for (const entry of entries) await walk(entry);
    return files;
  }

  async function loadKeysync() {
    const address = $('keysync-url').value.trim();
    if (address.length > 2048) {
      setKeyStatus('The keysync URL is longer than 2048 characters; enter the address of /v1/keys.', 'error');
      return;
    }
    let url;
    try {
      url = new URL(address);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
    } catch {
      setKeyStatus('Enter the keysync address as an http:// or https:// URL, such as http://127.0.0.1:8080/v1/keys.', 'error');
      return;
    }
    setKeyStatus(`Loading ${url.href} …`);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), KEYSYNC_TIMEOUT_MS);
    try {
      const response = await fetch(url, { credentials: 'omit', cache: 'no-store', signal: controller.signal, referrerPolicy: 'no-referrer' });
      if (!response.ok) throw new Error(`keysync returned HTTP ${response.status}${response.status === 503 ? ' (no key set loaded yet)' : ''}`);
      const declared = Number(response.headers.get('content-length'));
      if (declared > MAX_KEYSET_BYTES) throw new Error(`the document is ${declared} bytes, over the 8 MiB limit`);
      const text = await response.text();
      if (text.length > MAX_KEYSET_BYTES) throw new Error('the document is over the 8 MiB limit');
      const entries = await readKeys(text, null, url.host);
      addKeys(entries);
      setKeyStatus(`Added ${entries.length} key${entries.length === 1 ? '' : 's'} from ${url.href}.`, 'ok');
    } catch (error) {
      const reason = error.name === 'AbortError' ? `timed out after ${KEYSYNC_TIMEOUT_MS / 1000} s`
        : error instanceof TypeError ? `the fetch failed: keysync is unreachable, or sent no Access-Control-Allow-Origin header for this page (start keysync with KEYSYNC_LISTEN_CORS_ALLOW_ORIGINS=${location.origin})`
          : error.message;
      setKeyStatus(`Could not load keys from ${url.href}: ${reason}. You can also save the document and drop it here.`, 'error');
    } finally {
      clearTimeout(timer);
    }
  }

  async function verify() {
    const text = requestText.value;
    const at = settings.at();
    if (at.error) {
      show(result, errorBox('Check time not valid', at.error));
      return;
    }
    show(result, h('p', { class: 'busy', role: 'status' }, 'Verifying…'));
    try {
      const output = await run('verify', {
        requestText: text,
        keys: keys.filter((key) => key.error === null).map(({ participant, pem, retireAfter }) => ({ participant, pem, retireAfter })),
        profile: settings.profile(),
        now: at.seconds,
      });
      renderResult(result, output, { profile: settings.profile(), now: at.seconds });
    } catch (error) {
      show(result, errorBox('The request could not be read', error.message));
    }
    onChange();
  }

  async function loadExample(name) {
    const example = examples.find((item) => item.name === name);
    if (example === undefined) return;
    requestText.value = example.request;
    keys = [];
    try {
      for (const key of example.keys) keys.push(...await readKeys(key.text, key.participant, key.source));
    } catch (error) {
      setKeyStatus(`The example's keys could not be read: ${error.message}`, 'error');
    }
    renderKeys();
    settings.setAt(example.at);
    setKeyStatus(`Loaded the example "${example.title}" with its ${keys.length} keys.`, 'ok');
    await verify();
  }

  $('verify').addEventListener('click', verify);
  requestText.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) verify();
  });
  $('key-add').addEventListener('click', addPastedKeys);
  $('keysync-load').addEventListener('click', loadKeysync);
  $('key-files').addEventListener('change', (event) => addKeyFiles([...event.target.files]));
  $('key-folder').addEventListener('change', (event) => addKeyFiles([...event.target.files]));
  $('keys-clear').addEventListener('click', () => {
    keys = [];
    setKeyStatus('Removed every key.');
    keysChanged();
  });
  const drop = $('key-drop');
  drop.addEventListener('dragover', (event) => {
    event.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', async (event) => {
    event.preventDefault();
    drop.classList.remove('over');
    try {
      await addKeyFiles(await droppedFiles(event.dataTransfer));
    } catch (error) {
      setKeyStatus(`The dropped files could not be read: ${error.message}`, 'error');
    }
  });
  $('example').addEventListener('change', (event) => loadExample(event.target.value));
  // A request file (.http, .har, .json) dropped on the request box replaces its text.
  requestText.addEventListener('drop', async (event) => {
    const file = event.dataTransfer?.files?.[0];
    if (file === undefined) return;
    event.preventDefault();
    if (file.size > MAX_REQUEST_FILE) {
      show(result, errorBox('The request could not be read', `${file.name} is ${file.size} bytes; a request file over ${MAX_REQUEST_FILE} bytes is not read.`));
      return;
    }
    requestText.value = await file.text();
    await verify();
  });

  renderKeys();

  return {
    verify,
    setExamples(list) {
      examples = list;
      const select = $('example');
      for (const example of list) select.append(h('option', { value: example.name }, example.title));
    },
    /** Returns the tab's part of the shareable state. */
    state() {
      return {
        request: requestText.value,
        keys: keys.filter((key) => key.error === null).map(({ participant, pem, retireAfter }) => ({ participant, pem, retireAfter })),
        keysync: $('keysync-url').value,
      };
    },
    async restore(state) {
      requestText.value = typeof state.request === 'string' ? state.request : '';
      $('keysync-url').value = typeof state.keysync === 'string' ? state.keysync : '';
      keys = [];
      for (const key of Array.isArray(state.keys) ? state.keys : []) {
        try {
          const entries = await readKeys(key.pem, key.participant, 'link');
          keys.push(...entries.map((entry) => ({ ...entry, retireAfter: Number.isInteger(key.retireAfter) ? key.retireAfter : null })));
        } catch (error) {
          setKeyStatus(error.message, 'error');
        }
      }
      renderKeys();
      if (requestText.value.trim() !== '') await verify();
    },
  };
}

/** Names the likely cause of a rejection or of an unusual acceptance, or returns null. */
export function likelyCause(explanation) {
  const { accepted, reason, participant, diagnosis, payload_form: form } = explanation;
  const matches = diagnosis?.matches ?? [];
  if (accepted) {
    if (form === 'sorted-json' || form === 'insertion-json') {
      const order = form === 'sorted-json' ? 'with its keys sorted' : 'with its keys in received order';
      return `The signature matches the body ${order}, not the body as received: the body was re-serialised on the way (a proxy, gateway or framework parsed and rewrote the JSON).`;
    }
    return null;
  }
  const own = (active) => matches.find((match) => match.participant === participant && match.active === active);
  switch (reason) {
    case 'SIGNATURE_MISMATCH': {
      const retired = own(false);
      if (retired) return `The signature verifies under a retired key of "${participant}" (${retired.kid}): the sender still signs with its old key after a rotation.`;
      const other = own(true);
      if (other) return `The signature verifies over ${FORM_TEXT[other.form] ?? other.form}, which the selected profile does not try.`;
      const foreign = matches[0];
      if (foreign) return `The signature verifies under the key of "${foreign.participant}" (${foreign.kid}), not "${participant}": the FSPIOP-Source header or the key files are wrong.`;
      if (diagnosis?.stopped) return null;
      return `No loaded key verifies this signature over any payload form: the body or the protected header changed after signing, or "${participant}" signs with a key that is not loaded here (a rotated key, or another participant's key).`;
    }
    case 'URI_MISMATCH': case 'METHOD_MISMATCH': case 'SOURCE_MISMATCH': case 'DATE_MISMATCH': case 'DEST_MISMATCH':
    case 'REQUEST_URI_MISMATCH': case 'REQUEST_METHOD_MISMATCH':
      return 'A header differs from the value the sender signed: a proxy or gateway rewrote it after signing. The highlighted row below shows which.';
    case 'UNKNOWN_SOURCE':
      return `No key is loaded for "${participant}": add its public key (the file ${participant}.pem of the keys folder).`;
    case 'KEY_UNUSABLE':
      return `The key of "${participant}" could not be read: the PEM is damaged or not a public key. Check the key list.`;
    case 'KEY_ALG_MISMATCH': case 'KEY_TOO_SMALL':
      return 'The loaded key does not fit the signature algorithm: check that the right key is loaded for this participant.';
    case 'BODY_NOT_JSON':
      return 'The body is not a JSON object or array, which the Mojaloop SDK requires; the strict profile verifies any body.';
    case 'DATE_OUT_OF_WINDOW':
      return 'The signed Date is outside the freshness window at the check time: set "Check at" to the time the request was received.';
    default:
      return null;
  }
}

function verdictBox(explanation) {
  const { accepted, reason, fspiop_error: code, message } = explanation;
  const cause = likelyCause(explanation);
  const sdkNote = code && code !== '3105' && code !== '3101' ? '; the Mojaloop SDK reports this as 3105' : '';
  return h('div', { class: `verdict ${accepted ? 'valid' : 'invalid'}`, role: 'status' },
    h('p', { class: 'verdict-title' }, accepted ? 'valid' : 'invalid',
      accepted ? '' : h('span', { class: 'reason' }, ` ${reason ?? ''}${code ? ` (FSPIOP ${code} ${FSPIOP_ERRORS[code] ?? ''}${sdkNote})` : ''}`)),
    h('p', { class: 'message' }, message),
    cause ? h('p', { class: 'cause' }, h('strong', {}, accepted ? 'What happened: ' : 'Likely cause: '), cause) : null,
    explanation.warnings.length > 0 ? h('ul', { class: 'warnings' }, explanation.warnings.map((warning) => h('li', {}, `Warning: ${warning}`))) : null);
}

const OUTCOME_TEXT = { pass: 'pass', fail: 'FAIL', 'n/a': 'n/a', 'not-applicable': 'n/a', warn: 'warn' };

function checksList(checks) {
  return h('section', { 'aria-labelledby': 'checks-heading' },
    h('h3', { id: 'checks-heading' }, 'Checks'),
    h('ol', { class: 'checks' }, checks.map((check) => h('li', { class: `outcome-${check.outcome === 'not-applicable' ? 'na' : check.outcome.replace('/', '')}` },
      h('span', { class: 'outcome' }, OUTCOME_TEXT[check.outcome] ?? check.outcome), ' ',
      h('span', { class: 'mono' }, check.check), ' ', check.description))));
}

function fieldsTable(diagnosis) {
  if (!diagnosis || diagnosis.fields.length === 0) return null;
  return h('section', { 'aria-labelledby': 'fields-heading' },
    h('h3', { id: 'fields-heading' }, 'Protected header and HTTP headers'),
    h('table', { class: 'fields' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Member'), h('th', { scope: 'col' }, 'Signed (protected header)'),
        h('th', { scope: 'col' }, 'In the request'), h('th', { scope: 'col' }, 'Match'))),
      h('tbody', {}, diagnosis.fields.map((field) => h('tr', { class: field.equal ? null : 'differs' },
        h('th', { scope: 'row' }, field.member),
        h('td', { class: 'mono' }, field.protected ?? h('em', {}, '(absent)')),
        h('td', { class: 'mono' }, field.equal ? (field.actual ?? h('em', {}, '(absent)')) : markDifference(field.actual, field.protected)),
        h('td', {}, field.equal ? 'equal' : h('strong', {}, 'differs')))))),
    diagnosis.protected_header ? h('details', {}, h('summary', {}, 'Decoded protected header'), h('pre', {}, prettyJson(diagnosis.protected_header))) : null);
}

function prettyJson(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

function formsList(explanation) {
  const { diagnosis, forms_tried: tried, payload_form: matched } = explanation;
  const available = diagnosis?.forms_available ?? [];
  const forms = ['raw', 'sorted-json', 'insertion-json'].filter((form) => available.includes(form) || tried.includes(form));
  if (forms.length === 0) return null;
  const matches = diagnosis?.matches ?? [];
  const order = ['raw', 'sorted-json', 'insertion-json'];
  const triedText = (form) => {
    if (tried.includes(form)) return 'tried';
    if (matched && order.indexOf(form) > order.indexOf(matched)) return 'not needed, an earlier form matched';
    return 'not tried by the profile';
  };
  return h('section', { 'aria-labelledby': 'forms-heading' },
    h('h3', { id: 'forms-heading' }, 'Payload forms'),
    h('ul', { class: 'forms' }, forms.map((form) => {
      const under = matches.filter((match) => match.form === form);
      const verdictText = under.length > 0
        ? `verifies under ${under.map((match) => `${match.active ? '' : 'retired '}key of "${match.participant}"`).join(', ')}`
        : 'does not verify under any loaded key';
      return h('li', { class: form === matched ? 'matched' : null },
        h('span', { class: 'mono' }, form), ` — ${FORM_TEXT[form]}: `,
        triedText(form), '; ', verdictText,
        form === matched ? h('strong', {}, ' — matched') : '');
    })));
}

function keysTable(output, now) {
  const { explanation, storeKeys } = output;
  const matches = explanation.diagnosis?.matches ?? [];
  if (storeKeys.length === 0) return h('section', {}, h('h3', {}, 'Keys'), h('p', {}, 'No keys were loaded.'));
  return h('section', { 'aria-labelledby': 'keys-heading' },
    h('h3', { id: 'keys-heading' }, 'Keys'),
    h('table', { class: 'keys' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Participant'), h('th', { scope: 'col' }, 'Fingerprint (kid)'),
        h('th', { scope: 'col' }, 'State at check time'), h('th', { scope: 'col' }, 'Signature verifies under it'))),
      h('tbody', {}, storeKeys.map((key) => {
        const forms = matches.filter((match) => match.kid === key.kid && match.participant === key.participant).map((match) => match.form);
        const used = key.kid === explanation.key_id && key.participant === explanation.participant;
        const retired = key.retireAfter !== null && key.retireAfter < now;
        return h('tr', { class: used || forms.length > 0 ? 'matched' : null },
          h('td', {}, key.participant),
          h('td', { class: 'mono' }, key.kid),
          h('td', {}, retired ? `retired since ${isoTime(key.retireAfter)}` : 'active'),
          h('td', {}, forms.length > 0 ? `yes, over ${forms.join(', ')}${used ? ' (the verifier used this key)' : ''}` : 'no'));
      }))));
}

function sdkCompatibility(explanation) {
  if (!explanation.accepted || !explanation.diagnosis) return null;
  const verifies = (form) => explanation.diagnosis.matches.some((match) => match.participant === explanation.participant && match.active && match.form === form);
  const line = (version, form) => h('li', {}, `SDK ${version} validator: `, verifies(form) ? 'accepts' : h('strong', {}, `rejects (the ${form} payload does not verify)`));
  return h('section', { 'aria-labelledby': 'sdk-heading' },
    h('h3', { id: 'sdk-heading' }, 'Mojaloop SDK validators'),
    h('ul', {}, line('19.19.x', 'sorted-json'), line('19.18.x', 'insertion-json')));
}

function requestSummary(request) {
  const formName = { raw: 'raw HTTP', curl: 'curl -v output', json: 'JSON or HAR' }[request.form] ?? request.form;
  return h('details', { class: 'request-summary' },
    h('summary', {}, `Request as read (${formName}): ${request.method} ${request.url}, ${request.headers.length} headers, ${request.bodyBytes} body bytes`),
    h('table', { class: 'headers' }, h('tbody', {}, request.headers.map(([name, value]) => h('tr', {}, h('th', { scope: 'row' }, name), h('td', { class: 'mono' }, value))))),
    request.bodyBytes > 0 ? h('pre', {}, request.bodyPreview, request.bodyBytes > 2000 ? '…' : '') : null);
}

/** Renders a verification result: verdict first, then the details that explain it. */
export function renderResult(container, output, { now }) {
  const { explanation } = output;
  show(container,
    verdictBox(explanation),
    output.rejected.length > 0 ? h('p', { class: 'status error' }, `Keys not used: ${output.rejected.map((key) => `${key.participant}: ${key.error}`).join(' · ')}`) : null,
    checksList(explanation.checks),
    fieldsTable(explanation.diagnosis),
    formsList(explanation),
    keysTable(output, now),
    sdkCompatibility(explanation),
    explanation.diagnosis?.stopped ? h('p', {}, `The diagnosis stopped: ${explanation.diagnosis.stopped}`) : null,
    requestSummary(output.request));
}
