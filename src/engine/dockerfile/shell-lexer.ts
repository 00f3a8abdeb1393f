/**
 * Word expansion of the classic builder, after moby/buildkit `frontend/dockerfile/shell/lex.go`:
 * quotes, the escape token, `$VAR` and the `${VAR...}` forms, and the word splitting EXPOSE uses.
 * Also which instructions dockerd expands before dispatching them (builder/dockerfile evaluator.go
 * and the `Expand` methods of buildkit's instructions).
 */
import { InvalidParameterError } from '../../errors';
import { goQuote } from './go-quote';
import type { Instruction } from './instructions';

type Env = Record<string, string>;
const EOF = null;
type Ch = string | typeof EOF;

/** Go's unicode.IsSpace: the separators of ProcessWords. */
const GO_SPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/;

/** Collects the words of ProcessWords: text from `$` expansions splits on blanks, quoted text never does. */
class Words {
  private word = '';
  private inWord = false;
  readonly list: string[] = [];

  addChar(ch: string): void {
    if (!GO_SPACE.test(ch)) this.addRaw(ch);
    else if (this.inWord && this.word) this.flush();
  }
  addRaw(s: string): void {
    this.word += s;
    this.inWord = true;
  }
  addSplit(s: string): void {
    for (const ch of s) this.addChar(ch);
  }
  flush(): string[] {
    if (this.word) this.list.push(this.word);
    this.word = '';
    this.inWord = false;
    return this.list;
  }
}

class LexError extends Error {}

class Lexer {
  private readonly chars: string[];
  private pos = 0;
  /** Keep escape tokens in the text: used for the patterns of `#`, `%` and `/`. */
  private rawEscapes = false;

  constructor(text: string, private readonly env: Env, private readonly esc: string) {
    this.chars = Array.from(text);
  }

  private peek(): Ch {
    return this.pos < this.chars.length ? this.chars[this.pos] : EOF;
  }
  private next(): Ch {
    return this.pos < this.chars.length ? this.chars[this.pos++] : EOF;
  }
  private lookup(name: string): [string, boolean] {
    return Object.hasOwn(this.env, name) ? [this.env[name], true] : ['', false];
  }

  /** Reads up to `stop` (consumed) or the end of input; returns the text and its words. */
  stopOn(stop: Ch, raw: boolean): { text: string; words: string[] } {
    const saved = this.rawEscapes;
    this.rawEscapes = raw;
    try {
      let text = '';
      const words = new Words();
      for (let ch = this.peek(); ch !== EOF; ch = this.peek()) {
        if (stop !== EOF && ch === stop) {
          this.next();
          return { text, words: words.flush() };
        }
        if (ch === '$' || ch === "'" || ch === '"') {
          const part = ch === '$' ? this.dollar() : ch === "'" ? this.singleQuote() : this.doubleQuote();
          text += part;
          if (ch === '$') words.addSplit(part);
          else words.addRaw(part);
          continue;
        }
        let c = this.next() as string;
        if (c === this.esc) {
          if (this.rawEscapes) {
            words.addRaw(c);
            text += c;
          }
          const escaped = this.next();
          if (escaped === EOF) break; // a trailing escape token is dropped
          c = escaped;
          words.addRaw(c);
        } else {
          words.addChar(c);
        }
        text += c;
      }
      if (stop !== EOF) throw new LexError(`unexpected end of statement while looking for matching ${stop}`);
      return { text, words: words.flush() };
    } finally {
      this.rawEscapes = saved;
    }
  }

  /** Everything up to the next `'` is literal; nothing can be escaped. */
  private singleQuote(): string {
    this.next();
    let out = '';
    for (;;) {
      const ch = this.next();
      if (ch === EOF) throw new LexError('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") return out;
      out += ch;
    }
  }

  /** `$` expands; the escape token escapes only `"`, `$` and itself, and is kept before anything else. */
  private doubleQuote(): string {
    this.next();
    let out = '';
    for (;;) {
      const ch = this.peek();
      if (ch === EOF) throw new LexError('unexpected end of statement while looking for matching double-quote');
      if (ch === '"') {
        this.next();
        return out;
      }
      if (ch === '$') {
        out += this.dollar();
        continue;
      }
      let c = this.next() as string;
      if (c === this.esc) {
        if (this.rawEscapes) out += c;
        const after = this.peek();
        if (after === EOF) continue;
        if (after === '"' || after === '$' || after === this.esc) c = this.next() as string;
      }
      out += c;
    }
  }

  private dollar(): string {
    this.next();
    if (this.peek() !== '{') {
      const name = this.name();
      return name === '' ? '$' : this.lookup(name)[0];
    }
    this.next();
    const first = this.peek();
    if (first === EOF) throw new LexError("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new LexError('syntax error: bad substitution');
    const name = this.name();
    // Go prints the end of input as U+FFFD in "unsupported modifier" messages.
    let op = this.next() ?? '\ufffd';
    let ops = op;
    if (op === '}') return this.lookup(name)[0];
    if (op === '/') return this.replace(name);
    if (op !== ':' && !'+-?#%'.includes(op)) throw new LexError(`unsupported modifier (${ops}) in substitution`);
    const nullIsUnset = op === ':';
    if (nullIsUnset) {
      op = this.next() ?? '\ufffd';
      ops += op;
    }
    let word: string;
    try {
      word = this.stopOn('}', op === '#' || op === '%').text;
    } catch (err) {
      if (this.peek() === EOF) throw new LexError("syntax error: missing '}'");
      throw err;
    }
    const [value, set] = this.lookup(name);
    const unset = !set || (nullIsUnset && value === '');
    switch (op) {
      case '-':
        return unset ? word : value;
      case '+':
        return unset ? '' : word;
      case '?':
        if (unset) throw new LexError(`${name}: ${word || (set ? 'is not allowed to be empty' : 'is not allowed to be unset')}`);
        return value;
      case '#':
      case '%': {
        const greedy = word.startsWith(op);
        const pattern = greedy ? word.slice(1) : word;
        return op === '#' ? trimPrefix(pattern, value, greedy) : trimSuffix(pattern, value, greedy);
      }
      default:
        throw new LexError(`unsupported modifier (${ops}) in substitution`);
    }
  }

  /** `${VAR/pattern/repl}` replaces the first match, `${VAR//pattern/repl}` every match. */
  private replace(name: string): string {
    const all = this.peek() === '/';
    if (all) this.next();
    const part = (stop: string, missing: string) => {
      try {
        return this.stopOn(stop, true).text;
      } catch (err) {
        if (this.peek() === EOF) throw new LexError(missing);
        throw err;
      }
    };
    const pattern = part('/', "syntax error: missing '/' in ${}");
    const replacement = part('}', "syntax error: missing '}'");
    const value = this.lookup(name)[0];
    const re = shellPattern(pattern, true, false);
    if (all) return goReplaceAll(re, value, replacement);
    const m = re.exec(value);
    return m ? value.slice(0, m.index) + replacement + value.slice(m.index + m[0].length) : value;
  }

  /** A name: digits only if it starts with one, a single special parameter, or letters, digits and `_`. */
  private name(): string {
    let name = '';
    for (let ch = this.peek(); ch !== EOF; ch = this.peek()) {
      if (name === '' && /^\p{Nd}$/u.test(ch)) {
        while (this.peek() !== EOF && /^\p{Nd}$/u.test(this.peek()!)) name += this.next();
        return name;
      }
      if (name === '' && '@*#?-$!0'.includes(ch)) return this.next()!;
      if (!/^[\p{L}\p{Nd}_]$/u.test(ch)) break;
      name += this.next();
    }
    return name;
  }
}

/** Shell wildcards (`*`, `?`, `\` escapes) as a RegExp with Go's semantics (`.` never matches `\n`). */
function shellPattern(pattern: string, greedy: boolean, anchored: boolean): RegExp {
  const chars = Array.from(pattern);
  let src = anchored ? '^' : '';
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    if (ch === '*') src += greedy ? '[^\\n]*' : '[^\\n]*?';
    else if (ch === '?') src += '[^\\n]';
    else if (ch === '\\') {
      // An escaped `}` or `/` was only escaped for ${}; the escape is not part of the pattern.
      if (chars[i + 1] === '}' || chars[i + 1] === '/') continue;
      const next = chars[++i];
      if (next !== '*' && next !== '?' && next !== '\\') {
        throw new LexError(`invalid pattern (${pattern}) in substitution: invalid escape '\\${next ?? '\ufffd'}'`);
      }
      src += '\\' + next;
    } else if ('[]{}.+()|^$'.includes(ch)) src += '\\' + ch;
    else src += ch;
  }
  return new RegExp(src, 'gu');
}

function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = shellPattern(pattern, greedy, true).exec(value);
  return m ? value.slice(m[0].length) : value;
}

/** The shortest (or longest) rightmost match, found as a leftmost match on reversed text. */
function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  const chars = Array.from(pattern);
  const reversed: string[] = [];
  for (let i = 0; i < chars.length; i++) {
    if (chars[i] === '\\' && i < chars.length - 1) reversed.unshift('\\' + chars[++i]);
    else reversed.unshift(chars[i]);
  }
  const rev = (s: string) => Array.from(s).reverse().join('');
  return rev(trimPrefix(reversed.join(''), rev(value), greedy));
}

/** Go's Regexp.ReplaceAllString: an empty match right after a match is skipped, `$0`/`${0}` is the match. */
function goReplaceAll(re: RegExp, src: string, template: string): string {
  let out = '';
  let lastEnd = 0;
  let searchPos = 0;
  while (searchPos <= src.length) {
    re.lastIndex = searchPos;
    const m = re.exec(src);
    if (!m) break;
    const start = m.index;
    const end = start + m[0].length;
    out += src.slice(lastEnd, start);
    if (end > lastEnd || start === 0) out += expandTemplate(template, m[0]);
    lastEnd = end;
    const width = searchPos < src.length ? String.fromCodePoint(src.codePointAt(searchPos)!).length : 1;
    searchPos = searchPos + width > end ? searchPos + width : end;
  }
  return out + src.slice(lastEnd);
}

function expandTemplate(template: string, match: string): string {
  let out = '';
  for (let i = 0; i < template.length; ) {
    const j = template.indexOf('$', i);
    if (j < 0) return out + template.slice(i);
    out += template.slice(i, j);
    if (template[j + 1] === '$') {
      out += '$';
      i = j + 2;
      continue;
    }
    const rest = template.slice(j + 1);
    const braced = rest.startsWith('{');
    const ref = braced ? /^\{([\p{L}\p{Nd}_]+)\}/u.exec(rest) : /^[\p{L}\p{Nd}_]+/u.exec(rest);
    if (!ref) {
      out += '$'; // malformed reference: Go keeps the `$`
      i = j + 1;
      continue;
    }
    // Only group 0 (the whole match) exists in these patterns; any other reference is empty.
    if ((braced ? ref[1] : ref[0]) === '0') out += match;
    i = j + 1 + ref[0].length;
  }
  return out;
}

function lex(text: string, env: Env, escapeToken: string): { text: string; words: string[] } {
  try {
    return new Lexer(text, env, escapeToken).stopOn(EOF, false);
  } catch (err) {
    if (!(err instanceof LexError)) throw err;
    throw new InvalidParameterError(`failed to process ${goQuote(text)}: ${err.message}`);
  }
}

export function expandWord(word: string, env: Record<string, string>, escapeToken = '\\'): string {
  return lex(word, env, escapeToken).text;
}

export function expandWords(text: string, env: Record<string, string>, escapeToken = '\\'): string[] {
  return lex(text, env, escapeToken).words;
}

/** ONBUILD is not here: its trigger is expanded when it runs, as the instruction it is. */
const EXPANDED = new Set(['add', 'arg', 'copy', 'env', 'expose', 'from', 'label', 'stopsignal', 'user', 'volume', 'workdir']);

export function expandsEnv(cmd: string): boolean {
  return EXPANDED.has(cmd.toLowerCase());
}

/**
 * Expands as dockerd does before dispatch, every word with the same `env` (so `ENV a=1 b=$a` sees
 * the old `a`). For FROM only the image name is expanded (the caller passes the meta ARGs, as
 * dockerd does); EXPOSE words are sorted first, then split after expansion; ARG keys and values
 * are expanded separately. JSON forms of ADD, COPY and VOLUME are expanded too, as in moby.
 */
export function expandInstructionArgs(ins: Instruction, env: Record<string, string>, escapeToken = '\\'): string[] {
  const one = (w: string) => expandWord(w, env, escapeToken);
  switch (ins.cmd) {
    case 'from':
      return ins.args.length ? [one(ins.args[0]), ...ins.args.slice(1)] : [];
    case 'expose':
      return [...ins.args].sort().flatMap((w) => expandWords(w, env, escapeToken));
    case 'arg':
      return ins.args.map((w) => {
        const eq = w.indexOf('=');
        return eq < 0 ? one(w) : `${one(w.slice(0, eq))}=${one(w.slice(eq + 1))}`;
      });
    default:
      return expandsEnv(ins.cmd) ? ins.args.map(one) : ins.args;
  }
}
