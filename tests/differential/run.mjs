#!/usr/bin/env node
// Differential test of fspiop-guard against the real Mojaloop SDK
// (@mojaloop/sdk-standard-components 19.19.1 and 19.18.8).
//
// Usage (from the repository root, after `cargo build --release`):
//
//   node tests/differential/run.mjs [--seed N] [--count N] [--cli PATH] [--keep-going] [--verbose]
//   node tests/differential/run.mjs --oracle-only          # SDK side only, no CLI needed
//   node tests/differential/run.mjs --seed 1 --case 17 --verbose   # one case, to reproduce
//
// Options: --seed (default 1), --count (cases, default 2000), --case INDEX (run only that case),
// --cli PATH (default target/release/fspiop-guard, then target/debug/fspiop-guard, also under
// $CARGO_TARGET_DIR), --timeout SECONDS (per CLI batch, default 120), --batch-size (default 200),
// --oracle-dir DIR (default ${XDG_CACHE_HOME:-~/.cache}/fspiop-guard/sdk-oracles), --keep-going
// (run every batch even after a failure), --verbose (print every case), --oracle-only.
//
// Setup: the first run installs both SDK versions with
// `npm install --no-audit --no-fund --ignore-scripts --prefix <oracle-dir>/<version>`
// (the npm registry must be reachable), later runs reuse them. Keys are generated with
// node:crypto at every run: RSA-2048 for payerfsp, payeefsp, switch and dfsp-é, EC P-256 for
// ecfsp. It needs Node 20 or later, and the package declares no dependencies.
//
// Generated cases (deterministic per seed and case index):
//   - method and URL: POST/PUT/PATCH on FSPIOP resources (/quotes, /transfers/<uuid>,
//     /parties/MSISDN/<n>, /fxTransfers/<uuid>/..., ...), on several hosts, sometimes under a
//     prefix path (one contains "quotes"), sometimes with a query, and in 3% of cases a URL
//     where the SDK's FSPIOP-URI regex takes an unusual part (capitalised resource, trailing
//     slash, unknown resource, fragment).
//   - headers: content-type, date (absent in 15%), fspiop-source, fspiop-destination (absent
//     in 25%, empty in 3%). Signing key: RSA in 80% (one FSP id is Latin-1), EC in 20%.
//   - body: an FSPIOP-like template (quote, transfer, party, error) with extra members, or a
//     random object, with nested objects and arrays up to depth 6. Keys include accents, CJK,
//     emoji, astral and U+E000..U+FFFF characters, and integer-like keys ("0", "9", "10",
//     "01", "4294967294", "4294967295", ...). Keys and strings contain quotes, backslashes,
//     control characters and U+2028, but never a lone surrogate, and no key is "__proto__".
//     Numbers include -0, 1e21, 1e-7, 5e-324, integers beyond 2^53 and random doubles. There
//     are also booleans, null, and empty objects and arrays. About 2% of bodies are {} and 2%
//     are at least 100 KiB (a long array, a long string or thousands of keys). 2% get a
//     top-level exp or nbf member, which jsonwebtoken accepts for a future exp or a past nbf
//     and rejects otherwise. 6% hand the signer a string body (compact, pretty-printed or
//     key-sorted JSON) instead of an object.
//   - wire mutations (40% of direction-A cases) are done on a syntax tree of the JSON text, so
//     the value is kept. They are pretty-printing (four layouts), reordered members, and an
//     earlier duplicate member with a stale value. The duplicate sits right before the
//     original, or at the front of the object, where it changes JS property order. Non-ASCII and
//     some ASCII characters are escaped as \uXXXX. Numbers are spelt differently (1.0e2,
//     0.1e3, 100.0, digits past the 17th significant one, ...). null is written as 1e400,
//     which parses as Infinity and serialises as null again.
//   - tampering (8% of direction-A cases): a changed body value, FSPIOP-URI, method, Date or
//     destination header, a changed signature character, another source, or a repeated source
//     header line. Two more changes are ones the SDK accepts: an unprotected Date header added,
//     and the FSPIOP-Signature JSON reformatted.
//
// Direction A: the SDK signs (19.19.1 or 19.18.8, with sign(), or with getSignature() as the
// Hub does), the wire request goes to both SDK validators and to `fspiop-guard verify --batch
// --profile mojaloop-sdk`. The profile accepts a signature over the raw bytes, the key-sorted
// re-serialisation (19.19.x) or the insertion-order one (19.18.8 and older). So these
// disagreements with the SDK are expected and printed as deviations, not failures:
// accepted-by-legacy-only (19.19.1 rejects, 19.18.8 accepts, we accept), raw-bytes-signature
// (both reject, the signature verifies over the raw body, we accept) and body-jwt-claims (the
// SDK rejects a top-level exp/nbf member as a JWT claim, we accept). Any other case where our
// verdict differs from "19.19.1 or 19.18.8 accepts" fails.
//
// Direction B: `fspiop-guard sign --batch` signs the same inputs in mode sdk-19.19, sdk-19.18
// or get-signature. The output must get the same verdict from the validator of the mode's
// version (19.19.1 for sdk-19.19, 19.18.8 otherwise) as the SDK signer's own output. It must
// also equal that output byte for byte: the wire body and every header always, and the whole
// FSPIOP-Signature for RSA keys. ECDSA signatures are randomised, so for EC keys only the
// protected header inside FSPIOP-Signature is compared.
//
// Every case is also checked against what must hold by construction (the SDK accepts its own
// signature, a tampered request is rejected by everyone, ...). A miss there is reported as a
// "harness" failure: the generator or this script is wrong, not fspiop-guard.
//
// Output: failures as they happen, then per-direction counts per class with example case
// numbers, and as the last line "N passed, N failed" (deviations count as passed). Exit status
// 0 when nothing failed, 1 when a case failed, 2 when a tool is missing or broken.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { resolveCliPath, runCliBatch } from './lib/cli.mjs';
import {
  buildDirectionA,
  checkConstructionA,
  classifyA,
  EXPECTED_DEVIATIONS,
  oracleClassA,
  verifyRequestLine,
} from './lib/direction-a.mjs';
import { buildDirectionB, checkConstructionB, classifyB, signRequestLine } from './lib/direction-b.mjs';
import { generateCase } from './lib/generate.mjs';
import { generateKeyPool, publicKeyMap } from './lib/keys.mjs';
import {
  defaultOracleRoot,
  ensureOracleInstalled,
  LATEST_VERSION,
  LEGACY_VERSION,
  describeJwsDependencies,
  SDK_PACKAGE,
  SdkOracle,
} from './lib/oracles.mjs';
import { clip, describeDifference, Report } from './lib/report.mjs';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const SECTION_A = 'A';
const SECTION_B = 'B';
const SECTION_COVERAGE = 'generator coverage';
const SECTION_TITLES = {
  full: {
    [SECTION_A]: 'direction A (SDK signer -> fspiop-guard verify --profile mojaloop-sdk)',
    [SECTION_B]: 'direction B (fspiop-guard sign -> SDK validator of the mode)',
  },
  oracleOnly: {
    [SECTION_A]: 'direction A, oracle only (SDK signer -> SDK validators 19.19.1 and 19.18.8)',
    [SECTION_B]: 'direction B, oracle only (SDK signer -> SDK validator of the mode)',
  },
};

const USAGE = `usage: node tests/differential/run.mjs [--seed N] [--count N] [--case INDEX] [--cli PATH]
       [--timeout SECONDS] [--batch-size N] [--oracle-dir DIR] [--keep-going] [--verbose] [--oracle-only]
See the header comment of run.mjs for what each option sets.`;

class UsageError extends Error {}

function parseInteger(name, text, min) {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > 0xffffffff) {
    throw new UsageError(`--${name} must be an integer from ${min} to 4294967295, got ${JSON.stringify(text)}`);
  }
  return Number(text);
}

function parseOptions(argv) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      seed: { type: 'string', default: '1' },
      count: { type: 'string', default: '2000' },
      case: { type: 'string' },
      cli: { type: 'string' },
      timeout: { type: 'string', default: '120' },
      'batch-size': { type: 'string', default: '200' },
      'oracle-dir': { type: 'string' },
      'oracle-only': { type: 'boolean', default: false },
      'keep-going': { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (positionals.length > 0) {
    throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  }
  return {
    help: values.help,
    seed: parseInteger('seed', values.seed, 0),
    count: parseInteger('count', values.count, 1),
    caseIndex: values.case === undefined ? null : parseInteger('case', values.case, 0),
    cli: values.cli ?? null,
    timeoutMs: parseInteger('timeout', values.timeout, 1) * 1000,
    batchSize: parseInteger('batch-size', values['batch-size'], 1),
    oracleRoot: values['oracle-dir'] ?? defaultOracleRoot(),
    oracleOnly: values['oracle-only'],
    keepGoing: values['keep-going'],
    verbose: values.verbose,
  };
}

function verdictText(result) {
  return result.accepted ? 'accepted' : `rejected: ${clip(result.error, 140)}`;
}

function describeCaseA(caseA) {
  const { message, a, key } = caseA.testCase;
  const raw = caseA.raw.signatureVerifies
    ? `verifies${caseA.raw.headersConsistent ? '' : ', headers inconsistent'}`
    : 'does not verify';
  return [
    `${LATEST_VERSION} ${verdictText(caseA.latest)}`,
    `${LEGACY_VERSION} ${verdictText(caseA.legacy)}`,
    `raw-body signature ${raw}`,
    `signed by ${a.version} ${a.call}() ${key.alg}`,
    `body ${message.bodyShape}${message.bodyTextForm ? ` as ${message.bodyTextForm} string` : ''}${message.claims ? `, claim ${message.claims}` : ''}`,
    `mutations ${caseA.applied.join(',') || 'none'}`,
    `tamper ${a.tamper ? `${a.tamper}${caseA.tamper.detail ? `(${caseA.tamper.detail})` : ''}` : 'none'}`,
  ].join(' | ');
}

function describeOurVerdict(verdict) {
  return (
    `fspiop-guard ${verdict.accepted ? 'accepted' : 'rejected'} ` +
    `(reason ${verdict.reason ?? 'null'}, fspiop_error ${verdict.fspiop_error ?? 'null'}, payload_form ${verdict.payload_form ?? 'null'})`
  );
}

function describeCaseB(caseB, judgement) {
  const { key, b } = caseB.testCase;
  const validator = caseB.mode.validatorVersion;
  const parts = [`mode ${b.mode}`, key.alg];
  if (caseB.referenceVerdict) {
    parts.push(`${validator} on the SDK signer's output ${verdictText(caseB.referenceVerdict.matching)}`);
  }
  if (judgement?.verdict) {
    parts.push(`${validator} on fspiop-guard's output ${verdictText(judgement.verdict.matching)}`);
  }
  for (const [field, ours, sdk] of judgement?.differences ?? []) {
    parts.push(`${field} differs ${describeDifference(ours, sdk)}`);
  }
  return parts.join(' | ');
}

function noteCoverage(report, caseA) {
  const { message, a, b, key } = caseA.testCase;
  report.note(SECTION_COVERAGE, `key ${key.alg}`);
  report.note(SECTION_COVERAGE, `body ${message.bodyShape}`);
  if (message.bodyTextForm) {
    report.note(SECTION_COVERAGE, `body as ${message.bodyTextForm} string`);
  }
  if (message.claims) {
    report.note(SECTION_COVERAGE, `claim ${message.claims}`);
  }
  if (message.urlOddity) {
    report.note(SECTION_COVERAGE, `url ${message.urlOddity}`);
  }
  report.note(SECTION_COVERAGE, `A signer ${a.version} ${a.call}()`);
  for (const mutation of caseA.applied ?? []) {
    report.note(SECTION_COVERAGE, `A mutation ${mutation.replace(/:.*/, '')}`);
  }
  if (a.tamper) {
    report.note(SECTION_COVERAGE, `A tamper ${a.tamper}`);
  }
  report.note(SECTION_COVERAGE, `B mode ${b.mode}`);
}

/** Records the SDK-only view of a batch (--oracle-only). */
function judgeOracleOnly(report, casesA, casesB) {
  for (const caseA of casesA) {
    const index = caseA.testCase.index;
    const problem = checkConstructionA(caseA);
    if (problem) {
      report.record(SECTION_A, index, 'fail', 'harness', problem);
      continue;
    }
    const label = oracleClassA(caseA);
    report.record(SECTION_A, index, EXPECTED_DEVIATIONS[label] ? 'deviation' : 'pass', label, describeCaseA(caseA));
  }
  for (const caseB of casesB) {
    const index = caseB.testCase.index;
    const problem = checkConstructionB(caseB);
    if (problem) {
      report.record(SECTION_B, index, 'fail', 'harness', problem);
      continue;
    }
    const { matching, other } = caseB.referenceVerdict;
    const otherVersion = caseB.mode.validatorVersion === LATEST_VERSION ? LEGACY_VERSION : LATEST_VERSION;
    const label = `${caseB.testCase.b.mode} ${matching.accepted ? 'accepted' : 'rejected'} by ${caseB.mode.validatorVersion}`;
    report.note(SECTION_B, `${caseB.testCase.b.mode} also accepted by ${otherVersion}`, other.accepted ? 1 : 0);
    report.record(SECTION_B, index, 'pass', label, describeCaseB(caseB, null));
  }
}

/** Sends a batch through the CLI and records the comparison with the SDK. */
async function judgeWithCli(report, casesA, casesB, oracles, publicKeys, options) {
  const sendableA = [];
  for (const caseA of casesA) {
    const problem = checkConstructionA(caseA);
    if (problem) {
      report.record(SECTION_A, caseA.testCase.index, 'fail', 'harness', problem);
    } else {
      sendableA.push(caseA);
    }
  }
  const sendableB = [];
  for (const caseB of casesB) {
    const problem = checkConstructionB(caseB);
    if (problem) {
      report.record(SECTION_B, caseB.testCase.index, 'fail', 'harness', problem);
    } else {
      sendableB.push(caseB);
    }
  }

  const verdicts = await runCliBatch(options.cliPath, 'verify', sendableA.map((caseA) => verifyRequestLine(caseA, publicKeys)), options.timeoutMs);
  sendableA.forEach((caseA, position) => {
    const index = caseA.testCase.index;
    const verdict = verdicts[position].verdict;
    if (typeof verdict?.accepted !== 'boolean') {
      report.record(SECTION_A, index, 'fail', 'cli-output-invalid', `no verdict.accepted in ${clip(verdicts[position], 300)}`);
      return;
    }
    const { outcome, label } = classifyA(caseA, verdict);
    if (verdict.accepted) {
      report.note(SECTION_A, `fspiop-guard payload_form ${verdict.payload_form ?? 'null'}`);
    }
    report.record(SECTION_A, index, outcome, label, `${describeOurVerdict(verdict)} | ${describeCaseA(caseA)}`);
  });

  const signed = await runCliBatch(options.cliPath, 'sign', sendableB.map(signRequestLine), options.timeoutMs);
  sendableB.forEach((caseB, position) => {
    const judgement = classifyB(caseB, signed[position], oracles);
    const otherVersion = caseB.mode.validatorVersion === LATEST_VERSION ? LEGACY_VERSION : LATEST_VERSION;
    if (judgement.verdict) {
      report.note(SECTION_B, `${caseB.testCase.b.mode} also accepted by ${otherVersion}`, judgement.verdict.other.accepted ? 1 : 0);
    }
    report.record(SECTION_B, caseB.testCase.index, judgement.outcome, `${caseB.testCase.b.mode} ${judgement.label}`, describeCaseB(caseB, judgement));
  });
}

function loadOracles(options, publicKeys) {
  const log = (line) => console.error(line);
  const oracles = {};
  for (const version of [LATEST_VERSION, LEGACY_VERSION]) {
    const directory = ensureOracleInstalled(options.oracleRoot, version, log);
    oracles[version] = new SdkOracle(version, directory, publicKeys);
    console.log(`oracle ${SDK_PACKAGE}@${version} in ${directory} with ${describeJwsDependencies(directory)}`);
  }
  return oracles;
}

async function main() {
  let options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    console.error(`error: ${error.message}\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }

  if (!options.oracleOnly) {
    options.cliPath = resolveCliPath(options.cli, REPO_ROOT);
    if (!options.cliPath) {
      const where = options.cli ?? 'target/release and target/debug (and $CARGO_TARGET_DIR)';
      console.error(
        `error: fspiop-guard binary not found in ${where}. Build it with \`cargo build --release\`, ` +
          'pass --cli PATH, or run with --oracle-only to exercise the SDK side alone.',
      );
      return 2;
    }
  }

  const keyPool = generateKeyPool();
  const publicKeys = publicKeyMap(keyPool);
  let oracles;
  try {
    oracles = loadOracles(options, publicKeys);
  } catch (error) {
    console.error(`error: cannot set up the SDK oracles: ${error.message}`);
    return 2;
  }

  const indices =
    options.caseIndex === null ? Array.from({ length: options.count }, (_, index) => index) : [options.caseIndex];
  console.log(`seed ${options.seed}, ${indices.length} cases, ${options.oracleOnly ? 'oracle only' : `CLI ${options.cliPath}`}`);

  const report = new Report({ seed: options.seed, verbose: options.verbose || options.caseIndex !== null });
  for (const [name, title] of Object.entries(SECTION_TITLES[options.oracleOnly ? 'oracleOnly' : 'full'])) {
    report.defineSection(name, title);
  }
  let exitStatus = 0;
  for (let start = 0; start < indices.length; start += options.batchSize) {
    const batch = indices.slice(start, start + options.batchSize).map((index) => generateCase(options.seed, index, keyPool));
    const casesA = batch.map((testCase) => buildDirectionA(testCase, oracles, keyPool, publicKeys));
    const casesB = batch.map((testCase) => buildDirectionB(testCase, oracles, publicKeys));
    casesA.forEach((caseA) => noteCoverage(report, caseA));

    const failedBefore = report.failed;
    const judgedBefore = report.passed + report.failed;
    if (options.oracleOnly) {
      judgeOracleOnly(report, casesA, casesB);
    } else {
      try {
        await judgeWithCli(report, casesA, casesB, oracles, publicKeys, options);
      } catch (error) {
        console.error(`error: ${error.message}`);
        report.recordUnjudged(2 * batch.length - (report.passed + report.failed - judgedBefore));
        exitStatus = 2;
        break;
      }
    }

    const remaining = indices.length - (start + batch.length);
    if (report.failed > failedBefore && !options.keepGoing && remaining > 0) {
      console.log(`stopped after case ${batch.at(-1).index} because of failures, ${remaining} cases not run (pass --keep-going to run them)`);
      break;
    }
  }

  report.printSummary(EXPECTED_DEVIATIONS);
  if (exitStatus !== 0) {
    return exitStatus;
  }
  return report.failed === 0 ? 0 : 1;
}

process.exitCode = await main();
