/**
 * The Dockerfile line parser, after moby/buildkit `frontend/dockerfile/parser`: line joining,
 * parser directives and the per-instruction line parsers. It turns text into unchecked nodes;
 * ./instructions makes the checks of buildkit's `instructions/parse.go`. Arguments stay raw:
 * quotes and variables are resolved by ./shell-lexer when the instruction runs.
 */
import { goQuote } from './go-quote';

/** A syntax error of the line parser or the instruction checks; parseDockerfile and parseChanges word it as dockerd does on their path. */
export class SyntaxFault extends Error {}

// Go's unicode.IsSpace, which moby trims lines with.
const SPACE_CHARS = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const LEADING_SPACE = new RegExp(`^[${SPACE_CHARS}]+`);
const TRAILING_SPACE = new RegExp(`[${SPACE_CHARS}]+$`);
const IS_SPACE = new RegExp(`^[${SPACE_CHARS}]$`);
/** moby's reWhitespace: what separates the keyword and whitespace-delimited words. */
const BLANKS = /[\t\v\f\r ]+/;
/** RE2's `\s` is [\t\n\f\r ]. */
const DIRECTIVE = /^#[\t\n\f\r ]*([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*$/;
export const ONBUILD_PREFIX = /^[\t\n\f\r ]*ONBUILD[\t\n\f\r ]*/i;

export const trimLeft = (s: string) => s.replace(LEADING_SPACE, '');
export const trim = (s: string) => trimLeft(s).replace(TRAILING_SPACE, '');

/** One instruction as the line parser leaves it: keyword, flag words and arguments, unchecked. */
export interface Node {
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

/** Splits the file into instructions: continuations joined, comments and blank lines dropped. */
export function splitInstructions(text: string): { nodes: Node[]; escapeToken: string } {
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
