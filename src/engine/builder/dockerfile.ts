/**
 * The Dockerfile parser of the classic builder, after moby/buildkit `frontend/dockerfile/parser`
 * (line joining, parser directives, the per-instruction line parsers) and `instructions/parse.go`
 * (the argument and flag checks dockerd makes on the whole file before step 1 runs). Arguments
 * stay raw: quotes and variables are resolved at build time by ./shell-lexer.
 */
import { InvalidParameterError } from '../../errors';
import { goQuote } from './shell-lexer';

export interface Instruction {
  /** Lower-case keyword: 'from', 'run', 'cmd', 'copy', ... */
  cmd: string;
  /** Flags before the arguments (`--name=value`; '' for a bare `--name`). Raw, not expanded. */
  flags: Record<string, string>;
  /** Arguments as moby's line parser for the instruction produces them; quotes and variables kept. */
  args: string[];
  /** The exec (JSON array) form was used; args are then the decoded strings. */
  json: boolean;
  /** The instruction as `Step N/M : ...` prints it: continuations joined, trimmed. */
  original: string;
  /** 1-based line where the instruction starts. */
  line: number;
}

export interface ParsedDockerfile {
  /** '\\' or '`' (`# escape=` directive). */
  escapeToken: string;
  instructions: Instruction[];
}

/** Raised by the line parsers; dockerd reports it as "failed to parse <file>: ...". */
class SyntaxFault extends Error {}

// Go's unicode.IsSpace, which moby trims lines with.
const SPACE_CHARS = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const LEADING_SPACE = new RegExp(`^[${SPACE_CHARS}]+`);
const TRAILING_SPACE = new RegExp(`[${SPACE_CHARS}]+$`);
const IS_SPACE = new RegExp(`^[${SPACE_CHARS}]$`);
/** moby's reWhitespace: what separates the keyword and whitespace-delimited words. */
const BLANKS = /[\t\v\f\r ]+/;
/** RE2's `\s` is [\t\n\f\r ]. */
const DIRECTIVE = /^#[\t\n\f\r ]*([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*$/;
const ONBUILD_PREFIX = /^[\t\n\f\r ]*ONBUILD[\t\n\f\r ]*/i;
const STAGE_NAME = /^[a-z][a-z0-9_.-]*$/;
const INSTRUCTIONS = ['add', 'arg', 'cmd', 'copy', 'entrypoint', 'env', 'expose', 'from', 'healthcheck', 'label', 'maintainer', 'onbuild', 'run', 'shell', 'stopsignal', 'user', 'volume', 'workdir'];

const trimLeft = (s: string) => s.replace(LEADING_SPACE, '');
const trim = (s: string) => trimLeft(s).replace(TRAILING_SPACE, '');

type FlagKind = 'bool' | 'string' | 'strings';
/** The flags each instruction accepts (BFlags). */
const FLAGS: Record<string, Record<string, FlagKind>> = {
  add: { chown: 'string', chmod: 'string', link: 'bool', 'keep-git-dir': 'bool', checksum: 'string', unpack: 'bool', exclude: 'strings' },
  copy: { chown: 'string', chmod: 'string', from: 'string', link: 'bool', parents: 'bool', exclude: 'strings' },
  from: { platform: 'string' },
  run: { mount: 'strings', network: 'string', security: 'string', device: 'strings' },
  healthcheck: { interval: 'string', timeout: 'string', 'start-period': 'string', 'start-interval': 'string', retries: 'string' },
};

interface Node {
  keyword: string;
  flagWords: string[];
  args: string[];
  json: boolean;
  line: string;
  start: number;
  /** ONBUILD's trigger. */
  child?: Node;
}

/** Parser directives (`# escape=`, `# syntax=`, `# check=`) count only before anything else. */
class Directives {
  escape = '\\';
  private done = false;
  private readonly seen = new Set<string>();

  check(token: string): void {
    if (this.done) return;
    const m = DIRECTIVE.exec(token);
    const key = m?.[1].toLowerCase();
    if (!m || !key || !['escape', 'syntax', 'check'].includes(key)) {
      this.done = true;
      return;
    }
    if (this.seen.has(key)) throw new SyntaxFault(`only one ${key} parser directive can be used`);
    this.seen.add(key);
    if (key === 'escape') {
      if (m[2] !== '`' && m[2] !== '\\') throw new SyntaxFault(`invalid escape token '${m[2]}' does not match \` or \\`);
      this.escape = m[2];
    }
  }

  /**
   * The escape token ending a line continues it, unless the token is itself escaped. Like
   * moby's regexp this misreads an escaped escape before a continuation (`a \\\`).
   */
  continuation(): RegExp {
    const e = this.escape === '\\' ? '\\\\' : '`';
    return new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
  }
}

export function parseDockerfile(text: string, fileName = 'Dockerfile'): ParsedDockerfile {
  if (text === '') throw new InvalidParameterError(`the Dockerfile (${fileName}) cannot be empty`);
  let nodes: Node[];
  let escapeToken: string;
  try {
    ({ nodes, escapeToken } = joinLines(text));
  } catch (err) {
    if (!(err instanceof SyntaxFault)) throw err;
    throw new InvalidParameterError(`failed to parse ${fileName}: ${err.message}`);
  }
  // Like instructions.Parse, every instruction is checked before the first step runs. Which come
  // before the first FROM is left to the builder, which also parses single ONBUILD triggers.
  const instructions = nodes.map((node) => {
    try {
      return toInstruction(node);
    } catch (err) {
      if (!(err instanceof SyntaxFault)) throw err;
      throw new InvalidParameterError(`dockerfile parse error on line ${node.start}: ${err.message}`);
    }
  });
  return { escapeToken, instructions };
}

/** Splits the file into instructions: continuations joined, comments and blank lines dropped. */
function joinLines(text: string): { nodes: Node[]; escapeToken: string } {
  const lines = text.split('\n');
  if (text.endsWith('\n')) lines.pop();
  lines[0] = lines[0].replace(/^\ufeff/, '');
  const directives = new Directives();
  // Drops the line end and a comment (`#` first; an instruction's first line is left-trimmed).
  const processLine = (raw: string, stripLeft: boolean) => {
    let token = raw.replace(/[\r\n]+$/, '');
    if (stripLeft) token = trimLeft(token);
    directives.check(token);
    return token.startsWith('#') ? '' : token;
  };
  const nodes: Node[] = [];
  for (let i = 0; i < lines.length; ) {
    const start = i + 1;
    let [line, ended] = trimContinuation(processLine(lines[i++], true), directives.continuation());
    if (ended && line === '') continue;
    while (!ended && i < lines.length) {
      const raw = lines[i++];
      const token = processLine(raw, false);
      if (trimLeft(raw.replace(/[\r\n]+$/, '')).startsWith('#') || trimLeft(token) === '') continue;
      let part: string;
      [part, ended] = trimContinuation(token, directives.continuation());
      line += part;
    }
    nodes.push(parseLine(line, directives.escape, start));
  }
  if (nodes.length === 0) throw new SyntaxFault('file with no instructions');
  return { nodes, escapeToken: directives.escape };
}

function trimContinuation(line: string, re: RegExp): [string, boolean] {
  return re.test(line) ? [line.replace(re, '$1'), false] : [line, true];
}

/** Keyword, leading `--flags`, then the rest for the keyword's line parser. */
function parseLine(line: string, esc: string, start: number): Node {
  const trimmed = trim(line);
  const gap = BLANKS.exec(trimmed);
  const keyword = gap ? trimmed.slice(0, gap.index) : trimmed;
  const { flagWords, rest } = extractFlags(gap ? trimmed.slice(gap.index + gap[0].length) : '');
  const node: Node = { keyword, flagWords, args: [], json: false, line, start };
  const cmd = keyword.toLowerCase();
  switch (cmd) {
    case 'run':
    case 'cmd':
    case 'entrypoint':
    case 'shell':
      Object.assign(node, maybeJSON(rest));
      break;
    case 'add':
    case 'copy':
    case 'volume':
      Object.assign(node, parseJSON(rest) ?? { args: splitBlanks(rest), json: false });
      break;
    case 'from':
    case 'expose':
      node.args = splitBlanks(rest);
      break;
    case 'maintainer':
    case 'stopsignal':
    case 'user':
    case 'workdir':
      node.args = rest ? [rest] : [];
      break;
    case 'env':
    case 'label':
      node.args = nameValues(rest, cmd.toUpperCase(), esc);
      break;
    case 'arg':
      node.args = shellWords(rest, esc);
      break;
    case 'onbuild':
      if (rest) node.child = parseLine(rest, esc, start);
      break;
    case 'healthcheck': {
      // The type is the first word; what follows is a command in either form.
      const type = /^\S*/.exec(rest)![0];
      if (!type) break;
      const command = maybeJSON(trimLeft(rest.slice(type.length)));
      node.args = [type, ...command.args];
      node.json = command.json;
      break;
    }
  }
  return node;
}

/**
 * Leading words that start with `--` (quotes removed, `\` escapes the next byte whatever the
 * escape token); a bare `--` ends them.
 */
function extractFlags(text: string): { flagWords: string[]; rest: string } {
  const flagWords: string[] = [];
  let pos = 0;
  for (;;) {
    while (pos < text.length && IS_SPACE.test(text[pos])) pos++;
    if (pos >= text.length || !text.startsWith('--', pos)) return { flagWords, rest: trim(text.slice(pos)) };
    let word = '';
    let quote = '';
    for (; pos < text.length; pos++) {
      let ch = text[pos];
      if (!quote && IS_SPACE.test(ch)) break;
      if (quote ? ch === quote : ch === '"' || ch === "'") {
        quote = quote ? '' : ch;
        continue;
      }
      if (ch === '\\') {
        if (pos + 1 === text.length) continue;
        ch = text[++pos];
      }
      word += ch;
    }
    if (word === '--') return { flagWords, rest: trim(text.slice(pos)) };
    flagWords.push(word);
  }
}

/** `[...]` that decodes to an array is the exec form; non-strings in it are an error, anything else is shell form. */
function parseJSON(rest: string): { args: string[]; json: true } | undefined {
  const text = trimLeft(rest);
  if (!text.startsWith('[')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  if (!value.every((v) => typeof v === 'string')) throw new SyntaxFault('when using JSON array syntax, arrays must be comprised of strings only');
  return { args: value as string[], json: true };
}

function maybeJSON(rest: string): { args: string[]; json: boolean } {
  if (!rest) return { args: [], json: false };
  return parseJSON(rest) ?? { args: [rest], json: false };
}

function splitBlanks(rest: string): string[] {
  return rest ? rest.split(new RegExp(BLANKS, 'g')) : [];
}

/**
 * Words split on blanks outside quotes. Quotes and escapes are kept (the expansion removes them),
 * except that an escape token ending the text is dropped.
 */
function shellWords(rest: string, esc: string): string[] {
  const chars = Array.from(rest);
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quoted = false; // a quote makes even an empty word count
  let quote = '';
  for (let i = 0; i < chars.length; i++) {
    let ch = chars[i];
    if (!inWord && !quote) {
      if (IS_SPACE.test(ch)) continue;
      inWord = true;
    }
    if (quote) {
      if (ch === quote) quote = '';
      else if (ch === esc && quote !== "'") {
        if (i + 1 === chars.length) continue;
        word += ch;
        ch = chars[++i];
      }
      word += ch;
      continue;
    }
    if (IS_SPACE.test(ch)) {
      if (quoted || word) words.push(word);
      word = '';
      inWord = quoted = false;
      continue;
    }
    if (ch === "'" || ch === '"') {
      quote = ch;
      quoted = true;
    } else if (ch === esc) {
      if (i + 1 === chars.length) continue;
      word += ch;
      ch = chars[++i];
    }
    word += ch;
  }
  if ((inWord || quote) && (quoted || word)) words.push(word);
  return words;
}

/** ENV and LABEL: `k=v ...` pairs, or the legacy `KEY value with spaces` when the first word has no `=`. */
function nameValues(rest: string, keyword: string, esc: string): string[] {
  const words = shellWords(rest, esc);
  if (words.length === 0) return [];
  if (!words[0].includes('=')) {
    const gap = BLANKS.exec(rest);
    if (!gap) throw new SyntaxFault(`${keyword} must have two arguments`);
    return [rest.slice(0, gap.index), rest.slice(gap.index + gap[0].length)];
  }
  return words.flatMap((w) => {
    const eq = w.indexOf('=');
    if (eq < 0) throw new SyntaxFault(`Syntax error - can't find = in ${goQuote(w)}. Must be of the form: name=value`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

/** The checks of buildkit's instructions.Parse, and the shape the builder consumes. */
function toInstruction(node: Node): Instruction {
  const cmd = node.keyword.toLowerCase();
  const upper = cmd.toUpperCase();
  const { args } = node;
  if (!INSTRUCTIONS.includes(cmd)) throw new SyntaxFault(`unknown instruction: ${node.keyword}${suggestion(node.keyword)}`);
  // ARG, STOPSIGNAL and HEALTHCHECK NONE never check their flags; the others call flags().
  const ins: Instruction = { cmd, flags: parseFlags(node.flagWords), args, json: node.json, original: trim(node.line), line: node.start };
  const flags = () => (ins.flags = parseFlags(node.flagWords, FLAGS[cmd] ?? {}));
  const exactlyOne = () => {
    if (args.length !== 1) throw new SyntaxFault(`${upper} requires exactly one argument`);
  };
  const atLeastOne = () => {
    if (args.length === 0) throw new SyntaxFault(`${upper} requires at least one argument`);
  };
  switch (cmd) {
    case 'env':
    case 'label':
      flags();
      atLeastOne();
      if (args.some((a, i) => i % 2 === 0 && a === '')) throw new SyntaxFault(`${upper} names can not be blank`);
      break;
    case 'add':
    case 'copy':
      if (args.length < 2) throw new SyntaxFault(`${upper} requires at least two arguments, but only one was provided. Destination could not be determined`);
      flags();
      break;
    case 'from':
      if (args.length === 3 && args[1].toLowerCase() === 'as') {
        if (!STAGE_NAME.test(args[2].toLowerCase())) {
          throw new SyntaxFault(`invalid name for build stage: ${goQuote(args[2])}, name can't start with a number or contain symbols`);
        }
      } else if (args.length !== 1) throw new SyntaxFault('FROM requires either one or three arguments');
      flags();
      break;
    case 'onbuild': {
      if (!node.child) throw new SyntaxFault('ONBUILD requires at least one argument');
      flags();
      const trigger = node.child.keyword.toUpperCase();
      if (trigger === 'ONBUILD') throw new SyntaxFault('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
      if (trigger === 'MAINTAINER' || trigger === 'FROM') throw new SyntaxFault(`${trigger} isn't allowed as an ONBUILD trigger`);
      ins.args = [node.line.replace(ONBUILD_PREFIX, '')];
      break;
    }
    case 'healthcheck': {
      atLeastOne();
      const type = args[0].toUpperCase();
      if (type === 'NONE') {
        if (args.length > 1) throw new SyntaxFault('HEALTHCHECK NONE takes no arguments');
      } else {
        flags();
        if (type !== 'CMD') throw new SyntaxFault(`Unknown type ${goQuote(type)} in HEALTHCHECK (try CMD)`);
        if (args.length === 1) throw new SyntaxFault('Missing command after HEALTHCHECK CMD');
      }
      ins.args = [type, ...args.slice(1)];
      break;
    }
    case 'maintainer':
    case 'workdir':
    case 'user':
      exactlyOne();
      flags();
      break;
    case 'stopsignal':
      exactlyOne();
      break;
    case 'expose':
      atLeastOne();
      flags();
      break;
    case 'volume':
      atLeastOne();
      flags();
      if (args.some((v) => trim(v) === '')) throw new SyntaxFault('VOLUME specified can not be an empty string');
      break;
    case 'arg':
      atLeastOne();
      if (args.some((a) => a.startsWith('='))) throw new SyntaxFault('ARG names can not be blank');
      break;
    case 'shell':
      flags();
      atLeastOne();
      if (!node.json) throw new SyntaxFault('SHELL requires the arguments to be in JSON form');
      break;
    default: // run, cmd, entrypoint
      flags();
  }
  return ins;
}

/** BFlags.Parse against `spec`; without one the flags are only recorded. */
function parseFlags(words: string[], spec?: Record<string, FlagKind>): Record<string, string> {
  const out = new Map<string, string>();
  for (const word of words) {
    const body = word.slice(2);
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    const value = eq < 0 ? '' : body.slice(eq + 1);
    if (spec) {
      const kind = Object.hasOwn(spec, name) ? spec[name] : undefined;
      if (!kind) throw new SyntaxFault(`Unknown flag: ${name}`);
      if (out.has(name) && kind !== 'strings') throw new SyntaxFault(`Duplicate flag specified: ${name}`);
      if (kind === 'bool') {
        if (eq >= 0 && value === '') throw new SyntaxFault(`Missing a value on flag: ${name}`);
        if (value !== '' && !['true', 'false'].includes(value.toLowerCase())) {
          throw new SyntaxFault(`Expecting boolean value for flag ${name}, not: ${value}`);
        }
      } else if (eq < 0) throw new SyntaxFault(`Missing a value on flag: ${name}`);
    }
    out.set(name, value);
  }
  return Object.fromEntries(out);
}

/** buildkit's " (did you mean X?)": the closest keyword under edit distance 3, in the input's case. */
function suggestion(word: string): string {
  const lower = word.toLowerCase();
  let best = '';
  let bestDistance = 3;
  for (const name of INSTRUCTIONS) {
    const d = editDistance(lower, name);
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  if (!best) return '';
  return ` (did you mean ${word === lower ? best : word === word.toUpperCase() ? best.toUpperCase() : best}?)`;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}
