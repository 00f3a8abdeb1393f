import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDockerfile, type Instruction } from '../../../../src/engine/dockerfile/instructions';

/** The instructions of `text` without the fields a test does not look at. */
function parse(text: string): Array<Pick<Instruction, 'cmd' | 'flags' | 'args' | 'json'>> {
  return parseDockerfile(text).instructions.map(({ cmd, flags, args, json }) => ({ cmd, flags, args, json }));
}

const plain = (cmd: string, args: string[], flags: Record<string, string> = {}) => ({ cmd, flags, args, json: false });

describe('parseDockerfile: lines', () => {
  it('joins continuations, skips comments and blank lines inside them, and keeps line numbers', () => {
    const { instructions } = parseDockerfile(['FROM busybox', '', '# a comment', 'RUN echo a \\', '  # inside', '', '    && echo b', 'CMD x'].join('\n'));
    assert.deepEqual(
      instructions.map((i) => [i.cmd, i.args, i.line, i.original]),
      [
        ['from', ['busybox'], 1, 'FROM busybox'],
        ['run', ['echo a     && echo b'], 4, 'RUN echo a     && echo b'],
        ['cmd', ['x'], 8, 'CMD x'],
      ],
    );
  });

  it('honours `# escape=` (and `# syntax=`) at the top only', () => {
    const parsed = parseDockerfile('# syntax=docker/dockerfile:1\n# escape=`\nFROM windows\nRUN dir c:\\ `\n  && echo done\n');
    assert.equal(parsed.escapeToken, '`');
    assert.deepEqual(parsed.instructions[1].args, ['dir c:\\   && echo done']);
    // After an instruction (or any other line) a directive is only a comment.
    const late = parseDockerfile('FROM a\n# escape=`\nRUN echo \\\n  b');
    assert.equal(late.escapeToken, '\\');
    assert.deepEqual(late.instructions[1].args, ['echo   b']);
  });

  it('does not continue a line ending in an escaped escape token', () => {
    assert.deepEqual(parse('FROM a\nRUN echo \\\\\nRUN b').slice(1), [plain('run', ['echo \\\\']), plain('run', ['b'])]);
  });

  it('accepts leading blanks, CRLF, a BOM and keywords in any case', () => {
    assert.deepEqual(parse('\ufeff  from a\r\n\trun x \\\r\n  y\r\n'), [plain('from', ['a']), plain('run', ['x   y'])]);
  });
});

describe('parseDockerfile: arguments per instruction', () => {
  it('RUN, CMD, ENTRYPOINT: JSON (exec) form or the rest of the line', () => {
    assert.deepEqual(parse('FROM a\nRUN ["echo", "hi there"]\nCMD echo "$HOME"\nENTRYPOINT [ -f x ]\nCMD []').slice(1), [
      { cmd: 'run', flags: {}, args: ['echo', 'hi there'], json: true },
      plain('cmd', ['echo "$HOME"']),
      plain('entrypoint', ['[ -f x ]']),
      { cmd: 'cmd', flags: {}, args: [], json: true },
    ]);
  });

  it('ENV and LABEL: key/value pairs with quotes kept, and the legacy form', () => {
    assert.deepEqual(parse('FROM a\nENV A=1 B="two words" C=it\\\'s\nENV LEGACY some "quoted" value\nLABEL "com.x"="y z" a=b').slice(1), [
      plain('env', ['A', '1', 'B', '"two words"', 'C', "it\\'s"]),
      plain('env', ['LEGACY', 'some "quoted" value']),
      plain('label', ['"com.x"', '"y z"', 'a', 'b']),
    ]);
  });

  it('COPY, ADD, VOLUME: JSON or words; FROM, EXPOSE: words; flags before the arguments', () => {
    assert.deepEqual(parse('FROM --platform=linux/amd64 busybox AS build\nCOPY --from=build --chown=1:1 ["a b", "/c"]\nADD --link x y /z\nVOLUME /v1  /v2\nEXPOSE 80 53/udp'), [
      plain('from', ['busybox', 'AS', 'build'], { platform: 'linux/amd64' }),
      { cmd: 'copy', flags: { from: 'build', chown: '1:1' }, args: ['a b', '/c'], json: true },
      plain('add', ['x', 'y', '/z'], { link: '' }),
      plain('volume', ['/v1', '/v2']),
      plain('expose', ['80', '53/udp']),
    ]);
  });

  it('flags: quotes removed, `--` ends them, values stay unexpanded', () => {
    assert.deepEqual(parse('FROM a\nCOPY --chown="$U:g" -- --x y').slice(1), [plain('copy', ['--x', 'y'], { chown: '$U:g' })]);
  });

  it('ARG, USER, WORKDIR, STOPSIGNAL, MAINTAINER', () => {
    assert.deepEqual(parse('ARG V=1 W\nFROM a\nUSER app:app\nWORKDIR /my dir\nSTOPSIGNAL SIGINT\nMAINTAINER Jo <jo@x>'), [
      plain('arg', ['V=1', 'W']),
      plain('from', ['a']),
      plain('user', ['app:app']),
      plain('workdir', ['/my dir']),
      plain('stopsignal', ['SIGINT']),
      plain('maintainer', ['Jo <jo@x>']),
    ]);
  });

  it('ONBUILD keeps its trigger as written', () => {
    assert.deepEqual(parse('FROM a\nonbuild COPY --from=b x /y').slice(1), [plain('onbuild', ['COPY --from=b x /y'])]);
  });

  it('HEALTHCHECK: NONE, or CMD with flags in either form', () => {
    assert.deepEqual(parse('FROM a\nHEALTHCHECK none\nHEALTHCHECK --interval=5s --retries=3 CMD curl -f localhost\nHEALTHCHECK CMD ["wget", "-q"]').slice(1), [
      plain('healthcheck', ['NONE']),
      plain('healthcheck', ['CMD', 'curl -f localhost'], { interval: '5s', retries: '3' }),
      { cmd: 'healthcheck', flags: {}, args: ['CMD', 'wget', '-q'], json: true },
    ]);
  });

  it('SHELL takes the JSON form', () => {
    assert.deepEqual(parse('FROM a\nSHELL ["/bin/bash", "-c"]').slice(1), [{ cmd: 'shell', flags: {}, args: ['/bin/bash', '-c'], json: true }]);
  });
});

describe('parseDockerfile: errors, with dockerd\'s messages', () => {
  const fails = (text: string, message: string, fileName?: string) =>
    assert.throws(() => parseDockerfile(text, fileName), { name: 'InvalidParameterError', message });

  it('empty files and files without instructions', () => {
    fails('', 'the Dockerfile (Dockerfile) cannot be empty');
    fails('', 'the Dockerfile (build/Dockerfile.dev) cannot be empty', 'build/Dockerfile.dev');
    fails('\n# only a comment\n', 'failed to parse Dockerfile: file with no instructions');
  });

  it('unknown instructions, with buildkit\'s suggestion', () => {
    fails('FROM a\nFOO bar', 'dockerfile parse error on line 2: unknown instruction: FOO (did you mean FROM?)');
    fails('FROM a\nrunn x', 'dockerfile parse error on line 2: unknown instruction: runn (did you mean run?)');
    fails('FROM a\nXYZZY x', 'dockerfile parse error on line 2: unknown instruction: XYZZY');
  });

  it('syntax errors found while reading lines', () => {
    fails('# escape=x\nFROM a', "failed to parse Dockerfile: invalid escape token 'x' does not match ` or \\");
    fails('# escape=`\n# escape=`\nFROM a', 'failed to parse Dockerfile: only one escape parser directive can be used');
    fails('FROM a\nENV A', 'failed to parse Dockerfile: ENV must have two arguments');
    fails('FROM a\nLABEL a=b c', 'failed to parse Dockerfile: Syntax error - can\'t find = in "c". Must be of the form: name=value');
    fails('FROM a\nRUN ["a", 1]', 'failed to parse Dockerfile: when using JSON array syntax, arrays must be comprised of strings only');
  });

  it('argument checks of each instruction', () => {
    fails('FROM a b', 'dockerfile parse error on line 1: FROM requires either one or three arguments');
    fails('FROM a AS 1st', 'dockerfile parse error on line 1: invalid name for build stage: "1st", name can\'t start with a number or contain symbols');
    fails('FROM a\nSHELL /bin/sh -c', 'dockerfile parse error on line 2: SHELL requires the arguments to be in JSON form');
    fails('FROM a\nCOPY a', 'dockerfile parse error on line 2: COPY requires at least two arguments, but only one was provided. Destination could not be determined');
    fails('FROM a\nWORKDIR', 'dockerfile parse error on line 2: WORKDIR requires exactly one argument');
    fails('FROM a\nEXPOSE', 'dockerfile parse error on line 2: EXPOSE requires at least one argument');
    fails('FROM a\nARG =x', 'dockerfile parse error on line 2: ARG names can not be blank');
    fails('FROM a\nVOLUME [""]', 'dockerfile parse error on line 2: VOLUME specified can not be an empty string');
    fails('FROM a\nONBUILD ONBUILD RUN x', 'dockerfile parse error on line 2: Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
    fails('FROM a\nONBUILD from b', 'dockerfile parse error on line 2: FROM isn\'t allowed as an ONBUILD trigger');
    fails('FROM a\nHEALTHCHECK NONE x', 'dockerfile parse error on line 2: HEALTHCHECK NONE takes no arguments');
    fails('FROM a\nHEALTHCHECK CMD', 'dockerfile parse error on line 2: Missing command after HEALTHCHECK CMD');
    fails('FROM a\nHEALTHCHECK PING x', 'dockerfile parse error on line 2: Unknown type "PING" in HEALTHCHECK (try CMD)');
  });

  it('flag checks', () => {
    fails('FROM a\nCOPY --chown a b', 'dockerfile parse error on line 2: Missing a value on flag: chown');
    fails('FROM a\nCOPY --mode=1 a b', 'dockerfile parse error on line 2: Unknown flag: mode');
    fails('FROM a\nCOPY --link=yes a b', 'dockerfile parse error on line 2: Expecting boolean value for flag link, not: yes');
    fails('FROM a\nCOPY --from=x --from=y a b', 'dockerfile parse error on line 2: Duplicate flag specified: from');
    fails('FROM a\nCMD --x=1 echo', 'dockerfile parse error on line 2: Unknown flag: x');
    // moby never checks the flags of STOPSIGNAL, ARG and HEALTHCHECK NONE.
    assert.deepEqual(parse('FROM a\nSTOPSIGNAL --x=1 9')[1].flags, { x: '1' });
  });
});
