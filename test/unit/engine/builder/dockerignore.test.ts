import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ignoreMatcher, parseDockerignore } from '../../../../src/engine/builder/dockerignore';

/** The paths of `paths` that the .dockerignore `text` excludes. */
function excluded(text: string, paths: string[]): string[] {
  const m = ignoreMatcher(parseDockerignore(text));
  return paths.filter((p) => m.ignored(p));
}

describe('.dockerignore reading (ignorefile.ReadAll)', () => {
  it('drops comments and blank lines, trims, and cleans each pattern', () => {
    const text = '\uFEFF# comment\n\n   \n  # indented, so a pattern\r\n  *.log  \n! /keep/me/\n/\n./x\na//b/./c/\n';
    assert.deepEqual(parseDockerignore(text), ['# indented, so a pattern', '*.log', '!keep/me', '/', 'x', 'a/b/c']);
  });

  it("resolves '..' lexically like Go's filepath.Clean, and drops a leading '/' only after cleaning", () => {
    assert.deepEqual(parseDockerignore('a/../b\n/../x\n../x\na/../..\n!/../y'), ['b', 'x', '../x', '..', '!y']);
    // A pattern that climbs out of the context cannot match anything in it.
    assert.deepEqual(excluded('../x', ['x', 'a/x']), []);
  });

  it("trims like Go's TrimSpace: NEL is space, the byte-order mark is not", () => {
    assert.deepEqual(parseDockerignore('\u0085a\u0085\n\uFEFFb'), ['a', '\uFEFFb']);
  });

  it("refuses what patternmatcher refuses, with its messages", () => {
    for (const bad of ['[', 'a[', '[^bc', '[]a]', '[-x]', '[x-]', '[a-b-c]', 'a\\']) {
      assert.throws(() => parseDockerignore(bad), { name: 'InvalidParameterError', message: 'syntax error in pattern' }, bad);
    }
    assert.throws(() => parseDockerignore('*.log\n! \n'), { name: 'InvalidParameterError', message: 'illegal exclusion pattern: "!"' });
    assert.throws(() => ignoreMatcher(['[']), { message: 'syntax error in pattern' });
  });
});

describe('.dockerignore matching (patternmatcher MatchesOrParentMatches)', () => {
  it("'*' stays within one path element", () => {
    assert.deepEqual(excluded('*.log', ['a.log', 'dir/a.log', 'a.log.txt']), ['a.log']);
    assert.deepEqual(excluded('a*/b', ['abc/b', 'a/c/b']), ['abc/b']);
  });

  it("'**' crosses any number of directories, none included", () => {
    assert.deepEqual(excluded('**/*.tmp', ['x.tmp', 'a/x.tmp', 'a/b/c/x.tmp', 'x.tmpl']), ['x.tmp', 'a/x.tmp', 'a/b/c/x.tmp']);
    assert.deepEqual(excluded('a/**/z', ['a/z', 'a/b/z', 'a/b/c/z', 'az']), ['a/z', 'a/b/z', 'a/b/c/z']);
    assert.deepEqual(excluded('**', ['a', 'a/b']), ['a', 'a/b']);
    // 'dir/**' is a prefix test: what is under dir, not dir itself.
    assert.deepEqual(excluded('dir/**', ['dir', 'dir/a', 'dir/a/b']), ['dir/a', 'dir/a/b']);
    // A leading '**' without '/' is a plain suffix test in moby, so it matches inside a name.
    assert.deepEqual(excluded('**foo', ['foo', 'a/foo', 'barfoo']), ['foo', 'a/foo', 'barfoo']);
  });

  it('a directory pattern excludes everything below it, with or without a trailing slash', () => {
    const paths = ['dir', 'dir/a', 'dir/a/b.txt', 'dirx', 'a/dir'];
    assert.deepEqual(excluded('dir/', paths), ['dir', 'dir/a', 'dir/a/b.txt']);
    assert.deepEqual(excluded('dir', paths), ['dir', 'dir/a', 'dir/a/b.txt']);
    assert.deepEqual(excluded('*/a', ['dir/a/b.txt', 'dir/b']), ['dir/a/b.txt']);
  });

  it("'!' re-includes, and the last pattern that applies wins", () => {
    assert.deepEqual(excluded('*.md\n!README.md', ['a.md', 'README.md', 'docs/x.md']), ['a.md']);
    assert.deepEqual(excluded('!a.txt\n*.txt', ['a.txt', 'b.txt']), ['a.txt', 'b.txt']);
    assert.deepEqual(excluded('*.txt\n!a.txt\na.txt', ['a.txt', 'b.txt']), ['a.txt', 'b.txt']);
    // An exception for a directory re-includes what is below it.
    assert.deepEqual(excluded('dir\n!dir/sub', ['dir/x', 'dir/sub', 'dir/sub/f']), ['dir/x']);
  });

  it("matches the context root-relative form: leading '/' and './' mean the same as none", () => {
    assert.deepEqual(excluded('/build\n./tmp/*.o', ['build', 'src/build', 'tmp/a.o']), ['build', 'tmp/a.o']);
  });

  it("'?' is one character other than '/'", () => {
    assert.deepEqual(excluded('?.txt', ['a.txt', 'é.txt', 'ab.txt', '.txt']), ['a.txt', 'é.txt']);
    assert.deepEqual(excluded('a?b', ['a/b', 'axb']), ['axb']);
  });

  it("character classes: ranges and '^' negation; '!' is an ordinary member", () => {
    assert.deepEqual(excluded('[a-c].txt', ['a.txt', 'c.txt', 'd.txt']), ['a.txt', 'c.txt']);
    assert.deepEqual(excluded('[^a-c].txt', ['a.txt', 'd.txt']), ['d.txt']);
    assert.deepEqual(excluded('[!a].txt', ['!.txt', 'a.txt', 'b.txt']), ['!.txt', 'a.txt']);
    assert.deepEqual(excluded('[\\]x]', [']', 'x', '\\']), [']', 'x']);
  });

  it('reads brackets the way the Go regexp built by patternmatcher does', () => {
    // POSIX classes exist only in Go's regexp, not in filepath.Match.
    assert.deepEqual(excluded('log[[:digit:]]', ['log1', 'logx']), ['log1']);
    // '*' inside brackets becomes its own [^/]* class, so '[*]' ends up meaning "…]".
    assert.deepEqual(excluded('a[*]', ['a*', 'a]', 'a[^]']), ['a]', 'a[^]']);
  });

  it("backslash escapes the next character; regexp metacharacters are literal", () => {
    assert.deepEqual(excluded('\\*.txt', ['*.txt', 'a.txt']), ['*.txt']);
    assert.deepEqual(excluded('a\\?', ['a?', 'ab']), ['a?']);
    assert.deepEqual(excluded('a.b\nc+(d)|{e}$*', ['a.b', 'axb', 'c+(d)|{e}$', 'c+(d)|{e}$x', 'cd']), ['a.b', 'c+(d)|{e}$', 'c+(d)|{e}$x']);
  });

  it('fails a match on a pattern Go cannot compile, only once that pattern is tried', () => {
    assert.throws(() => ignoreMatcher(['\\y*']).ignored('a'), { name: 'InvalidParameterError', message: 'syntax error in pattern' });
    // An exception is never tried while nothing is excluded.
    assert.equal(ignoreMatcher(['!\\y*']).ignored('a'), false);
  });

  it('never excludes the context root', () => {
    assert.equal(ignoreMatcher(['*', '**']).ignored('.'), false);
  });
});

describe('skipping excluded directories (mayContainIncluded)', () => {
  it('walks an excluded directory only when an exception names something under it', () => {
    const m = ignoreMatcher(parseDockerignore('dir\nother\n!dir/keep.txt'));
    assert.equal(m.ignored('dir'), true);
    assert.equal(m.ignored('dir/a.txt'), true);
    assert.equal(m.ignored('dir/keep.txt'), false);
    assert.equal(m.mayContainIncluded('dir'), true);
    assert.equal(m.mayContainIncluded('other'), false);
    assert.equal(m.mayContainIncluded('di'), false);
  });

  it("uses the docker CLI's textual test, so a wildcard exception does not reach into a skipped dir", () => {
    assert.equal(ignoreMatcher(['dir', '!**/keep.txt']).mayContainIncluded('dir'), false);
    assert.equal(ignoreMatcher(['dir', '!dir/*.txt']).mayContainIncluded('dir'), true);
    assert.equal(ignoreMatcher(['*']).mayContainIncluded('dir'), false);
  });
});
