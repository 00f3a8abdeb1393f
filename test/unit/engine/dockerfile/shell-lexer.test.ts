import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDockerfile } from '../../../../src/engine/dockerfile/instructions';
import { expandInstructionArgs, expandsEnv, expandWord, expandWords } from '../../../../src/engine/dockerfile/shell-lexer';

const env = { HOME: '/root', EMPTY: '', SPACED: 'a  b', KOREAN: '한국어' };

describe('expandWord', () => {
  it('expands $VAR and ${VAR}; unknown names are empty; other `$` stay', () => {
    assert.equal(expandWord('$HOME/x', env), '/root/x');
    assert.equal(expandWord('a${HOME}b', env), 'a/rootb');
    assert.equal(expandWord('[$NOPE]', env), '[]');
    assert.equal(expandWord('$KOREAN!', env), '한국어!');
    assert.equal(expandWord('he$1x', env), 'hex');
    assert.equal(expandWord('cost: 5$', env), 'cost: 5$');
    assert.equal(expandWord('$.', env), '$.');
  });

  it('the default and alternative forms tell unset from empty', () => {
    assert.equal(expandWord('${NOPE:-d} ${EMPTY:-d} ${HOME:-d}', env), 'd d /root');
    assert.equal(expandWord('${NOPE-d} ${EMPTY-d} ${HOME-d}', env), 'd  /root');
    assert.equal(expandWord('${NOPE:+a} ${EMPTY:+a} ${HOME:+a}', env), '  a');
    assert.equal(expandWord('${NOPE+a} ${EMPTY+a} ${HOME+a}', env), ' a a');
    assert.equal(expandWord('${NOPE:-${ALSO:-$HOME}}', env), '/root');
  });

  it('${VAR?msg} and ${VAR:?msg} fail with the message', () => {
    assert.equal(expandWord('${HOME:?x}', env), '/root');
    assert.equal(expandWord('${EMPTY?x}', env), '');
    assert.throws(() => expandWord('${NOPE:?must be set}', env), { name: 'InvalidParameterError', message: 'failed to process "${NOPE:?must be set}": NOPE: must be set' });
    assert.throws(() => expandWord('${EMPTY:?}', env), { message: 'failed to process "${EMPTY:?}": EMPTY: is not allowed to be empty' });
    assert.throws(() => expandWord('${NOPE?}', env), { message: 'failed to process "${NOPE?}": NOPE: is not allowed to be unset' });
  });

  it('pattern removal and replacement', () => {
    const file = { F: 'dir/name.tar.gz' };
    assert.equal(expandWord('${F#*/} ${F%.*} ${F%%.*} ${F##*.}', file), 'name.tar.gz dir/name.tar dir/name gz');
    assert.equal(expandWord('${F/./-} ${F//./-}', file), 'dir/name-tar.gz dir/name-tar-gz');
  });

  it('quotes: single literal, double expand; both removed', () => {
    assert.equal(expandWord("'$HOME'", env), '$HOME');
    assert.equal(expandWord('"$HOME"', env), '/root');
    assert.equal(expandWord('"it\'s"', env), "it's");
    assert.equal(expandWord("he'll'o", env), 'hello');
    assert.equal(expandWord('"a \\"b\\" \\$HOME \\n"', env), 'a "b" $HOME \\n');
    assert.equal(expandWord("'a\\'", env), 'a\\');
  });

  it('the escape token escapes any character; a trailing one is dropped', () => {
    assert.equal(expandWord('\\$HOME', env), '$HOME');
    assert.equal(expandWord('a\\ b\\t', env), 'a bt');
    assert.equal(expandWord('x\\', env), 'x');
    assert.equal(expandWord('`$HOME \\x', env, '`'), '$HOME \\x');
  });

  it('syntax errors', () => {
    const fails = (word: string, message: string) => assert.throws(() => expandWord(word, env), { name: 'InvalidParameterError', message });
    fails("it's", 'failed to process "it\'s": unexpected end of statement while looking for matching single-quote');
    fails('"open', 'failed to process "\\"open": unexpected end of statement while looking for matching double-quote');
    fails('${HOME:-x', "failed to process \"${HOME:-x\": syntax error: missing '}'");
    fails('${', "failed to process \"${\": syntax error: missing '}'");
    fails('${}', 'failed to process "${}": syntax error: bad substitution');
    fails('${:-x}', 'failed to process "${:-x}": syntax error: bad substitution');
    fails('${HOME:=x}', 'failed to process "${HOME:=x}": unsupported modifier (:=) in substitution');
    fails('${HOME', 'failed to process "${HOME": unsupported modifier (\ufffd) in substitution');
  });
});

describe('expandWords', () => {
  it('splits on unquoted blanks, after expansion', () => {
    assert.deepEqual(expandWords('80 $PORTS', { PORTS: '443  8080/udp' }), ['80', '443', '8080/udp']);
    assert.deepEqual(expandWords('x"$SPACED"y "" z\\ w', env), ['xa  by', 'z w']);
    assert.deepEqual(expandWords('  ', env), []);
  });
});

describe('expandInstructionArgs', () => {
  const instructions = (text: string) => parseDockerfile(text).instructions;
  const vars = { NAME: 'app', DIR: '/srv', PORTS: '80 443', V: '1.0' };

  it('ENV and LABEL: keys and values expanded and unquoted, all with the env before the line', () => {
    const [, envIns, label] = instructions('FROM a\nENV A=$NAME B="${A:-none} x" $NAME=1\nLABEL "v"="$V" legacy=\'$V\'');
    assert.deepEqual(expandInstructionArgs(envIns, vars), ['A', 'app', 'B', 'none x', 'app', '1']);
    assert.deepEqual(expandInstructionArgs(label, vars), ['v', '1.0', 'legacy', '$V']);
    const [, legacy] = instructions('FROM a\nENV GREETING hello "$NAME"  world');
    assert.deepEqual(expandInstructionArgs(legacy, vars), ['GREETING', 'hello app  world']);
  });

  it('COPY, WORKDIR, USER, VOLUME, ARG expand each word', () => {
    const [, copy, json, workdir, arg] = instructions('FROM a\nCOPY ${NAME}.tar "$DIR"/x\nCOPY ["$NAME", "/dst"]\nWORKDIR $DIR/$NAME\nARG X=$V Y');
    assert.deepEqual(expandInstructionArgs(copy, vars), ['app.tar', '/srv/x']);
    // Shell-form COPY splits on blanks before expansion, so quotes do not group words.
    assert.throws(() => expandInstructionArgs(instructions('FROM a\nCOPY "a b" /c')[1], vars), { message: /looking for matching double-quote/ });
    assert.deepEqual(expandInstructionArgs(json, vars), ['app', '/dst']);
    assert.deepEqual(expandInstructionArgs(workdir, vars), ['/srv/app']);
    assert.deepEqual(expandInstructionArgs(arg, vars), ['X=1.0', 'Y']);
  });

  it('EXPOSE sorts its words, then splits what they expand to', () => {
    const [, expose] = instructions('FROM a\nEXPOSE $PORTS 53/udp "$V"');
    assert.deepEqual(expandInstructionArgs(expose, vars), ['1.0', '80', '443', '53/udp']);
  });

  it('FROM expands the image only; RUN, CMD, ONBUILD and HEALTHCHECK are left alone', () => {
    const [from, run, cmd, onbuild] = instructions('FROM img:$V AS build\nRUN echo $NAME\nCMD ["$NAME"]\nONBUILD WORKDIR $DIR');
    assert.deepEqual(expandInstructionArgs(from, vars), ['img:1.0', 'AS', 'build']);
    assert.deepEqual(expandInstructionArgs(run, vars), ['echo $NAME']);
    assert.deepEqual(expandInstructionArgs(cmd, vars), ['$NAME']);
    assert.deepEqual(expandInstructionArgs(onbuild, vars), ['WORKDIR $DIR']);
  });

  it('expandsEnv lists the instructions dockerd expands', () => {
    assert.deepEqual(
      ['add', 'arg', 'cmd', 'copy', 'entrypoint', 'env', 'expose', 'from', 'healthcheck', 'label', 'onbuild', 'run', 'shell', 'stopsignal', 'user', 'volume', 'workdir'].filter(expandsEnv),
      ['add', 'arg', 'copy', 'env', 'expose', 'from', 'label', 'stopsignal', 'user', 'volume', 'workdir'],
    );
  });
});
