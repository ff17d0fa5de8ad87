// Reads one HTTP request from pasted text: raw HTTP/1.1 (as a proxy log shows it), the
// output of `curl -v` followed by the body, a HAR entry or log, or a JSON object
// {method, url, headers, body}. The rules follow the fspiop-guard CLI's reader, so a
// request pasted here frames its body as `fspiop-guard verify --request` would.
//
// The result is {method, url, headers: [[name, value]...], body: Uint8Array | null, form}.
// Errors are RequestTextError with a message that names the line and what to fix.

/** Largest request text read, in characters: a 16 MiB body plus 64 KiB of headers. */
export const MAX_REQUEST_TEXT = 16 * 1024 * 1024 + 64 * 1024;
/** Largest header section (request line and header lines), in bytes with CRLF endings. */
export const MAX_HEADER_BYTES = 64 * 1024;
/** Most header lines read. */
export const MAX_HEADERS = 200;

export class RequestTextError extends Error {
  constructor(message) {
    super(message);
    this.name = 'RequestTextError';
  }
}

const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_NAME = METHOD;
const HTTP_VERSION = /^HTTP\/(1\.0|1\.1|2|2\.0|3)$/;

/** Returns a short, printable excerpt of `text` for an error message. */
function excerpt(text) {
  const shortened = text.length > 60 ? `${text.slice(0, 60)}…` : text;
  return JSON.stringify(shortened);
}

/** Returns the form of the text: 'json', 'curl' or 'raw'. */
export function detectForm(text) {
  const start = text.search(/\S/);
  if (start === -1) throw new RequestTextError('The request is empty: paste a request or load an example.');
  if (text[start] === '{') return 'json';
  if (/^(> |\* |\*\r?\n)/.test(text.slice(start, start + 3))) return 'curl';
  return 'raw';
}

/** Parses request text in any of the accepted forms. */
export function parseRequestText(input) {
  if (typeof input !== 'string') throw new RequestTextError('The request must be text.');
  if (input.length > MAX_REQUEST_TEXT) {
    throw new RequestTextError(`The request is ${formatSize(input.length)}, over the ${formatSize(MAX_REQUEST_TEXT)} limit; paste a single request.`);
  }
  const text = input.replace(/^\uFEFF/, '');
  const form = detectForm(text);
  if (form === 'json') return { ...parseJsonRequest(text), form };
  if (form === 'curl') return { ...parseCurlVerbose(text), form };
  return { ...parseRawHttp(text), form };
}

export function formatSize(characters) {
  if (characters >= 1024 * 1024) return `${(characters / (1024 * 1024)).toFixed(1)} MiB`;
  if (characters >= 1024) return `${(characters / 1024).toFixed(1)} KiB`;
  return `${characters} bytes`;
}

/** Splits text into lines, each {content, number, end}; `end` is the offset after its LF. */
function* lines(text, from = 0, firstNumber = 1) {
  let start = from;
  let number = firstNumber;
  while (start < text.length) {
    const newline = text.indexOf('\n', start);
    const end = newline === -1 ? text.length : newline + 1;
    let content = text.slice(start, newline === -1 ? text.length : newline);
    if (content.endsWith('\r')) content = content.slice(0, -1);
    yield { content, number, start, end };
    start = end;
    number += 1;
  }
}

const isBlank = (line) => /^[ \t]*$/.test(line);

/** Reduces an absolute-form target (http://host/path?q) to its origin form (/path?q). */
function originForm(target) {
  const absolute = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/.exec(target);
  if (absolute === null) return target;
  const rest = target.slice(absolute[0].length).replace(/#.*$/, '');
  return rest.startsWith('/') ? rest : `/${rest}`;
}

/** Parses the request line and header lines; returns {method, url, headers}. */
function parseHead(headLines) {
  if (headLines.length === 0) throw new RequestTextError('The request has no request line.');
  const [first, ...rest] = headLines;
  const { method, target } = parseRequestLine(first);
  if (rest.length > MAX_HEADERS) {
    throw new RequestTextError(`The request has ${rest.length} header lines; at most ${MAX_HEADERS} are read.`);
  }
  const headers = rest.map((line) => parseHeaderLine(line));
  return { method, url: originForm(target), headers };
}

/** Parses `METHOD target [HTTP/version]` and throws when the line is not one. */
function parseRequestLine(line) {
  const parts = line.content.trim().split(/[ \t]+/);
  if (parts.length < 2 || parts.length > 3 || !METHOD.test(parts[0])) {
    throw new RequestTextError(`Line ${line.number} is not a request line such as "POST /quotes HTTP/1.1": ${excerpt(line.content)}. `
      + 'Paste one request as raw HTTP, curl -v output, a HAR entry or JSON {method, url, headers, body}.');
  }
  if (parts.length === 3 && !HTTP_VERSION.test(parts[2])) {
    throw new RequestTextError(`Line ${line.number} ends with ${excerpt(parts[2])}, not an HTTP version such as HTTP/1.1.`);
  }
  return { method: parts[0], target: parts[1] };
}

function parseHeaderLine(line) {
  if (/^[ \t]/.test(line.content)) {
    throw new RequestTextError(`Line ${line.number} starts with whitespace, which folds it into the previous header (obsolete in HTTP/1.1); join the two lines: ${excerpt(line.content)}.`);
  }
  const colon = line.content.indexOf(':');
  if (colon <= 0) {
    throw new RequestTextError(`Line ${line.number} is not a header line "Name: value": ${excerpt(line.content)}. A blank line must separate the headers from the body.`);
  }
  const name = line.content.slice(0, colon);
  if (!HEADER_NAME.test(name)) {
    throw new RequestTextError(`Line ${line.number} has the header name ${excerpt(name)}, which contains a character not allowed in a header name.`);
  }
  return [name, line.content.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '')];
}

function headerValues(headers, name) {
  const lower = name.toLowerCase();
  return headers.filter(([key]) => key.toLowerCase() === lower).map(([, value]) => value);
}

const encoder = new TextEncoder();

/** Frames the body of a raw or curl request from the text after the header section. */
function frameBody(headers, rest, { chunkedAsPasted }) {
  const transferEncoding = headerValues(headers, 'transfer-encoding');
  const contentLength = headerValues(headers, 'content-length');
  if (transferEncoding.length > 0 && contentLength.length > 0) {
    throw new RequestTextError('The request has both Transfer-Encoding and Content-Length; a receiver must reject it (RFC 9112 section 6.3).');
  }
  if (transferEncoding.length > 0) {
    if (transferEncoding.at(-1).toLowerCase() !== 'chunked') {
      throw new RequestTextError(`Transfer-Encoding ${excerpt(transferEncoding.at(-1))} is not supported; only chunked is read.`);
    }
    return chunkedAsPasted ? bodyUntilEnd(rest) : decodeChunked(rest);
  }
  if (contentLength.length > 1) {
    throw new RequestTextError(`The request has ${contentLength.length} Content-Length headers; keep one.`);
  }
  if (contentLength.length === 1) {
    if (!/^\d+$/.test(contentLength[0])) {
      throw new RequestTextError(`Content-Length ${excerpt(contentLength[0])} is not a number of bytes.`);
    }
    return bodyWithLength(rest, Number(contentLength[0]));
  }
  return bodyUntilEnd(rest);
}

/**
 * Takes exactly `declared` bytes. Only whitespace may follow them, such as the newline an
 * editor adds.
 */
function bodyWithLength(rest, declared) {
  const bytes = encoder.encode(rest);
  if (bytes.length < declared) {
    throw new RequestTextError(`Content-Length is ${declared} but only ${bytes.length} bytes follow the headers. `
      + 'The body may be cut off, or a text box may have turned CRLF line endings into LF; remove the Content-Length line to take the body as pasted.');
  }
  const extra = new TextDecoder().decode(bytes.subarray(declared));
  if (!isBlankText(extra)) {
    const available = encoder.encode(rest.replace(/\s+$/, '')).length;
    throw new RequestTextError(`Content-Length is ${declared} but ${available} bytes follow the headers. `
      + 'Check that the body is the one that was sent, or remove the Content-Length line to take the body as pasted.');
  }
  return declared === 0 ? null : bytes.subarray(0, declared);
}

const isBlankText = (text) => /^\s*$/.test(text);

/**
 * Takes the rest of the text as the body, without exactly one final line ending; a rest of
 * only whitespace is no body.
 */
function bodyUntilEnd(rest) {
  if (isBlankText(rest)) return null;
  const body = rest.replace(/\r?\n$/, '');
  return body === '' ? null : encoder.encode(body);
}

/** Decodes a chunked body (RFC 9112 section 7.1); sizes count UTF-8 bytes. */
function decodeChunked(rest) {
  const bytes = encoder.encode(rest);
  const chunks = [];
  let position = 0;
  let total = 0;
  for (;;) {
    let newline = bytes.indexOf(10, position);
    if (newline === -1) newline = bytes.length;
    const sizeLine = new TextDecoder().decode(bytes.subarray(position, newline)).replace(/\r$/, '');
    const size = /^([0-9A-Fa-f]{1,16})[ \t]*(;.*)?$/.exec(sizeLine);
    if (size === null) {
      throw new RequestTextError(`Expected a chunk size in hexadecimal, such as 1a, but found ${excerpt(sizeLine)}.`);
    }
    const length = parseInt(size[1], 16);
    const dataStart = newline + 1;
    if (length === 0) break;
    if (dataStart + length > bytes.length) {
      throw new RequestTextError(`A chunk declares ${length} bytes but fewer follow; the size is hexadecimal.`);
    }
    chunks.push(bytes.subarray(dataStart, dataStart + length));
    total += length;
    position = dataStart + length;
    if (bytes[position] === 13) position += 1;
    if (bytes[position] !== 10) {
      throw new RequestTextError('Chunk data is not followed by a line ending; check that each chunk size matches its data.');
    }
    position += 1;
  }
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.length;
  }
  return total === 0 ? null : body;
}

/** Reads raw HTTP/1.x: request line, header lines, blank line, body. */
export function parseRawHttp(text) {
  const start = text.search(/\S/);
  if (start === -1) throw new RequestTextError('The request is empty.');
  const headLines = [];
  let bodyStart = text.length;
  let headBytes = 0;
  const firstNumber = text.slice(0, start).split('\n').length;
  for (const line of lines(text, text.lastIndexOf('\n', start) + 1, firstNumber)) {
    // Checking the request line first gives garbage a clear error before the size limit.
    if (headLines.length === 0) parseRequestLine(line);
    headBytes += line.content.length + 2;
    if (headBytes > MAX_HEADER_BYTES) {
      throw new RequestTextError(`The request line and headers are longer than ${formatSize(MAX_HEADER_BYTES)}; `
        + 'a blank line must separate the headers from the body.');
    }
    if (isBlank(line.content)) {
      bodyStart = line.end;
      break;
    }
    headLines.push(line);
  }
  const head = parseHead(headLines);
  return { ...head, body: frameBody(head.headers, text.slice(bodyStart), { chunkedAsPasted: false }) };
}

/**
 * Reads `curl -v` output: the first block of `> ` lines is the request, and the text pasted
 * after it, up to the first response line (`< `), is the body, since curl -v does not
 * print the body it sends.
 */
export function parseCurlVerbose(text) {
  const headLines = [];
  const bodyLines = [];
  let stage = 'before';
  let headBytes = 0;
  for (const line of lines(text)) {
    const request = line.content.startsWith('>') ? line.content.slice(1).replace(/^ /, '') : undefined;
    const information = /^(\* |\*$|\{ \[|\} \[)/.test(line.content);
    if (stage === 'before') {
      if (request !== undefined && !isBlank(request)) {
        headLines.push({ ...line, content: request });
        stage = 'head';
      }
      continue;
    }
    if (stage === 'head') {
      if (request !== undefined) {
        if (isBlank(request)) stage = 'body';
        else headLines.push({ ...line, content: request });
        headBytes += request.length + 2;
        if (headBytes > MAX_HEADER_BYTES) throw new RequestTextError(`The request headers are longer than ${formatSize(MAX_HEADER_BYTES)}.`);
        continue;
      }
      if (information) continue;
      if (line.content.startsWith('<')) break;
      stage = 'body';
    }
    if (request !== undefined || line.content.startsWith('<')) break;
    if (information) continue;
    if (bodyLines.length === 0 && isBlank(line.content)) continue;
    bodyLines.push(text.slice(line.start, line.end));
  }
  if (headLines.length === 0) throw new RequestTextError('No request lines starting with "> " were found in the curl -v output.');
  const head = parseHead(headLines);
  return { ...head, body: frameBody(head.headers, bodyLines.join(''), { chunkedAsPasted: true }) };
}

/** Reads a JSON request object {method, url|target, headers, body}, a HAR entry or a HAR log. */
export function parseJsonRequest(text) {
  let value;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new RequestTextError(`The request starts with "{" but is not valid JSON: ${error.message}.`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new RequestTextError('The JSON request must be an object.');
  }
  if (value.log !== undefined) {
    const entries = value.log?.entries;
    if (!Array.isArray(entries) || entries.length === 0) throw new RequestTextError('The HAR log has no entries.');
    return parseHarRequest(entries[0].request, 'log.entries[0].request');
  }
  if (value.request !== undefined) return parseHarRequest(value.request, 'request');
  const method = requireString(value.method, 'method');
  const url = requireString(value.url ?? value.target, 'url');
  let headers;
  if (Array.isArray(value.headers)) {
    headers = value.headers.map((pair, index) => {
      if (!Array.isArray(pair) || pair.length !== 2) throw new RequestTextError(`headers[${index}] must be a [name, value] pair.`);
      return [requireString(pair[0], `headers[${index}][0]`), requireString(pair[1], `headers[${index}][1]`)];
    });
  } else if (value.headers !== undefined && value.headers !== null && typeof value.headers === 'object') {
    headers = [];
    for (const [name, header] of Object.entries(value.headers)) {
      for (const item of Array.isArray(header) ? header : [header]) headers.push([name, requireString(String(item), `headers.${name}`)]);
    }
  } else {
    headers = [];
  }
  return { method: checkMethod(method, 'method'), url: originForm(url), headers: checkHeaders(headers), body: jsonBody(value.body) };
}

function parseHarRequest(request, field) {
  if (request === null || typeof request !== 'object') throw new RequestTextError(`${field} must be an object.`);
  const method = checkMethod(requireString(request.method, `${field}.method`), `${field}.method`);
  const url = requireString(request.url, `${field}.url`);
  const headers = [];
  for (const [index, header] of (Array.isArray(request.headers) ? request.headers : []).entries()) {
    const name = requireString(header?.name, `${field}.headers[${index}].name`);
    if (name.startsWith(':')) continue;
    headers.push([name, requireString(String(header.value ?? ''), `${field}.headers[${index}].value`)]);
  }
  const postData = request.postData;
  let body = null;
  if (postData !== undefined && postData !== null && typeof postData.text === 'string' && postData.text !== '') {
    body = postData.encoding === 'base64' ? decodeBase64(postData.text, `${field}.postData.text`) : encoder.encode(postData.text);
  }
  return { method, url: originForm(url), headers: checkHeaders(headers), body };
}

function decodeBase64(text, field) {
  try {
    return Uint8Array.from(atob(text.replace(/\s+/g, '')), (character) => character.charCodeAt(0));
  } catch {
    throw new RequestTextError(`${field} has encoding base64 but is not valid base64.`);
  }
}

function jsonBody(body) {
  if (body === undefined || body === null || body === '') return null;
  return encoder.encode(typeof body === 'string' ? body : JSON.stringify(body));
}

function requireString(value, field) {
  if (typeof value !== 'string') throw new RequestTextError(`The JSON request needs "${field}" as a string.`);
  return value;
}

function checkMethod(method, field) {
  if (!METHOD.test(method)) throw new RequestTextError(`"${field}" is ${excerpt(method)}, not an HTTP method.`);
  return method;
}

function checkHeaders(headers) {
  if (headers.length > MAX_HEADERS) throw new RequestTextError(`The request has ${headers.length} headers; at most ${MAX_HEADERS} are read.`);
  for (const [name] of headers) {
    if (!HEADER_NAME.test(name)) throw new RequestTextError(`The header name ${excerpt(name)} contains a character not allowed in a header name.`);
  }
  return headers;
}
