// The only place that calls the fspiop-guard CLI. Both batch commands read JSON
// lines on stdin and write one JSON line per input line, in the same order:
//
//   fspiop-guard verify --batch --profile mojaloop-sdk
//     in:  {"id", "request": {"method", "url", "headers": {Name: value}, "body": string|null},
//           "keys": {"<fspId>": "<PEM>"}}
//          (header names differing only in case are repeated header lines)
//     out: {"id", "verdict": {"accepted": bool, "reason": string|null,
//           "fspiop_error": string|null, "payload_form": "raw"|"sorted-json"|"insertion-json"|null}}
//
//   fspiop-guard sign --batch
//     in:  {"id", "mode": "sdk-19.19"|"sdk-19.18"|"get-signature", "key": "<private PEM>",
//           "request": {"method", "url" (full URL), "headers": {lowercase name: value},
//           "body": JSON value or string}}
//     out: {"id", "headers": {lowercase name: value}, "body": "<wire body text>"} or {"id", "error"}

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

const COMMAND_ARGS = {
  verify: ['verify', '--batch', '--profile', 'mojaloop-sdk'],
  sign: ['sign', '--batch'],
};

const STDERR_LIMIT = 64 * 1024;

function stderrText(stderr) {
  return stderr.trim() === '' ? '(empty)' : `\n${stderr.trimEnd()}`;
}

/**
 * Returns the CLI binary to run: `explicitPath` when given, else the first that exists of
 * `$CARGO_TARGET_DIR/{release,debug}/fspiop-guard` and `<repo>/target/{release,debug}/fspiop-guard`.
 * Returns null when none exists.
 */
export function resolveCliPath(explicitPath, repoRoot) {
  if (explicitPath) {
    return fs.existsSync(explicitPath) ? path.resolve(explicitPath) : null;
  }
  const targetDirectories = [];
  if (process.env.CARGO_TARGET_DIR) {
    targetDirectories.push(path.resolve(repoRoot, process.env.CARGO_TARGET_DIR));
  }
  targetDirectories.push(path.join(repoRoot, 'target'));
  for (const directory of targetDirectories) {
    for (const profile of ['release', 'debug']) {
      const candidate = path.join(directory, profile, 'fspiop-guard');
      if (fs.existsSync(candidate)) {
        return candidate;
      }
    }
  }
  return null;
}

/**
 * Runs one batch through `fspiop-guard <command> --batch` in a single process and returns
 * the parsed output objects, in input order. Throws when the process fails to start, exits
 * with an error, times out (after killing it), or writes the wrong number of lines or ids
 * out of order.
 */
export async function runCliBatch(cliPath, command, requests, timeoutMs) {
  const args = COMMAND_ARGS[command];
  const commandLine = `${cliPath} ${args.join(' ')}`;
  const child = spawn(cliPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });

  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-STDERR_LIMIT);
  });

  const lines = [];
  const reader = readline.createInterface({ input: child.stdout, crlfDelay: Infinity });
  reader.on('line', (line) => {
    if (line.trim() !== '') {
      lines.push(line);
    }
  });

  const exited = new Promise((resolve, reject) => {
    child.on('error', (error) => reject(new Error(`${commandLine} could not start: ${error.message}`)));
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  // The promise is awaited only after the input is written. This handler keeps an early spawn
  // failure from being reported as an unhandled rejection before then.
  exited.catch(() => {});

  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);

  try {
    await writeLines(child.stdin, requests);
    const { code, signal } = await exited;
    if (timedOut) {
      throw new Error(
        `${commandLine} timed out after ${timeoutMs / 1000} s on a batch of ${requests.length} requests and was killed. ` +
          'Raise --timeout or check the CLI for a hang.',
      );
    }
    if (code !== 0) {
      throw new Error(`${commandLine} exited with ${signal ?? `status ${code}`}; stderr: ${stderrText(stderr)}`);
    }
  } finally {
    clearTimeout(timer);
  }

  if (lines.length !== requests.length) {
    throw new Error(
      `${commandLine} wrote ${lines.length} output lines for ${requests.length} input lines; stderr: ${stderrText(stderr)}`,
    );
  }
  return lines.map((line, index) => {
    let output;
    try {
      output = JSON.parse(line);
    } catch (error) {
      throw new Error(`${commandLine} wrote an invalid JSON line ${index + 1}: ${error.message}: ${line.slice(0, 200)}`);
    }
    if (output.id !== requests[index].id) {
      throw new Error(`${commandLine} line ${index + 1} has id ${JSON.stringify(output.id)}, expected ${JSON.stringify(requests[index].id)}`);
    }
    return output;
  });
}

/** Writes one JSON line per request, waiting for 'drain' so large batches stay bounded. */
async function writeLines(stdin, requests) {
  let writeError = null;
  stdin.on('error', (error) => {
    // EPIPE when the CLI exits early. The exit status and line count report that better.
    writeError = error;
  });
  for (const request of requests) {
    if (writeError) {
      break;
    }
    if (!stdin.write(`${JSON.stringify(request)}\n`)) {
      await new Promise((resolve) => {
        const done = () => {
          stdin.off('drain', done);
          stdin.off('close', done);
          resolve();
        };
        stdin.on('drain', done);
        stdin.on('close', done);
      });
    }
  }
  stdin.end();
}
