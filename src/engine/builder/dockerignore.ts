/**
 * .dockerignore for the classic builder, as the docker CLI and dockerd read and match it
 * (`[moby/patternmatcher] ignorefile.ReadAll` + `patternmatcher.go`). Patterns look like Go's
 * filepath.Match, but patternmatcher turns each one into a Go regexp by plain text
 * substitution, so odd corners ([[:digit:]], \d, a `*` inside brackets) follow Go's regexp
 * reading of that text, not filepath.Match. We rebuild the same Go regexp text and then read it
 * as RE2 would, to keep those corners identical.
 */
import { InvalidParameterError } from '../../errors';

export interface IgnoreMatcher {
  /** Whether `relPath` ('src/a.txt': slash-separated, relative to the context root) is excluded. */
  ignored(relPath: string): boolean;
  /**
   * Whether an excluded directory must still be walked for `!` exceptions. This is the docker
   * CLI's own test (an exception whose text starts with `dir/`), so an exception that starts
   * with a wildcard does not rescue files of an excluded directory, there or here.
   */
  mayContainIncluded(dirRelPath: string): boolean;
}

const BAD_PATTERN = 'syntax error in pattern'; // Go's filepath.ErrBadPattern

/** The patterns of a .dockerignore file's text, cleaned as ReadAll does, validated as patternmatcher.New does. */
export function parseDockerignore(text: string): string[] {
  const out: string[] = [];
  // bufio.ScanLines: split on \n, drop one trailing \r; the BOM only goes from the first line.
  text.replace(/^\uFEFF/, '').split('\n').forEach((raw) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.startsWith('#')) return; // before trimming: "  # x" is a pattern
    let p = goTrimSpace(line);
    if (!p) return;
    const invert = p[0] === '!';
    if (invert) p = goTrimSpace(p.slice(1));
    if (p) {
      p = goClean(p);
      if (p.length > 1 && p[0] === '/') p = p.slice(1);
    }
    out.push(invert ? `!${p}` : p);
  });
  compileAll(out);
  return out;
}

/** A matcher for patterns as parseDockerignore returns them; throws like parseDockerignore. */
export function ignoreMatcher(patterns: readonly string[]): IgnoreMatcher {
  const compiled = compileAll(patterns);
  const exceptions = compiled.filter((p) => p.exclusion).map((p) => `${p.text}/`);
  return {
    ignored(relPath) {
      const file = goClean(relPath);
      if (file === '.') return false;
      const cut = file.lastIndexOf('/');
      const parts = cut < 0 ? [] : file.slice(0, cut).split('/');
      const parents = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
      let matched = false;
      for (const p of compiled) {
        // An include cannot change an excluded path, nor an exception an included one.
        if (p.exclusion !== matched) continue;
        if (p.test(file) || parents.some((d) => p.test(d))) matched = !p.exclusion;
      }
      return matched;
    },
    mayContainIncluded(dirRelPath) {
      const dir = `${goClean(dirRelPath)}/`;
      return exceptions.some((e) => e.startsWith(dir));
    },
  };
}

interface Compiled {
  exclusion: boolean;
  text: string;
  test(path: string): boolean;
}

/** patternmatcher.New: trim, skip blanks, Clean, split off `!`, check the syntax. */
function compileAll(patterns: readonly string[]): Compiled[] {
  const out: Compiled[] = [];
  for (const raw of patterns) {
    let text = goTrimSpace(raw);
    if (!text) continue;
    text = goClean(text);
    const exclusion = text[0] === '!';
    if (exclusion) {
      if (text.length === 1) throw new InvalidParameterError('illegal exclusion pattern: "!"');
      text = text.slice(1);
    }
    if (!validGlob(text)) throw new InvalidParameterError(BAD_PATTERN);
    out.push({ exclusion, text, test: compilePattern(text) });
  }
  return out;
}

// Go's unicode.IsSpace, which differs from String.prototype.trim on U+0085 and U+FEFF.
const GO_SPACE = '[\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]+';
const GO_TRIM = new RegExp(`^${GO_SPACE}|${GO_SPACE}$`, 'g');
const goTrimSpace = (s: string): string => s.replace(GO_TRIM, '');

/** Go's path/filepath.Clean on a slash-separated path (path.posix.normalize would keep a trailing '/'). */
function goClean(p: string): string {
  if (p === '') return '.';
  const rooted = p[0] === '/';
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part !== '..') out.push(part);
    else if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else if (!rooted) out.push('..');
  }
  const joined = out.join('/');
  return rooted ? `/${joined}` : joined || '.';
}

/**
 * Whether filepath.Match would accept the pattern (patternmatcher.New calls it only for its
 * error). A class needs at least one item; items and range ends may be escaped, must not be
 * '-' or ']', and must not end the pattern; a trailing '\' is an error.
 */
function validGlob(pattern: string): boolean {
  const s = Array.from(pattern);
  let i = 0;
  const item = (): boolean => {
    if (i >= s.length || s[i] === '-' || s[i] === ']') return false;
    if (s[i] === '\\' && ++i >= s.length) return false;
    return ++i < s.length;
  };
  while (i < s.length) {
    const c = s[i++];
    if (c === '\\') {
      if (i++ >= s.length) return false;
    } else if (c === '[') {
      if (s[i] === '^') i++;
      for (let n = 0; !(s[i] === ']' && n > 0); n++) {
        if (!item()) return false;
        if (s[i] === '-') {
          i++;
          if (!item()) return false;
        }
      }
      i++;
    }
  }
  return true;
}

/** patternmatcher's compile: exact, prefix ('a/**') and suffix ('**\/a') patterns skip the regexp. */
function compilePattern(text: string): (path: string) => boolean {
  const s = Array.from(text);
  let re = '^';
  let kind: 'exact' | 'prefix' | 'suffix' | 'regexp' = 'exact';
  for (let token = 0, i = 0; i < s.length; token++) {
    const c = s[i++];
    if (c === '*' && s[i] === '*') {
      i++;
      if (s[i] === '/') i++;
      if (i < s.length) {
        re += '(.*/)?';
        kind = 'regexp';
      } else if (kind === 'exact') kind = 'prefix';
      else {
        re += '.*';
        kind = 'regexp';
      }
      if (token === 0) kind = 'suffix';
    } else if (c === '*' || c === '?') {
      re += c === '*' ? '[^/]*' : '[^/]';
      kind = 'regexp';
    } else if ('.+()|{}$'.includes(c)) re += `\\${c}`;
    else if (c === '\\') {
      re += `\\${s[i++]}`; // validGlob ruled out a trailing '\'
      kind = 'regexp';
    } else {
      re += c;
      if (c === '[' || c === ']') kind = 'regexp';
    }
  }
  switch (kind) {
    case 'exact':
      return (path) => path === text;
    case 'prefix':
      return (path) => path.startsWith(text.slice(0, -2));
    case 'suffix': {
      // Plain text after '**', so '**foo' also matches 'barfoo', as in moby.
      const suffix = text.slice(2);
      return (path) => path.endsWith(suffix) || (suffix[0] === '/' && path === suffix.slice(1));
    }
    default: {
      const regexp = goRegexp(`${re}$`);
      // Go compiles lazily and fails the match, so the error shows only if the pattern is tried.
      return regexp
        ? (path) => regexp.test(path)
        : () => {
            throw new InvalidParameterError(BAD_PATTERN);
          };
    }
  }
}

class GoSyntaxError extends Error {}

function goRegexp(src: string): RegExp | undefined {
  try {
    return new RegExp(goRegexpToJs(src), 'u');
  } catch {
    return undefined; // GoSyntaxError, or a translation JS refuses: a bad pattern either way
  }
}

/** Code point as a JS regexp atom that means itself in and out of classes, in 'u' mode. */
const lit = (cp: number): string => (/[0-9A-Za-z]/.test(String.fromCodePoint(cp)) ? String.fromCodePoint(cp) : `\\u{${cp.toString(16)}}`);

type Ranges = Array<[number, number]>;
const ASCII_CLASSES: Record<string, Ranges> = {
  alnum: [[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]],
  alpha: [[0x41, 0x5a], [0x61, 0x7a]],
  ascii: [[0, 0x7f]],
  blank: [[9, 9], [0x20, 0x20]],
  cntrl: [[0, 0x1f], [0x7f, 0x7f]],
  digit: [[0x30, 0x39]],
  graph: [[0x21, 0x7e]],
  lower: [[0x61, 0x7a]],
  print: [[0x20, 0x7e]],
  punct: [[0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]],
  space: [[9, 13], [0x20, 0x20]],
  upper: [[0x41, 0x5a]],
  word: [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]],
  xdigit: [[0x30, 0x39], [0x41, 0x46], [0x61, 0x66]],
};
// RE2's Perl classes are ASCII-only (JS \s is not).
const PERL: Record<string, Ranges> = { d: ASCII_CLASSES.digit, s: [[9, 10], [12, 13], [0x20, 0x20]], w: ASCII_CLASSES.word };

function classBody(ranges: Ranges, negate: boolean): string {
  let set = ranges;
  if (negate) {
    set = [];
    let next = 0;
    for (const [lo, hi] of ranges) {
      if (lo > next) set.push([next, lo - 1]);
      next = hi + 1;
    }
    if (next <= 0x10ffff) set.push([next, 0x10ffff]);
  }
  return set.map(([lo, hi]) => (lo === hi ? lit(lo) : `${lit(lo)}-${lit(hi)}`)).join('');
}

/**
 * Reads Go regexp text (RE2, Perl flags, no (?flags) since '(' is always escaped here) and
 * writes the JS regexp that means the same. Throws GoSyntaxError where Go's compile fails.
 */
function goRegexpToJs(src: string): string {
  const s = Array.from(src);
  const cp = (k: number) => s[k].codePointAt(0)!;
  let i = 0;

  // \p and \P: '{' is always escaped by the pattern compiler, so only one-letter categories occur.
  const unicodeClass = (): string | undefined => {
    if (s[i] !== '\\' || (s[i + 1] !== 'p' && s[i + 1] !== 'P')) return undefined;
    const name = s[i + 2];
    if (name === undefined || !'CLMNPSZ'.includes(name)) throw new GoSyntaxError();
    i += 3;
    return `\\${s[i - 2]}{${name}}`;
  };
  const perlClass = (): string | undefined => {
    const k = s[i] === '\\' ? s[i + 1]?.toLowerCase() : undefined;
    if (k === undefined || !PERL[k]) return undefined;
    i += 2;
    return classBody(PERL[k], s[i - 1] !== k);
  };
  // One escaped character (RE2 parseEscape); i is on the '\'.
  const escape = (): number => {
    const c = s[i + 1];
    i += 2;
    if (c === undefined) throw new GoSyntaxError();
    if (cp(i - 1) < 0x80 && !/[0-9A-Za-z]/.test(c)) return cp(i - 1);
    const octal = (k: number) => s[k] !== undefined && s[k] >= '0' && s[k] <= '7';
    if (c === '0' || (c >= '1' && c <= '7' && octal(i))) {
      let r = Number(c);
      for (let n = 0; n < 2 && octal(i); n++) r = r * 8 + Number(s[i++]);
      return r;
    }
    if (c === 'x') {
      const hex = (k: number) => (s[k] !== undefined && /^[0-9A-Fa-f]$/.test(s[k]) ? parseInt(s[k], 16) : -1);
      const [x, y] = [hex(i), hex(i + 1)];
      if (x < 0 || y < 0) throw new GoSyntaxError(); // \x{...} cannot occur: '{' arrives escaped
      i += 2;
      return x * 16 + y;
    }
    const simple: Record<string, number> = { a: 7, f: 12, n: 10, r: 13, t: 9, v: 11 };
    if (c in simple) return simple[c];
    throw new GoSyntaxError();
  };
  const classChar = (): number => {
    if (i >= s.length) throw new GoSyntaxError(); // missing closing ]
    return s[i] === '\\' ? escape() : cp(i++);
  };
  const charClass = (): string => {
    i++; // '['
    const negated = s[i] === '^';
    if (negated) i++;
    let body = '';
    for (let first = true; i >= s.length || s[i] !== ']' || first; first = false) {
      if (s[i] === '[' && s[i + 1] === ':') {
        // RE2 looks for ':]' anywhere further on, even past this class, and insists on a known name.
        const rest = s.slice(i + 2).join('');
        const end = rest.indexOf(':]');
        if (end >= 0) {
          const name = rest.slice(0, end);
          const neg = name.startsWith('^');
          const ranges = ASCII_CLASSES[neg ? name.slice(1) : name];
          if (!ranges) throw new GoSyntaxError();
          body += classBody(ranges, neg);
          i += 2 + Array.from(name).length + 2;
          continue;
        }
      }
      const named = unicodeClass() ?? perlClass();
      if (named !== undefined) {
        body += named;
        continue;
      }
      const lo = classChar();
      let hi = lo;
      if (s[i] === '-' && s[i + 1] !== undefined && s[i + 1] !== ']') {
        i++;
        hi = classChar();
        if (hi < lo) throw new GoSyntaxError();
      }
      body += classBody([[lo, hi]], false);
    }
    i++; // ']'
    return `[${negated ? '^' : ''}${body}]`;
  };

  let out = '';
  while (i < s.length) {
    const c = s[i];
    if (c === '[') out += charClass();
    else if (c === '.') {
      out += '[^\\n]'; // JS '.' also stops at \r, U+2028 and U+2029
      i++;
    } else if ('^$()*?'.includes(c)) {
      out += c; // Go anchors (a user's '^' too); groups and quantifiers come only from compilePattern
      i++;
    } else if (c !== '\\') {
      out += lit(cp(i++));
    } else if (s[i + 1] === 'Q') {
      // \Q...\E: everything literal up to \E or the end (our '$' included, as in Go).
      i += 2;
      while (i < s.length && !(s[i] === '\\' && s[i + 1] === 'E')) out += lit(cp(i++));
      i += 2;
    } else if (s[i + 1] !== undefined && 'AzbB'.includes(s[i + 1])) {
      out += { A: '^', z: '$', b: '\\b', B: '\\B' }[s[i + 1]]!;
      i += 2;
    } else if (s[i + 1] === 'C') {
      throw new GoSyntaxError();
    } else {
      let atom = unicodeClass();
      if (atom === undefined) {
        const perl = perlClass();
        atom = perl !== undefined ? `[${perl}]` : lit(escape());
      }
      out += atom;
    }
  }
  return out;
}
