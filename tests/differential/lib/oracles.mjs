// The reference implementation: the JWS signer and validator of the published npm package
// @mojaloop/sdk-standard-components, installed per version into a cache folder outside the
// repository and loaded with createRequire.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

export const SDK_PACKAGE = '@mojaloop/sdk-standard-components';

/** 19.19.1 signs and validates key-sorted JSON, and 19.18.8 uses JS property order. */
export const LATEST_VERSION = '19.19.1';
export const LEGACY_VERSION = '19.18.8';

const INSTALLED_MARKER = '.fspiop-guard-oracle-installed';

const CLAIM_ERRORS = new Set(['jwt expired', 'invalid exp value', 'invalid nbf value', 'jwt not active']);

/** Returns `${XDG_CACHE_HOME:-~/.cache}/fspiop-guard/sdk-oracles`. */
export function defaultOracleRoot() {
  const cacheHome = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cacheHome, 'fspiop-guard', 'sdk-oracles');
}

function packageDirectory(installDirectory) {
  return path.join(installDirectory, 'node_modules', ...SDK_PACKAGE.split('/'));
}

function installedVersion(installDirectory) {
  const manifest = path.join(packageDirectory(installDirectory), 'package.json');
  try {
    return JSON.parse(fs.readFileSync(manifest, 'utf8')).version;
  } catch {
    return null;
  }
}

/**
 * Installs one SDK version into `<root>/<version>` unless a finished install is already there,
 * and returns that folder. The marker file is written last, so an interrupted install is redone.
 */
export function ensureOracleInstalled(root, version, log) {
  const directory = path.join(root, version);
  const marker = path.join(directory, INSTALLED_MARKER);
  if (fs.existsSync(marker) && installedVersion(directory) === version) {
    return directory;
  }

  fs.mkdirSync(directory, { recursive: true });
  log(`installing ${SDK_PACKAGE}@${version} into ${directory} (once; needs the npm registry)`);
  const args = [
    'install',
    '--no-audit',
    '--no-fund',
    '--ignore-scripts',
    '--save-exact',
    '--prefix',
    directory,
    `${SDK_PACKAGE}@${version}`,
  ];
  // Run from the cache folder so no .npmrc or package.json of the repository is picked up.
  const result = spawnSync('npm', args, { cwd: directory, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.error || result.status !== 0) {
    const detail = result.error ? result.error.message : lastLines(result.stderr, 15);
    throw new Error(`npm ${args.join(' ')} failed (exit status ${result.status}):\n${detail}`);
  }

  const found = installedVersion(directory);
  if (found !== version) {
    throw new Error(`npm installed ${SDK_PACKAGE}@${found} into ${directory}, expected ${version}`);
  }
  fs.writeFileSync(marker, `${SDK_PACKAGE}@${version}\n`);
  return directory;
}

// The JWS libraries whose behaviour the validators inherit.
const JWS_DEPENDENCIES = ['jsonwebtoken', 'jws', 'jwa', 'safe-stable-stringify', 'fast-safe-stringify'];

/**
 * Returns the installed versions of the JWS libraries, e.g. "jsonwebtoken 9.0.3, jws 4.0.1".
 * NOTE: npm resolves these from the SDK's version ranges at install time, so a later install
 * can get newer ones than an earlier one.
 */
export function describeJwsDependencies(installDirectory) {
  const versions = JWS_DEPENDENCIES.map((name) => {
    const manifest = path.join(installDirectory, 'node_modules', name, 'package.json');
    try {
      return `${name} ${JSON.parse(fs.readFileSync(manifest, 'utf8')).version}`;
    } catch {
      return `${name} not found`;
    }
  });
  return versions.join(', ');
}

function lastLines(text, count) {
  return (text || '').trimEnd().split('\n').slice(-count).join('\n');
}

/**
 * A logger that drops everything, because without one the SDK classes log every request to the
 * console. jwsSigner.js and jwsValidator.js of both versions call `config.logger.child(...)`
 * and then `isDebugEnabled`, `debug` and `error` on the child. The other members mirror the
 * SDK's own SdkLogger in case a later version calls them.
 */
const silentLogger = {
  isDebugEnabled: false,
  isInfoEnabled: false,
  isWarnEnabled: false,
  isErrorEnabled: false,
  child: () => silentLogger,
  push: () => silentLogger,
  log: () => {},
  silly: () => {},
  trace: () => {},
  debug: () => {},
  verbose: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  fatal: () => {},
  audit: () => {},
};

/** One installed SDK version: its signer class and a validator configured with every test key. */
export class SdkOracle {
  constructor(version, installDirectory, publicKeys) {
    // Load src/lib/jws directly: the package index also loads axios, ILP and OIDC code that
    // the JWS classes do not use. The index exports the same module as `Jws`.
    const jwsModule = path.join(packageDirectory(installDirectory), 'src', 'lib', 'jws');
    const requireFromInstall = createRequire(path.join(installDirectory, 'package.json'));
    const jws = requireFromInstall(jwsModule);
    if (typeof jws.signer !== 'function' || typeof jws.validator !== 'function') {
      throw new Error(`${jwsModule} of ${SDK_PACKAGE}@${version} does not export signer and validator classes`);
    }

    this.version = version;
    this.Signer = jws.signer;
    this.validator = new jws.validator({ logger: silentLogger, validationKeys: publicKeys });
    this.signers = new Map();
  }

  signerFor(key) {
    if (!this.signers.has(key.fspId)) {
      this.signers.set(key.fspId, new this.Signer({ logger: silentLogger, signingKey: key.privatePem }));
    }
    return this.signers.get(key.fspId);
  }

  /**
   * Signs a message the way SDK callers do and returns `{headers, bodyText}` (lowercase header
   * names, wire body text) or `{error}`.
   *
   * `call` 'sign' is what the SDK's own requests do: `sign()` derives FSPIOP-URI from the URL,
   * sets the FSPIOP headers and replaces an object body with its serialisation. 'getSignature'
   * is what the Hub does: the caller sets fspiop-uri and fspiop-http-method itself, and axios
   * puts JSON.stringify(data) on the wire. `message.fields` picks the option names the SDK
   * reads: request-style `uri`/`body` or axios-style `url`/`data`.
   */
  sign(key, call, message) {
    const headers = { ...message.headers };
    const body = message.bodyText ?? structuredClone(message.body);
    const axiosStyle = call === 'getSignature' || message.fields === 'url-data';
    const options = axiosStyle
      ? { method: message.methodAsGiven, url: message.url, headers, data: body }
      : { method: message.methodAsGiven, uri: message.url, headers, body };

    try {
      const signer = this.signerFor(key);
      if (call === 'sign') {
        signer.sign(options);
        return { headers: options.headers, bodyText: axiosStyle ? options.data : options.body };
      }
      headers['fspiop-signature'] = signer.getSignature(options);
      return { headers, bodyText: typeof body === 'string' ? body : JSON.stringify(body) };
    } catch (error) {
      return { error: `${error.name}: ${error.message}` };
    }
  }

  /**
   * Runs the validator on Node-style headers and the parsed body, as sdk-scheme-adapter does.
   * Returns `{accepted: true}` or `{accepted: false, error, claims}`, where `claims` marks a
   * rejection by jsonwebtoken's exp/nbf checks on the body.
   */
  validate(nodeHeaders, bodyText) {
    let body;
    try {
      body = JSON.parse(bodyText);
    } catch (error) {
      return { accepted: false, error: `body is not JSON: ${error.message}`, claims: false };
    }
    try {
      this.validator.validate({ headers: nodeHeaders, body });
      return { accepted: true };
    } catch (error) {
      return { accepted: false, error: `${error.name}: ${error.message}`, claims: CLAIM_ERRORS.has(error.message) };
    }
  }
}
