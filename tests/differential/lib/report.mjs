// Counting and printing of case outcomes. Failures print as they happen. Counts and examples
// print at the end, and the last line is always "N passed, N failed".

const EXAMPLES_PER_LABEL = 3;

/** Shortens text for one-line output, showing escapes (JSON string form). */
export function clip(value, limit = 160) {
  if (value === undefined) {
    return 'absent';
  }
  const text = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  return text.length > limit ? `${text.slice(0, limit)}...(${text.length} chars)` : text;
}

/**
 * Describes where two strings first differ, with some context on each side, e.g.
 * `at offset 346 (lengths 347 and 346): ours "...}} " vs SDK "...}}"`.
 */
export function describeDifference(ours, sdk, context = 40) {
  if (typeof ours !== 'string' || typeof sdk !== 'string') {
    return `ours ${clip(ours, 100)} vs SDK ${clip(sdk, 100)}`;
  }
  let offset = 0;
  while (offset < ours.length && offset < sdk.length && ours[offset] === sdk[offset]) {
    offset += 1;
  }
  const start = Math.max(0, offset - context);
  const excerpt = (text) => `${start > 0 ? '...' : ''}${JSON.stringify(text.slice(start, offset + context))}`;
  return `at offset ${offset} (lengths ${ours.length} and ${sdk.length}): ours ${excerpt(ours)} vs SDK ${excerpt(sdk)}`;
}

function increment(map, key, by = 1) {
  map.set(key, (map.get(key) ?? 0) + by);
}

export class Report {
  constructor({ seed, verbose, print = console.log }) {
    this.seed = seed;
    this.verbose = verbose;
    this.print = print;
    this.passed = 0;
    this.failed = 0;
    this.failedCases = [];
    this.sections = new Map();
  }

  /** Adds a section; `name` starts failure lines, `title` heads its counts in the summary. */
  defineSection(name, title) {
    this.sections.set(name, { title, labels: new Map(), examples: new Map(), notes: new Map(), outcomes: new Map() });
  }

  section(name) {
    if (!this.sections.has(name)) {
      this.defineSection(name, name);
    }
    return this.sections.get(name);
  }

  /** Records one judged case. `outcome` is 'pass', 'deviation' or 'fail'. */
  record(sectionName, index, outcome, label, detail) {
    const section = this.section(sectionName);
    increment(section.labels, label);
    increment(section.outcomes, outcome);
    if (!section.examples.has(label)) {
      section.examples.set(label, []);
    }
    const examples = section.examples.get(label);
    if (examples.length < EXAMPLES_PER_LABEL) {
      examples.push(index);
    }

    if (outcome === 'fail') {
      this.failed += 1;
      this.failedCases.push(index);
      this.print(`FAIL ${sectionName} case ${index} (seed ${this.seed}) ${label}: ${detail}`);
      return;
    }
    this.passed += 1;
    if (this.verbose) {
      this.print(`${outcome === 'deviation' ? 'DEVIATION' : 'ok'} ${sectionName} case ${index} (seed ${this.seed}) ${label}: ${detail}`);
    }
  }

  /** Counts a fact that is reported but judged by nothing (coverage, verdicts of interest). */
  note(sectionName, key, by = 1) {
    increment(this.section(sectionName).notes, key, by);
  }

  /** Counts cases that could not be judged (a broken tool) as failed. */
  recordUnjudged(count) {
    this.failed += count;
  }

  printSummary(descriptions = {}) {
    for (const section of this.sections.values()) {
      const total = [...section.outcomes.values()].reduce((sum, count) => sum + count, 0);
      const outcomeText = ['pass', 'deviation', 'fail'].map((outcome) => `${section.outcomes.get(outcome) ?? 0} ${outcome}`).join(', ');
      this.print('');
      this.print(total > 0 ? `${section.title}: ${total} case${total === 1 ? '' : 's'}, ${outcomeText}` : `${section.title}:`);
      const labels = [...section.labels.entries()].sort((left, right) => right[1] - left[1]);
      for (const [label, count] of labels) {
        const description = descriptions[label] ? `  (${descriptions[label]})` : '';
        const examples = section.examples.get(label).join(', ');
        this.print(`  ${label.padEnd(40)} ${String(count).padStart(6)}   e.g. cases ${examples}${description}`);
      }
      const notes = [...section.notes.entries()].sort((left, right) => left[0].localeCompare(right[0]));
      for (const [key, count] of notes) {
        this.print(`  ${key.padEnd(40)} ${String(count).padStart(6)}`);
      }
    }
    if (this.failedCases.length > 0) {
      this.print('');
      this.print(`reproduce one case with: node tests/differential/run.mjs --seed ${this.seed} --case ${this.failedCases[0]} --verbose`);
    }
    this.print(`${this.passed} passed, ${this.failed} failed`);
  }
}
